/**
 * The manifest build: every cache file read, the Python builder's manifest computed from them
 * (with what it leaves out and why, and where Python's own build would stop) and written.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ExcludeRule, excludedBy } from '../engine/eeg/buildExclude';
import { buildManifest, serializeManifest } from '../engine/eeg/manifestBuild';
import { CacheFileFacts, describePythonOutcome } from '../engine/eeg/manifestCheck';
import { MAX_WINDOWS_PER_FILE, NpzSummary } from '../engine/eeg/npz';
import { failureOutcome, LoadFailure, PythonException } from '../engine/eeg/numpyLoad';
import { plural } from '../engine/report';
import { cacheWindowShape, fileWindowFindings, WindowHeaderFinding } from '../engine/eeg/windowHeaders';
import { PreparedWrite, prepareAtomicWrite, removeStaleTemps } from './atomic';
import type { CacheInspector } from './inspector';
import { FolderListing, listFolder } from './npzListing';

/** A cache file the manifest leaves out, and what the Python builder does with it. */
export interface SkippedFile {
  name: string;
  reason: string;
  /** The diagnostic code for this outcome (what users filter on). */
  code: 'no-labels' | 'unreadable-cache-file' | 'cache-file-stops-build' | 'unsupported-cache-file';
  /** What Python raises for it (absent for no-labels). */
  exception?: PythonException;
  /** What the Python builder does, in words. */
  python: string;
}

/** A cache file left out on purpose (a `build.exclude` rule), and what the Python builder, which knows no such rule, does with it. */
export interface ExcludedFile {
  name: string;
  pattern: string;
  /** Where the rule was found: `.neurocache.json`'s path, `neurocache.build.exclude`, `--exclude`. */
  source: string;
  /** The windows the Python builder lists from it (none when it skips the file or stops on it). */
  pythonWindows: number;
  /** What the Python builder does with it, in words. */
  python: string;
}

export interface BuildResult {
  manifestPath: string;
  /** Cache files the manifest lists (with at least one window): what `stats` calls "Cache files". */
  files: number;
  /** `*.npz` files found in the directory: listed + without windows + left out (`skipped`). */
  found: number;
  /** Readable files without any window: nothing to list (the Python builder lists nothing either). */
  withoutWindows: string[];
  windows: Record<'partial_seizure' | 'full_seizure' | 'no_seizure', number>;
  skipped: SkippedFile[];
  /** Files left out on purpose: the manifest differs from Python's by their windows (`pythonWindows`). */
  excluded: ExcludedFile[];
  notes: { name: string; note: string }[];
  /** What training makes of the listed files' headers (windows-labels-count, window-shape), per file. */
  windowFindings: WindowHeaderFinding[];
  /** The first file at which the Python builder would stop (it writes no manifest then), or null. */
  pythonStopsAt: { name: string; exception: PythonException } | null;
  /** True when a file numpy reads could not be read here: the manifest then differs from Python's. */
  differsFromPython: boolean;
  /** False when nothing was written: the folder holds no `*.npz` and an empty manifest was not asked for. */
  written: boolean;
}

const SKIPPED_CODE = {
  skipped: 'unreadable-cache-file',
  'stops-build': 'cache-file-stops-build',
  unsupported: 'unsupported-cache-file',
} as const;

/**
 * Most entries a built manifest may hold (about 215 MB of JSON, 13 times the largest real cache
 * seen, 150,000 entries): beyond it the text nears V8's string limit.
 */
export const MAX_BUILT_ENTRIES = 2_000_000;

/** How the Python builder treats a file NeuroCache leaves out: no labels, unreadable, or more windows than NeuroCache lists. */
function skippedFile(name: string, facts: CacheFileFacts): SkippedFile {
  if (facts.summary && !facts.summary.hasLabels) {
    return {
      name,
      reason: 'no labels array',
      code: 'no-labels',
      python: 'the Python builder warns "has NO LABELS" and leaves it out too',
    };
  }
  if (facts.summary) {
    const count = facts.summary.windowCount;
    const reason = `${count} windows, more than the ${MAX_WINDOWS_PER_FILE} NeuroCache lists for one file: left out of the manifest (the Python builder would list all ${count})`;
    return { name, reason, code: 'unsupported-cache-file', python: "this manifest differs from Python's" };
  }
  // Gone between listing and reading (a dangling symbolic link, or deleted meanwhile): open() raises FileNotFoundError.
  const gone = facts.error ?? 'no such file (deleted while scanning)';
  const failure: LoadFailure =
    facts.failure ??
    (facts.exists ? { message: facts.error ?? 'unreadable' } : { message: gone, exception: 'FileNotFoundError' });
  const outcome = failureOutcome(failure);
  const python = failure.unsupported
    ? "numpy reads it, so the Python builder lists its windows: this manifest differs from Python's"
    : describePythonOutcome(failure);
  return { name, reason: failure.message, code: SKIPPED_CODE[outcome], exception: failure.exception, python };
}

/** An excluded file, with the windows the Python builder would list from it (it knows no exclusions). */
function excludedFile(name: string, facts: CacheFileFacts, rule: ExcludeRule): ExcludedFile {
  const { pattern, source } = rule;
  if (facts.summary?.hasLabels) {
    const windows = facts.summary.windowCount;
    return {
      name,
      pattern,
      source,
      pythonWindows: windows,
      python: `the Python builder lists its ${plural(windows, 'window')}`,
    };
  }
  const skip = skippedFile(name, facts);
  return { name, pattern, source, pythonWindows: 0, python: `${skip.reason}: ${skip.python}` };
}

/** The file the Python builder writes in the cache folder. */
export const MANIFEST_FILE = 'manifest.json';

/** One line about a build: windows per category, files left out by outcome, where Python's build would stop. */
export function describeBuild(result: BuildResult, done = 'Rebuilt'): string {
  const w = result.windows;
  const left = new Map<string, number>();
  for (const s of result.skipped) left.set(s.code, (left.get(s.code) ?? 0) + 1);
  const leftOut = left.size ? `; left out ${[...left].map(([code, n]) => `${n} (${code})`).join(', ')}` : '';
  // What matters most first: a toast is cut off after a line or two.
  const stop = result.pythonStopsAt
    ? `The Python builder would stop at ${result.pythonStopsAt.name} (${result.pythonStopsAt.exception}) and write no manifest: delete or regenerate that file. `
    : '';
  const empty = result.withoutWindows.length ? `; ${result.withoutWindows.length} without windows` : '';
  const of = result.found !== result.files ? ` of ${result.found} found` : '';
  const codes = [...new Set(result.windowFindings.map((f) => f.code))];
  const training = codes.length
    ? `; ${plural(new Set(result.windowFindings.map((f) => f.name)).size, 'file')} training cannot read as listed (${codes.join(', ')}: see the problems)`
    : '';
  // Right after where Python's build stops: a manifest that differs on purpose must say so before it is cut off.
  const excluded = result.excluded.length ? `${describeExcluded(result.excluded)} ` : '';
  return `${stop}${excluded}${done}: ${plural(result.files, 'cache file')} listed${of}, ${w.partial_seizure} partial, ${w.full_seizure} full, ${w.no_seizure} no-seizure windows${empty}${leftOut}${training}.`;
}

/**
 * The sentence that says a manifest deliberately differs from Python's ("This manifest
 * deliberately differs from the Python builder's by 2 windows, which Python would list:
 * excluded on purpose x.npz (by "x.npz" in /p/.neurocache.json)."), or "" when nothing was excluded.
 */
export function describeExcluded(excluded: readonly ExcludedFile[]): string {
  if (!excluded.length) return '';
  const files = excluded.map((e) => `${e.name} (by "${e.pattern}" in ${e.source})`).join(', ');
  const windows = excluded.reduce((n, e) => n + e.pythonWindows, 0);
  return windows
    ? `This manifest deliberately differs from the Python builder's by ${plural(windows, 'window')}, which Python would list: excluded on purpose ${files}.`
    : `Excluded on purpose ${files}; the Python builder lists no window from ${excluded.length === 1 ? 'it' : 'them'} either.`;
}

/**
 * The Python builder, exactly: every `*.npz` in the directory sorted by name, windows
 * categorised, files without labels and unreadable files left out and reported with what the
 * Python builder does with them (skip, or stop); written atomically with 2-space indent.
 * Where Python's output would be unbounded NeuroCache stops short and says so: a file with more
 * than MAX_WINDOWS_PER_FILE windows is left out, more than MAX_BUILT_ENTRIES in all is refused.
 */
export interface BuildOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** `listFolder(directory)` already under way (started alongside the caller's own checks). */
  listing?: Promise<FolderListing>;
  /** False: a folder without `*.npz` gets no manifest (the result says `written: false`). */
  allowEmpty?: boolean;
  /** Cache files to leave out on purpose (`build.exclude`): read all the same, to say what Python's build does with them. */
  exclude?: readonly ExcludeRule[];
  /** Called once every cache file is counted, before the manifest is written (the CLI saves its fingerprints then). */
  onCounted?: () => void;
}

export async function buildManifestFile(
  directory: string,
  inspector: CacheInspector,
  options: BuildOptions = {},
): Promise<BuildResult> {
  // The folder as it is now: if it (or a folder above it) is swapped for a link while the cache
  // is read, the write fails. Resolved while the cache is listed and read (on network storage
  // each step of it is a round trip), and before anything is written.
  const resolving = fs.realpath(directory);
  resolving.catch(() => undefined);
  const listing = options.listing ?? listFolder(directory);
  // The write made ready (the manifest looked at, the temp file created: two round trips in a
  // row on network storage) while the cache is read; everything it judged is judged again
  // before the rename, so this changes when, not what, it checks.
  const manifestPath = path.join(directory, MANIFEST_FILE);
  // Not in a folder without caches that gets no manifest (nothing is created there).
  const preparing = Promise.all([resolving, listing]).then(([real, { npz }]) =>
    npz.length === 0 && options.allowEmpty === false
      ? undefined
      : prepareAtomicWrite(manifestPath, { confine: [real] }),
  );
  preparing.catch(() => undefined);
  let computed: Awaited<ReturnType<typeof computeManifest>>;
  try {
    computed = await computeManifest(directory, inspector, { ...options, listing });
  } catch (error) {
    await abandon(preparing);
    throw error;
  }
  const { text, result } = computed;
  // A folder without caches is usually the wrong folder: an empty manifest there would make
  // training rebuild it (no entries) and hide the mistake.
  if (result.found === 0 && options.allowEmpty === false) {
    await abandon(preparing);
    return { ...result, written: false };
  }
  const write = (await preparing)!;
  // Leftovers of interrupted writes are tidied while this one is written: only temp files
  // unchanged for an hour go, never the fresh one being written.
  const [written] = await Promise.allSettled([
    write.commit(text),
    removeStaleTemps(result.manifestPath, Date.now(), (await listing).names),
  ]);
  if (written.status === 'rejected') throw written.reason;
  return result;
}

/** Removes a prepared write's temp file (nothing to do when preparing failed). */
async function abandon(preparing: Promise<PreparedWrite | undefined>): Promise<void> {
  await preparing.then(
    (write) => write?.abandon(),
    () => undefined,
  );
}

/** The manifest text the builder would write, without writing it (the editor applies it as an edit). */
export async function computeManifest(
  directory: string,
  inspector: CacheInspector,
  options: BuildOptions = {},
): Promise<{ text: string; result: BuildResult }> {
  const names = (await (options.listing ?? listFolder(directory))).npz;
  let done = 0;
  options.onProgress?.(0, names.length);
  const facts = await Promise.all(
    names.map(async (name) => {
      const result = await inspector.npz(path.join(directory, name), true, options.signal);
      options.onProgress?.(++done, names.length);
      return result;
    }),
  );
  options.onCounted?.();
  const readable: { name: string; summary: NpzSummary }[] = [];
  const skipped: BuildResult['skipped'] = [];
  const excluded: ExcludedFile[] = [];
  // Where Python's build stops counts excluded files too: it knows nothing of the rules.
  let pythonStop: SkippedFile | undefined;
  const notes: BuildResult['notes'] = [];
  names.forEach((name, i) => {
    const f = facts[i];
    const rule = options.exclude?.length ? excludedBy(options.exclude, path.join(directory, name)) : undefined;
    if (rule) {
      excluded.push(excludedFile(name, f, rule));
      const skip = f.summary?.hasLabels ? undefined : skippedFile(name, f);
      if (!pythonStop && skip?.code === 'cache-file-stops-build') pythonStop = skip;
      return;
    }
    for (const note of f.summary?.notes ?? []) notes.push({ name, note });
    if (f.summary?.hasLabels && f.summary.windowCount <= MAX_WINDOWS_PER_FILE) {
      readable.push({ name, summary: f.summary });
      if (f.summary.windowsError)
        notes.push({
          name,
          note: `windows cannot be read (${f.summary.windowsError}): listed, as the builder reads only labels, but training fails on these windows`,
        });
    } else {
      const skip = skippedFile(name, f);
      skipped.push(skip);
      if (!pythonStop && skip.code === 'cache-file-stops-build') pythonStop = skip;
    }
  });
  const entries = readable.reduce((n, r) => n + r.summary.windowCount, 0);
  if (entries > MAX_BUILT_ENTRIES) {
    const largest = [...readable].sort((a, b) => b.summary.windowCount - a.summary.windowCount).slice(0, 3);
    throw new Error(
      `the manifest would list ${entries} windows, more than the ${MAX_BUILT_ENTRIES} NeuroCache writes; not written ` +
        `(largest: ${largest.map((r) => `${r.name} ${r.summary.windowCount}`).join(', ')})`,
    );
  }
  const manifest = buildManifest(readable);
  // Judged against every file the build lists: those are what training stacks.
  const cache = cacheWindowShape(readable);
  const windowFindings = readable.flatMap((r) => fileWindowFindings(r.name, r.summary, cache, true));
  const stop = pythonStop;
  const result: BuildResult = {
    manifestPath: path.join(directory, MANIFEST_FILE),
    files: readable.filter((r) => r.summary.windowCount > 0).length,
    found: names.length,
    withoutWindows: readable.filter((r) => r.summary.windowCount === 0).map((r) => r.name),
    windows: {
      partial_seizure: manifest.partial_seizure.length,
      full_seizure: manifest.full_seizure.length,
      no_seizure: manifest.no_seizure.length,
    },
    skipped,
    excluded,
    notes,
    windowFindings,
    pythonStopsAt: stop ? { name: stop.name, exception: stop.exception! } : null,
    differsFromPython: skipped.some((s) => s.code === 'unsupported-cache-file'),
    written: true,
  };
  return { text: serializeManifest(manifest, names.length > 0), result };
}
