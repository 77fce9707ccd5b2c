/**
 * `neurocache manifest build DIR`: the Python builder's manifest.json, written from the caches.
 * Its own bundle (out/cli-build.js, started by entry.ts) holds only what a build runs: a short
 * process whose start-up is a large part of its time (issue 22) never compiles the checks.
 */
import { promises as fs } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { buildManifestFile, describeExcluded, MANIFEST_FILE } from '../service/buildManifest';
import { ProjectConfigs } from '../service/projectConfig';
import { listFolder } from '../service/npzListing';
import { startProjectFileReads } from '../service/projectFile';
import { excludeOptions, InputError, Io, reportProjectProblems, withInspector } from './commandIo';
import { onLocalFileSystem, sizeIoThreads } from './localIoThreads';
import { ProgressBar } from './progress';
import { numberValue, ParsedOptions, UsageError } from './spec';

/**
 * Inflated labels a build counts on the main thread alone (pool.ts): about 70 caches of 60
 * windows. A build whose files hold more starts a thread at its first file and counts here
 * alongside it. A thread costs ~40 ms to start and then runs its code cold; measured on 2 loaded
 * cores, counting 40 such files here took 17% less CPU than handing 23 of them to a thread after
 * the first 64 MiB, in the same wall time.
 */
const BUILD_COUNT_HERE_BYTES = 256 << 20;

/**
 * Threads a build counts with (`--jobs`, by default one fewer than the cores), and what the main
 * thread may count alone. A local build with a single thread counts everything here: measured
 * on 2 cores (farm-bench, paired), a thread beside the main one made the bench's 160 and 640-file
 * builds slower (wall 1.17x and 1.09x, CPU 1.37x and 1.28x of counting here alone): handing files
 * over one by one and taking their results back cost the main thread about what the thread saved
 * it, and the thread waited for work half the time. More threads keep the allowance above.
 */
function buildThreads(options: ParsedOptions, local: boolean): { threads: number; countHereBytes: number } {
  const threads = numberValue(options, 'jobs') ?? Math.max(1, availableParallelism() - 1);
  return { threads, countHereBytes: local && threads === 1 ? Number.MAX_SAFE_INTEGER : BUILD_COUNT_HERE_BYTES };
}

export async function manifestBuild(options: ParsedOptions, io: Io): Promise<number> {
  const { values, positionals } = options;
  if (positionals.length !== 1) throw new UsageError('manifest build takes exactly one cache directory');
  const directory = path.resolve(positionals[0]);
  // Local or network storage, decided by the file system's type (statfs, no thread pool used):
  // on a local disk each cache file is read where it is counted, with synchronous calls; on
  // anything else (NFS, SMB, FUSE, unknown) the main thread reads many files at once.
  const local = onLocalFileSystem(directory);
  const { threads, countHereBytes } = buildThreads(options, local);
  sizeIoThreads(local);
  // The listing is asked for with the stat (one round trip for both on network storage, not two
  // in a row); on anything but a directory both fail and the stat's verdict is the one reported.
  const listing = listFolder(directory);
  listing.catch(() => undefined);
  // The project file that applies to the manifest written here, as the editor's rebuild reads
  // it: looked for alongside the stat and the listing too, in every folder up the tree at once
  // and in the cache folder from its listing.
  const projectReads = startProjectFileReads(directory, new Map(), (d) => (d === directory ? listing : undefined));
  const projectLookup = new ProjectConfigs(projectReads).for(path.join(directory, MANIFEST_FILE));
  projectLookup.catch(() => undefined);
  const stat = await fs.stat(directory).catch(() => undefined);
  if (!stat?.isDirectory()) throw new InputError(`${positionals[0]} is not a directory`);
  const fromCommandLine = excludeOptions(values);
  const project = await projectLookup;
  reportProjectProblems([project], io);
  const exclude = [...project.exclude, ...fromCommandLine];
  return withInspector(
    options,
    async (inspector, saveEarly) => {
      const bar = new ProgressBar('Scanning', io.stderr, io.stderr.isTTY === true && !values.json);
      const result = await buildManifestFile(directory, inspector, {
        listing,
        onProgress: (d, t) => bar.update(d, t),
        allowEmpty: !!values['allow-empty'],
        exclude,
        onCounted: saveEarly,
      });
      bar.finish();
      // Exit 1 when nothing was written, or when the Python builder would stop on a file (training
      // then has no balanced set): a script must not take that for success.
      const exitCode = !result.written || result.pythonStopsAt ? 1 : 0;
      if (values.json) {
        io.stdout.write(`${JSON.stringify({ ...result, bytesRead: inspector.pool.bytesRead })}\n`);
        return exitCode;
      }
      if (!result.written) {
        io.stderr.write(
          `neurocache: no *.npz in ${directory}: nothing written (--allow-empty writes an empty manifest.json)\n`,
        );
        return exitCode;
      }
      if (result.pythonStopsAt) {
        const { name, exception } = result.pythonStopsAt;
        io.stderr.write(
          `The Python builder would stop at ${name} (${exception}) and write no manifest: delete or regenerate that file before training rebuilds the manifest. NeuroCache wrote one without it (exit code 1).\n`,
        );
      }
      const w = result.windows;
      io.stdout.write(
        `Wrote ${result.manifestPath}\n` +
          `  ${result.files} cache files listed, ${w.partial_seizure + w.full_seizure + w.no_seizure} windows: ` +
          `${w.partial_seizure} partial, ${w.full_seizure} full, ${w.no_seizure} no seizure\n` +
          // Says what the count above leaves out, so it agrees with `stats` ("Cache files": those the manifest names).
          (result.found !== result.files
            ? `  ${result.found} *.npz found: ${[
                result.withoutWindows.length ? `${result.withoutWindows.length} without windows (nothing to list)` : '',
                result.skipped.length ? `${result.skipped.length} left out (listed below)` : '',
                result.excluded.length ? `${result.excluded.length} excluded on purpose (listed below)` : '',
              ]
                .filter(Boolean)
                .join(', ')}\n`
            : ''),
      );
      // Each file left out, with its code and what the Python builder does with it.
      for (const s of result.skipped) io.stderr.write(`skipped ${s.name}: ${s.reason} [${s.code}: ${s.python}]\n`);
      for (const e of result.excluded)
        io.stderr.write(`excluded ${e.name}: by "${e.pattern}" in ${e.source} [${e.python}]\n`);
      for (const { name, note } of result.notes) io.stderr.write(`note ${name}: ${note}\n`);
      for (const f of result.windowFindings) io.stderr.write(`${f.severity} ${f.name} [${f.code}]: ${f.message}\n`);
      if (result.differsFromPython)
        io.stderr.write(
          'This manifest leaves out files the Python builder lists: it differs from what Python writes.\n',
        );
      const excluded = describeExcluded(result.excluded);
      if (excluded) io.stderr.write(`${excluded}\n`);
      return exitCode;
    },
    // Nothing else runs here: this thread counts the first files (a thread would still be starting)
    // and then helps the threads, so by default they are one fewer than the cores.
    { countHereBytes, localReads: local, defaultThreads: threads },
  );
}
