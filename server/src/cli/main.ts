/**
 * `neurocache` command line (docs/cli.md): the same engine and worker pool as the editor, for
 * terminals, CI and training boxes. Exit codes: 0 ok, 1 errors found (or the job failed), 2 bad usage.
 */
import '../threadpool'; // first: sizes libuv's thread pool before any fs call starts it
import { exitQuietlyOnClosedPipe } from './closedPipe';
import { promises as fs, Stats } from 'node:fs';
import * as path from 'node:path';
import { LineIndex } from '../engine/diagnostics';
import {
  datasetIndexReport,
  datasetReport,
  foldsReport,
  manifestReport,
  plural,
  readCostReport,
  textTable,
} from '../engine/report';
import { CvSettings, DEFAULT_CV, foldsJson } from '../engine/arc/folds';
import { DEFAULT_RESAMPLE_METHOD, RESAMPLE_METHODS, ResampleMethod } from '../engine/arc/preprocessing';
import { preprocessingJson, preprocessingReport } from '../engine/preprocessingReport';
import { WorkerPool } from '../workers/pool';
import { Analysis, analyzeDocument } from '../service/analyze';
import { detectDocument } from '../service/detect';
import { decodedJson, readJsonFile } from '../service/readJson';
import type { EarlyReads } from './earlyReads';
import type { PythonJsonError } from '../engine/json/pythonJsonLoad';
import { balancedPicks, CompositionSettings, DEFAULT_COMPOSITION } from '../engine/eeg/composition';
import { sampleCost } from '../engine/eeg/readCost';
import { danglingTarget } from '../service/inspector';
import { excludeOptions, InputError, Io, reportFailure, reportProjectProblems, withInspector } from './commandIo';
import { manifestBuild } from './manifestBuild';
import { NotReadableFile } from '../service/regularFile';
import { ARC_DOWNLOAD_DEFAULTS, DEFAULT_MACHINE_SETTINGS, formatBytes, formatWait } from '../protocol';
import { bundleBeside } from '../bundles';
import {
  COMMANDS,
  CommandSpec,
  commandHelp,
  commandsInGroup,
  findCommand,
  generalHelp,
  groupHelp,
  nearestCommand,
  numberValue,
  parseCommand,
  ParsedOptions,
  UsageError,
  HELP,
  asksForHelp,
} from './spec';
import { applySeverityOverrides, mergeOverrides, parseSeverityArgument, SeverityOverrides } from '../engine/severity';
import { ProjectConfigs } from '../service/projectConfig';
import { findWorkspaceFiles } from '../service/workspace';
import { NEUROCACHE_VERSION as VERSION, VERSION_ARGUMENTS } from '../version';
import type { DownloadOptions } from '../download/arc';
import { hubEndpoint, hubOfflineVariable, hubToken, netTimingFromEnv, retryBaseFromEnv } from '../download/config';

/** `stat` and `reading`: the file's stat and read already asked for (by `check`'s look at what it was given). */
async function readInput(
  file: string,
  stat: Promise<Stats> = fs.stat(file),
  reading: ReturnType<typeof readJsonFile> = readJsonFile(file, { statted: stat }),
): Promise<{ text: string; decodeError?: PythonJsonError }> {
  // Only regular files and at most MAX_JSON_BYTES: a FIFO would block forever, /dev/zero never end.
  // Read while the stat is answered (each a round trip or more on network storage); a directory's read is dropped.
  reading.catch(() => undefined);
  try {
    if ((await stat).isDirectory()) throw new InputError(`${file} is a directory, not a JSON file`);
    return await reading;
  } catch (error) {
    if (error instanceof InputError) throw error;
    if (error instanceof NotReadableFile) throw new InputError(error.message);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      const target = await danglingTarget(file);
      throw new InputError(
        `cannot read ${file}: ${target === undefined ? 'no such file' : `dangling symbolic link to ${target}`}`,
      );
    }
    throw new InputError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

/** --cv-seed, --outer-folds and --inner-folds, within their settings' ranges. */
function cvOptions(options: ParsedOptions): CvSettings {
  return {
    seed: numberValue(options, 'cv-seed') ?? DEFAULT_CV.seed,
    outerFolds: numberValue(options, 'outer-folds') ?? DEFAULT_CV.outerFolds,
    innerFolds: numberValue(options, 'inner-folds') ?? DEFAULT_CV.innerFolds,
  };
}

/** `--severity CODE=LEVEL`, repeatable: later ones win. */
function severityOptions(values: Record<string, unknown>): SeverityOverrides {
  const given = values.severity;
  const overrides: SeverityOverrides = {};
  for (const argument of Array.isArray(given) ? (given as string[]) : []) {
    try {
      const [code, level] = parseSeverityArgument(argument);
      overrides[code] = level;
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  return overrides;
}

/**
 * The files `check` was given: files as named (explicit: a broken file of our name is ours), and
 * for each directory the manifest.json / _dataset_index.json / dataset_info.json under it, as
 * the editor's workspace scan finds them (not explicit: only those that are NeuroCache's).
 */
async function checkTargets(
  positionals: string[],
  early: EarlyReads | undefined,
): Promise<{ file: string; explicit: boolean; stat?: Promise<Stats>; reading?: ReturnType<typeof readJsonFile> }[]> {
  const targets: {
    file: string;
    explicit: boolean;
    stat?: Promise<Stats>;
    reading?: ReturnType<typeof readJsonFile>;
  }[] = [];
  for (const given of positionals) {
    // Read while the stat says whether it is a directory (each a round trip or more on network
    // storage); a directory's read (an open and an fstat that refuses it) is dropped. The read
    // takes this stat as the one beside its open: one lookup of the name, not two. Both may have
    // been started by the executable already (earlyReads.ts); each is used once.
    const started = early?.files.get(given);
    early?.files.delete(given);
    const asked = started?.stat ?? fs.stat(given);
    const reading = started ? decodedJson(started.bytes) : readJsonFile(given, { statted: asked });
    asked.catch(() => undefined);
    reading.catch(() => undefined);
    const stat = await asked.catch(() => undefined);
    if (!stat?.isDirectory()) targets.push({ file: given, explicit: true, stat: asked, reading });
    else {
      const found = await findWorkspaceFiles([given], []);
      if (found.length === 0)
        throw new InputError(`no manifest.json, _dataset_index.json or dataset_info.json under ${given}`);
      for (const file of found) targets.push({ file, explicit: false });
    }
  }
  return targets;
}

/** --resample-method, as arc-meshchop's own option validates it. */
function resampleOption(values: Record<string, unknown>): ResampleMethod {
  const raw = values['resample-method'];
  if (raw === undefined) return DEFAULT_RESAMPLE_METHOD;
  if (!(RESAMPLE_METHODS as readonly unknown[]).includes(raw))
    throw new UsageError(`--resample-method takes ${RESAMPLE_METHODS.join(' or ')}, not "${raw}"`);
  return raw as ResampleMethod;
}

/** `early`: the reads the executable started before loading this bundle (earlyReads.ts). */
async function check(options: ParsedOptions, io: Io, early?: EarlyReads): Promise<number> {
  const { values, positionals } = options;
  const cv = cvOptions(options);
  const fromCommandLine = severityOptions(values);
  const resampleMethod = resampleOption(values);
  if (positionals.length === 0) throw new UsageError('check needs at least one JSON file or directory');
  if (values.deep && values['no-content'])
    throw new UsageError('--deep reads the cache windows, which --no-content forbids: pass one of them');
  const excludeFromCommandLine = excludeOptions(values);
  return withInspector(options, async (inspector) => {
    // A manifest's folder is listed and its caches stat-ed while the manifest is read (each a
    // round trip on network storage): the check asks for those stats next.
    if (!values['no-content'])
      for (const given of positionals)
        if (given.endsWith('.json')) {
          const folder = path.dirname(path.resolve(given));
          inspector.prefetchNpzStats(folder, early?.folders.get(folder));
        }
    // A named file's project file is looked for while checkTargets stats it (a round trip or more each on network storage).
    const projects = new ProjectConfigs(early?.projectFiles);
    for (const given of positionals) if (given.endsWith('.json')) projects.for(given).catch(() => undefined);
    const targets = await checkTargets(positionals, early);
    const [texts, configs] = await Promise.all([
      Promise.all(targets.map((t) => readInput(t.file, t.stat, t.reading))),
      Promise.all(targets.map((t) => projects.for(t.file))),
    ]);
    reportProjectProblems(configs, io);
    const files = [];
    let errors = 0;
    for (const [i, { file, explicit }] of targets.entries()) {
      const { text, decodeError } = texts[i];
      // Named explicitly: an empty or broken manifest.json / dataset_info.json / _dataset_index.json is ours.
      const structure = await detectDocument(file, text, { explicit, decodeError });
      if (!explicit && structure.kind === 'unrelated') continue; // found in a directory, not ours: not mentioned
      const analysis = await analyzeDocument(
        file,
        text,
        inspector,
        {
          content: !values['no-content'],
          deep: !!values.deep,
          cwd: process.cwd(),
          cv,
          resampleMethod,
          buildExclude: [...configs[i].exclude, ...excludeFromCommandLine],
          readCost: false, // not printed (`stats` reports it)
        },
        structure,
      );
      const shown = applySeverityOverrides(analysis.diagnostics, mergeOverrides(configs[i].severity, fromCommandLine));
      // Built only when there is something to place: a 13 MB manifest's index costs ~40 ms.
      const lines = shown.length ? new LineIndex(text) : undefined;
      const diagnostics = shown.map((d) => ({
        range: lines!.range(d.offset, d.length),
        severity: d.severity,
        code: d.code,
        message: d.message,
      }));
      errors += diagnostics.filter((d) => d.severity === 'error').length;
      files.push({ path: file, kind: analysis.kind === 'invalid-json' ? analysis.format : analysis.kind, diagnostics });
      if (!values.json) {
        if (analysis.kind === 'unrelated')
          io.stderr.write(`${file}: not a seizure manifest, EEG dataset index or ARC dataset_info; nothing to check\n`);
        for (const d of diagnostics)
          io.stdout.write(
            `${file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.severity} ${d.code}: ${d.message}\n`,
          );
      }
    }
    // `io` counts cache-file content read: 0 when every file was answered from fingerprints.
    if (values.json)
      io.stdout.write(
        `${JSON.stringify({ files, io: { bytesRead: inspector.pool.bytesRead, filesRead: inspector.pool.tasksRun, bytesInflated: inspector.pool.bytesInflated } })}\n`,
      );
    else {
      const total = files.reduce((n, f) => n + f.diagnostics.length, 0);
      io.stderr.write(
        `${plural(files.length, 'file')} checked: ${plural(errors, 'error')}, ${plural(total - errors, 'other finding')}\n`,
      );
    }
    return errors > 0 ? 1 : 0;
  });
}

async function stats(options: ParsedOptions, io: Io): Promise<number> {
  const { values, positionals } = options;
  if (positionals.length !== 1) throw new UsageError('stats takes exactly one JSON file');
  const cv = cvOptions(options);
  const resampleMethod = resampleOption(values);
  const composition: CompositionSettings = {
    seed: numberValue(options, 'seed') ?? DEFAULT_COMPOSITION.seed,
    fullRatio: numberValue(options, 'full-ratio') ?? DEFAULT_COMPOSITION.fullRatio,
    backgroundRatio: numberValue(options, 'background-ratio') ?? DEFAULT_COMPOSITION.backgroundRatio,
  };
  const file = positionals[0];
  const { text, decodeError } = await readInput(file);
  return withInspector(options, async (inspector) => {
    // The counts need only existence; the headers (shapes, members' sizes: what training reads) are
    // read for manifests, remembered by fingerprint, and windows' values with --deep;
    // --preprocessing reads masks and image headers.
    const structure = await detectDocument(file, text, { explicit: true, decodeError });
    const content =
      structure.kind === 'seizure-manifest' || (!!values.preprocessing && structure.kind === 'arc-dataset-info');
    const analysis = await analyzeDocument(
      file,
      text,
      inspector,
      {
        content,
        deep: structure.kind === 'seizure-manifest' && !!values.deep,
        cwd: process.cwd(),
        composition,
        cv,
        resampleMethod,
      },
      structure,
    );
    if (analysis.kind === 'unrelated')
      throw new InputError(`${file} is not a seizure manifest, EEG dataset index or ARC dataset_info`);
    // Numbers from a partial parse are not what training uses: say what training does instead.
    if (analysis.kind === 'invalid-json') throw new InputError(`${file}: ${analysis.diagnostics[0].message}`);
    // A schema error is where training fails on the file (int("one") on an entry, parse_dataset_info
    // refusing a float): statistics of the rest would not be what training sees. `check` says the same.
    const schemaErrors = analysis.diagnostics.filter((d) => d.severity === 'error' && d.code.endsWith('-schema'));
    if (schemaErrors.length) {
      const lines = new LineIndex(text);
      const where = (d: (typeof schemaErrors)[number]) =>
        `${file}:${lines.position(d.offset).line + 1}:${lines.position(d.offset).character + 1}: ${d.message}`;
      throw new InputError(
        `${plural(schemaErrors.length, 'schema error')} (no statistics: training fails on this file)\n${schemaErrors.slice(0, 10).map(where).join('\n')}${schemaErrors.length > 10 ? `\n… and ${schemaErrors.length - 10} more (neurocache check lists them)` : ''}`,
      );
    }
    if (values.folds && analysis.kind !== 'arc-dataset-info')
      throw new UsageError('--folds needs an ARC dataset_info.json');
    const folds = values.folds && analysis.kind === 'arc-dataset-info' ? analysis.folds : undefined;
    if (values.preprocessing && analysis.kind !== 'arc-dataset-info')
      throw new UsageError('--preprocessing needs an ARC dataset_info.json');
    const preprocessing =
      values.preprocessing && analysis.kind === 'arc-dataset-info'
        ? preprocessingJson(analysis.parsed.samples, analysis.facts.preprocessing, resampleMethod)
        : undefined;
    // --selected: the entries training picks for this seed (a missing file is skipped by training).
    const selected =
      values.selected && analysis.kind === 'seizure-manifest' ? selectedEntries(analysis, composition) : undefined;
    if (values.json) {
      const perFile =
        analysis.kind === 'seizure-manifest'
          ? { readCost: analysis.readCost ?? null, cacheFiles: cacheFilesJson(analysis) }
          : {};
      const extra = {
        ...perFile,
        ...(selected ? { selected } : {}),
        ...(folds ? { folds: foldsJson(folds) } : {}),
        ...(preprocessing ? { preprocessing } : {}),
      };
      io.stdout.write(`${JSON.stringify({ path: file, kind: analysis.kind, ...analysis.stats, ...extra })}\n`);
      return 0;
    }
    if (selected) {
      for (const [category, entries] of Object.entries(selected)) {
        for (const e of entries)
          io.stdout.write(`${category}\t${e.cache_file}\t${e.window_idx}${e.exists ? '' : '\t(missing: skipped)'}\n`);
      }
      return 0;
    }
    const lines =
      analysis.kind === 'seizure-manifest'
        ? [...manifestReport(analysis.stats), ...(analysis.readCost ? readCostReport(analysis.readCost) : [])]
        : analysis.kind === 'eeg-dataset-index'
          ? datasetIndexReport(analysis.stats)
          : datasetReport(analysis.stats);
    if (folds && analysis.kind === 'arc-dataset-info') {
      const report = foldsReport(
        folds,
        analysis.parsed.samples.map((s) => s.volume?.value),
      );
      lines.push(
        '',
        ...report.lines,
        ...(report.table ? textTable(report.table).map((row) => `  ${row}`) : []),
        ...report.notes,
      );
    }
    if (preprocessing && analysis.kind === 'arc-dataset-info') {
      const report = preprocessingReport(
        preprocessing,
        analysis.parsed.samples.map((s) => s.subject?.value),
      );
      lines.push('', ...report.lines, ...textTable(report.table).map((row) => `  ${row}`), ...report.notes);
    }
    io.stdout.write(`${file} (${analysis.kind})\n${lines.map((l) => (l ? `  ${l}\n` : '\n')).join('')}`);
    return 0;
  });
}

async function arcDownload(parsed: ParsedOptions, io: Io): Promise<number> {
  const { values, positionals } = parsed;
  if (positionals.length) throw new UsageError(`arc download takes no positional arguments (got "${positionals[0]}")`);
  let endpoint: string;
  try {
    endpoint = hubEndpoint(values.endpoint as string | undefined);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const token = hubToken(values.token as string | undefined);
  if (token && !token.startsWith('hf_'))
    throw new UsageError('the Hub token does not look like a Hugging Face token (it should start with "hf_")');
  // --jobs predates --parallel and meant the same here (checked first, as before, in the same range).
  const parallel =
    numberValue(parsed, 'parallel') ?? numberValue(parsed, 'jobs') ?? DEFAULT_MACHINE_SETTINGS.download.parallel;
  // Its own bundle (the Hub client and Parquet reader), loaded only for this command.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a bundle found at run time, not bundled in
  const { downloadArc, describeProblemCounts }: typeof import('../download/arc') = require(
    bundleBeside('cli-download.js'),
  );
  const options: DownloadOptions = {
    out: path.resolve((values.out as string | undefined) ?? ARC_DOWNLOAD_DEFAULTS.out),
    repo: (values.repo as string | undefined) ?? ARC_DOWNLOAD_DEFAULTS.repo,
    revision: (values.revision as string | undefined) ?? ARC_DOWNLOAD_DEFAULTS.revision,
    endpoint,
    token,
    jobs: parallel,
    force: !!values.force,
    paperParity: !!values['paper-parity'],
    verifyCounts: !values['no-verify-counts'],
    includeTse: !!values['include-tse'],
    requireMask: !values['no-require-mask'],
    offline: hubOfflineVariable(),
    retryBaseMs: retryBaseFromEnv(),
    ...netTimingFromEnv(),
  };
  const pool = new WorkerPool();
  const bar = io.stderr.isTTY === true && !values.json;
  const controller = new AbortController();
  /** The end of the Hub's rate-limit wait, shown in the progress line while it lasts. */
  let rateLimitedUntil = 0;
  const interrupt = () => controller.abort(new Error('interrupted; run the same command again to resume'));
  process.once('SIGINT', interrupt);
  try {
    const result = await downloadArc(options, {
      signal: controller.signal,
      countLesion: (file) => pool.lesionVolume(file),
      onProgress: (p) => {
        if (!bar) return;
        const eta = p.etaSeconds === undefined ? '' : ` ETA ${Math.ceil(p.etaSeconds)}s`;
        const waiting =
          rateLimitedUntil > Date.now()
            ? ` — rate limited by the Hub, resuming in ${formatWait(rateLimitedUntil - Date.now())}`
            : '';
        io.stderr.write(
          `\r${Math.floor(100 * p.fraction)}% — shards ${p.shardsDone}/${p.shards}, sessions ${p.sessionsWritten}${p.problems ? ` (${p.problems} rows skipped)` : ''}, ${formatBytes(p.bytes)} at ${formatBytes(p.bytesPerSecond)}/s${eta}${waiting}\x1b[K`,
        );
      },
      onRetry: (retry) => {
        if (retry.rateLimited) rateLimitedUntil = Date.now() + retry.delayMs * (options.waitScale ?? 1);
      },
      log: (line) => io.stderr.write(`${bar ? '\r\x1b[K' : ''}${line}\n`),
    });
    if (bar) io.stderr.write('\r\x1b[K');
    if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
    else if (result.status === 'up-to-date')
      io.stdout.write(
        `${result.datasetInfo} is complete (${result.samples} samples); nothing to download (use --force to download again)\n`,
      );
    else {
      io.stdout.write(
        `Wrote ${result.datasetInfo}: ${result.samples} samples from ${result.shards} shards${result.shardsResumed ? ` (${result.shardsResumed} resumed)` : ''}\n` +
          `  transferred ${formatBytes(result.bytesTransferred)} of ${formatBytes(result.shardBytes)} in the shards, ${(result.elapsedMs / 1000).toFixed(1)} s\n` +
          (result.problems.length
            ? `  skipped ${describeProblemCounts(result.problems)} that could not be used (listed on stderr; --json lists them)\n`
            : ''),
      );
    }
    return 0;
  } catch (error) {
    if (bar) io.stderr.write('\r\x1b[K');
    const reason = controller.signal.aborted ? (controller.signal.reason as Error) : (error as Error);
    io.stderr.write(`neurocache arc download: ${reason.message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', interrupt);
    await pool.close();
  }
}

/**
 * Per file the manifest names: what its headers say training reads (`windowsShape`,
 * `labelsShape`, dtype, bytes per sample) and, after --deep, its bad windows.
 */
function cacheFilesJson(analysis: Extract<Analysis, { kind: 'seizure-manifest' }>) {
  return analysis.parsed.files.map((name, i) => {
    const facts = analysis.facts[i];
    const summary = facts.summary;
    const deep = analysis.deep?.[i];
    return {
      name,
      exists: facts.exists,
      ...(facts.error ? { error: facts.error } : {}),
      windowsShape: summary?.windowsShape ?? null,
      labelsShape: summary?.labelsShape ?? null,
      windowsDtype: summary?.windowsDtype ?? null,
      bytesPerSample: summary ? (sampleCost(summary) ?? null) : null,
      ...(deep
        ? {
            badWindows: deep.ok
              ? { nonFinite: deep.value.nonFinite, unclipped: deep.value.unclipped }
              : { error: deep.error },
          }
        : {}),
    };
  });
}

function selectedEntries(analysis: Extract<Analysis, { kind: 'seizure-manifest' }>, composition: CompositionSettings) {
  const { parsed, facts } = analysis;
  const picks = balancedPicks(parsed, composition);
  const describe = (i: number) => {
    const fileId = parsed.entries.file.at(i);
    return {
      cache_file: fileId >= 0 ? parsed.files[fileId] : null,
      window_idx: parsed.entries.window.at(i),
      exists: fileId >= 0 && facts[fileId].exists,
    };
  };
  return {
    partial_seizure: Array.from(picks.partial, describe),
    full_seizure: picks.full.map(describe),
    no_seizure: picks.background.map(describe),
  };
}

const RUNNERS: Record<string, (options: ParsedOptions, io: Io, early?: EarlyReads) => Promise<number>> = {
  'manifest build': manifestBuild,
  check,
  stats,
  'arc download': arcDownload,
  lsp: async ({ values }) => {
    if (!values.stdio) throw new UsageError('lsp speaks LSP over stdio only: pass --stdio');
    // The language server's own bundle (it starts the server as it loads): build, check and
    // stats never compile it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a bundle found at run time, not bundled in
    require(bundleBeside('server.js'));
    return new Promise<number>(() => {}); // runs until the client disconnects
  },
};

/** Names the command a mistyped or incomplete command line was probably meant to be. */
function unknownCommand(argv: string[]): UsageError {
  if (argv.length === 0) return new UsageError('no command given');
  const group = COMMANDS.find((c) => c.name.startsWith(`${argv[0]} `));
  if (group) {
    const sub = group.name.split(' ')[1];
    return new UsageError(
      argv[1] === undefined
        ? `${argv[0]} needs a subcommand: ${group.name}`
        : `${argv[0]} has one subcommand, ${sub}, not "${argv[1]}"`,
      group,
    );
  }
  const near = nearestCommand(argv[0]);
  return new UsageError(`unknown command "${argv[0]}"${near ? ` (did you mean ${near}?)` : ''}`);
}

/** `early`: for `check`, the reads out/cli.js started before loading this bundle (earlyReads.ts). */
export async function main(
  argv: string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr },
  early?: EarlyReads,
): Promise<number> {
  let command: CommandSpec | undefined;
  try {
    const [first] = argv;
    if (VERSION_ARGUMENTS.has(first)) {
      io.stdout.write(`neurocache ${VERSION}\n`);
      return 0;
    }
    if (HELP.has(first) || first === 'help') {
      const topic = first === 'help' ? findCommand(argv.slice(1)) : undefined;
      io.stdout.write(topic ? commandHelp(topic.command) : generalHelp(VERSION));
      return 0;
    }
    // `neurocache manifest --help`: the group's subcommands.
    if (commandsInGroup(first).length && HELP.has(argv[1])) {
      io.stdout.write(groupHelp(first));
      return 0;
    }
    const found = findCommand(argv);
    if (!found) throw unknownCommand(argv);
    command = found.command;
    if (asksForHelp(found.rest)) {
      io.stdout.write(commandHelp(found.command));
      return 0;
    }
    return await RUNNERS[found.command.name](parseCommand(found.command, found.rest), io, early);
  } catch (error) {
    return reportFailure(error, command, io);
  }
}

if (require.main === module) {
  exitQuietlyOnClosedPipe();
  // main() reports every failure itself and never rejects.
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
