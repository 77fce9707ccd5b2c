/**
 * What every command of the CLI shares, in whichever bundle it runs (cli-main, or cli-build for
 * `manifest build` alone): its streams, the errors that end it with exit code 2, how a failure
 * is reported, and the inspector (fingerprint store and worker pool) it reads caches with.
 */
import type { ExcludeRule } from '../engine/eeg/buildExclude';
import { BUILD_EXCLUDE } from '../protocol';
import { CacheInspector } from '../service/inspector';
import type { ProjectConfig } from '../service/projectConfig';
import { defaultStoreDirectory, FingerprintStore } from '../service/fingerprints';
import { PoolOptions, WorkerPool } from '../workers/pool';
import { CommandSpec, numberValue, ParsedOptions, synopsis, UsageError } from './spec';

/** Input the command cannot work with (exit 2, without the usage text). */
export class InputError extends Error {}

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
}

/** The message and exit code of a command that threw: 2 for bad usage or input, else 1. */
export function reportFailure(error: unknown, command: CommandSpec | undefined, io: Io): number {
  if (error instanceof UsageError) {
    io.stderr.write(`neurocache: ${error.message}\n\n${usageHint(error.command ?? command)}`);
    return 2;
  }
  if (error instanceof InputError) {
    io.stderr.write(`neurocache: ${error.message}\n`);
    return 2;
  }
  io.stderr.write(`neurocache: ${(error as Error).message}\n`);
  return 1;
}

function usageHint(command: CommandSpec | undefined): string {
  return command
    ? `Usage: ${synopsis(command)}\nRun "neurocache ${command.name} --help" for its options.\n`
    : 'Usage: neurocache <command> [options]\nRun "neurocache --help" for the commands.\n';
}

export async function withInspector<T>(
  options: ParsedOptions,
  run: (inspector: CacheInspector, saveEarly: () => void) => Promise<T>,
  pooling: Pick<PoolOptions, 'countHereBytes' | 'localReads'> & { defaultThreads?: number } = {},
): Promise<T> {
  const { values } = options;
  const store = FingerprintStore.inDirectory(
    typeof values['cache-dir'] === 'string' ? values['cache-dir'] : defaultStoreDirectory(),
  );
  // Loaded while the command's first reads are under way; the inspector waits for it before asking the store.
  const loading = store.load();
  const readsInFlight = numberValue(options, 'reads-in-flight');
  const { defaultThreads, ...poolOptions } = pooling;
  const pool = new WorkerPool(numberValue(options, 'jobs') ?? defaultThreads, { readsInFlight, ...poolOptions });
  const save = () => loading.then(() => store.save());
  // A command done counting saves then, beside its own last writes, not after them (the store
  // runs one save at a time and writes only what changed); a failure there is left to the save
  // on the way out, which tries again and reports it.
  const saveEarly = () => void save().catch(() => undefined);
  try {
    return await run(new CacheInspector(pool, store, loading), saveEarly);
  } finally {
    await Promise.all([
      pool.close(),
      save().catch((error) =>
        process.stderr.write(`neurocache: could not save fingerprints: ${(error as Error).message}\n`),
      ),
    ]);
  }
}

/** `--exclude GLOB`, repeatable; a pattern with a `/` is relative to the current directory. */
export function excludeOptions(values: Record<string, unknown>): ExcludeRule[] {
  const given = values.exclude;
  const patterns = Array.isArray(given) ? (given as string[]) : [];
  for (const pattern of patterns)
    if (pattern.trim() === '') throw new UsageError(`${BUILD_EXCLUDE.flag} takes a glob pattern, not an empty value`);
  return patterns.map((pattern) => ({ pattern, base: process.cwd(), source: BUILD_EXCLUDE.flag }));
}

/** Stops on a project file that cannot be used at all; says once which of its entries are ignored. */
export function reportProjectProblems(configs: ProjectConfig[], io: Io): void {
  const told = new Set<string>();
  for (const config of configs) {
    if (!config.file || told.has(config.file)) continue;
    told.add(config.file);
    if (config.error) throw new InputError(config.error);
    for (const problem of config.problems) io.stderr.write(`neurocache: ${config.file}: ${problem}; ignored\n`);
  }
}
