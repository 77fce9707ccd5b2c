/**
 * Whole-document operations shared by the CLI and the language server: detect what a JSON
 * file is, gather the facts its checks need (through the inspector), and run the engine.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  checkDatasetInfo, datasetStats, DatasetStats, ParsedDatasetInfo, parseDatasetInfo, PathFacts, pathCandidates,
} from '../engine/arc/datasetInfo';
import { CvSettings, datasetFolds, DEFAULT_CV, foldDiagnostics, NestedFolds } from '../engine/arc/folds';
import { Diagnostic, SEVERITY_ORDER, Span } from '../engine/diagnostics';
import {
  buildManifest, CacheFileFacts, CompositionSettings, checkManifest, compareCodePoints, compositionDiagnostics, describePythonOutcome, manifestStats,
  ManifestStats, ParsedManifest, parseManifest, serializeManifest,
} from '../engine/eeg/manifest';
import { MAX_WINDOWS_PER_FILE, NpzSummary } from '../engine/eeg/npz';
import { failureOutcome, LoadFailure, PythonException } from '../engine/eeg/numpyLoad';
import {
  checkDatasetIndex, datasetIndexStats, DatasetIndexStats, IndexFileFacts, ParsedDatasetIndex, parseDatasetIndex, rewriteWindowCounts,
} from '../engine/eeg/datasetIndex';
import { FORMAT_FILE_NAMES, invalidJsonDiagnostic, JsonFormat } from '../engine/invalidJson';
import { decodeLikePython, PythonJsonError, pythonJsonError } from '../engine/json/pythonJson';
import { plural } from '../engine/report';
import { writeFileAtomic } from './atomic';
import { CacheInspector, statOrUndefined } from './inspector';
import { readRegularBytes } from './regularFile';

export type DocumentKind = JsonFormat | 'unrelated';

export interface CheckOptions {
  /** Read file contents (labels, voxels); false checks only schema and existence. */
  content: boolean;
  /** Training's seed and ratios for the balanced composition (default: 42, 0.3, 2.5). */
  composition?: CompositionSettings;
  /** Seed and fold counts of arc-meshchop's nested cross-validation (default: 42, 3, 3). */
  cv?: CvSettings;
  cwd: string;
  signal?: AbortSignal;
}

export type Analysis =
  | { kind: 'seizure-manifest'; parsed: ParsedManifest; diagnostics: Diagnostic[]; stats: ManifestStats; facts: CacheFileFacts[]; directory: string }
  | {
      kind: 'arc-dataset-info'; parsed: ParsedDatasetInfo; diagnostics: Diagnostic[]; stats: DatasetStats; folds: NestedFolds;
      facts: { images: (PathFacts | undefined)[]; masks: (PathFacts | undefined)[] }; directory: string;
    }
  | { kind: 'eeg-dataset-index'; parsed: ParsedDatasetIndex; diagnostics: Diagnostic[]; stats: DatasetIndexStats; facts: IndexFileFacts[]; directory: string }
  /** One of our files that Python's json.load cannot read: no statistics, only what training does with it. */
  | { kind: 'invalid-json'; format: JsonFormat; error: PythonJsonError; diagnostics: Diagnostic[]; keySpans: Span[]; directory: string }
  | { kind: 'unrelated'; diagnostics: [] };

/** What a document is, from its text (and its name and place when the text cannot tell). */
export interface Structure {
  kind: DocumentKind | 'invalid-json';
  manifest?: ParsedManifest;
  datasetInfo?: ParsedDatasetInfo;
  datasetIndex?: ParsedDatasetIndex;
  invalid?: { format: JsonFormat; error: PythonJsonError; diagnostic: Diagnostic; keySpans: Span[] };
  /** Named like one of ours, unreadable, and nothing in it says what it is: where it sits decides. */
  undecided?: JsonFormat;
}

const CONTENT_KEYS: [JsonFormat, RegExp][] = [
  ['seizure-manifest', /"(partial_seizure|full_seizure|no_seizure)"\s*:/g],
  ['arc-dataset-info', /"(image_paths|mask_paths)"\s*:/g],
  ['eeg-dataset-index', /"(window_counts)"\s*:/g],
];

/** The format the text names its keys of (an index by `files` only under its own name). */
function formatByContent(text: string, named: JsonFormat | undefined): JsonFormat | undefined {
  const found = CONTENT_KEYS.find(([, keys]) => new RegExp(keys.source).test(text))?.[0];
  if (found) return found;
  return named === 'eeg-dataset-index' && /"files"\s*:/.test(text) ? named : undefined;
}

/**
 * Structure only, straight from the text: what an editor shows before any file is touched.
 * `name` is the file's base name; `ours` says the name alone makes it ours (an explicit
 * `neurocache check`, or a file that sits in a cache directory).
 */
export function analyzeText(text: string, options: { name?: string; ours?: boolean; decodeError?: PythonJsonError } = {}): Structure {
  const named = options.name ? FORMAT_FILE_NAMES[options.name] : undefined;
  const error = options.decodeError ?? pythonJsonError(text);
  const byContent = formatByContent(text, named);
  if (error) {
    const format = byContent ?? (options.ours ? named : undefined);
    if (!format) return { kind: 'unrelated', undecided: named };
    const keys = CONTENT_KEYS.find(([f]) => f === format)?.[1];
    const keySpans = keys ? [...text.matchAll(new RegExp(keys.source, 'g'))].map((m) => ({ offset: m.index!, length: m[1].length + 2 })) : [];
    return { kind: 'invalid-json', invalid: { format, error, diagnostic: invalidJsonDiagnostic(format, error, text), keySpans } };
  }
  // A cheap look at the root keys decides which parser runs; each format names its keys early.
  if (byContent === 'seizure-manifest') {
    const manifest = parseManifest(text);
    if (manifest.isManifest) return { kind: 'seizure-manifest', manifest };
  }
  if (byContent === 'arc-dataset-info') {
    const datasetInfo = parseDatasetInfo(text);
    if (datasetInfo.isDatasetInfo) return { kind: 'arc-dataset-info', datasetInfo };
  }
  if (byContent === 'eeg-dataset-index') {
    const datasetIndex = parseDatasetIndex(text, named === 'eeg-dataset-index');
    if (datasetIndex.isDatasetIndex) return { kind: 'eeg-dataset-index', datasetIndex };
  }
  return { kind: 'unrelated' };
}

/** Whether a file named like one of ours sits where such files live: next to *.npz caches (EEG) or a cache/nifti_cache folder (ARC). */
export async function locatedLikeOurs(file: string, format: JsonFormat): Promise<boolean> {
  const directory = path.dirname(path.resolve(file));
  if (format === 'arc-dataset-info') return (await statOrUndefined(path.join(directory, 'cache', 'nifti_cache')))?.isDirectory() ?? false;
  try {
    // Stops at the first cache file: a data directory can hold millions of entries.
    for await (const entry of await fs.opendir(directory)) if (entry.name.endsWith('.npz')) return true;
  } catch {
    // An unreadable directory says nothing.
  }
  return false;
}

/** The structure of a file's text, asking where it sits only when the text cannot tell. `explicit`: named by the user. */
export async function detectDocument(file: string, text: string, options: { explicit?: boolean; decodeError?: PythonJsonError } = {}): Promise<Structure> {
  const name = path.basename(file);
  const structure = analyzeText(text, { name, ours: options.explicit, decodeError: options.decodeError });
  if (!structure.undecided || options.explicit || !(await locatedLikeOurs(file, structure.undecided))) return structure;
  return analyzeText(text, { name, ours: true, decodeError: options.decodeError });
}

/**
 * A JSON file as Python reads it: UTF-8 decoded, with the UnicodeDecodeError json.load would
 * raise. Only a regular file, and bounded (a FIFO would block forever, /dev/zero never end).
 */
export async function readJsonFile(file: string): Promise<{ text: string; decodeError?: PythonJsonError }> {
  const decoded = decodeLikePython(await readRegularBytes(file));
  return { text: decoded.text, decodeError: decoded.error };
}

/**
 * For a document open in an editor: the UnicodeDecodeError of the file on disk when the
 * editor shows exactly its bytes with replacement characters (the editor cannot tell us the bytes).
 */
export async function openDocumentDecodeError(file: string, text: string): Promise<PythonJsonError | undefined> {
  if (!text.includes('\ufffd')) return undefined;
  const disk = await readJsonFile(file).catch(() => undefined);
  return disk?.decodeError && disk.text === text ? disk.decodeError : undefined;
}

/**
 * An analysis from the text alone, before any file is touched: schema diagnostics, and
 * statistics that assume every referenced file exists. Lets hovers answer at once.
 */
export function structuralAnalysis(file: string, structure: Structure, composition?: CompositionSettings, cv: CvSettings = DEFAULT_CV): Analysis {
  const directory = path.dirname(path.resolve(file));
  if (structure.invalid) {
    const { format, error, diagnostic, keySpans } = structure.invalid;
    return { kind: 'invalid-json', format, error, diagnostics: [diagnostic], keySpans, directory };
  }
  if (structure.manifest) {
    const facts = structure.manifest.files.map(() => ({ exists: true }));
    const stats = manifestStats(structure.manifest, facts.map(() => true), composition);
    return { kind: 'seizure-manifest', parsed: structure.manifest, diagnostics: structure.manifest.schema, stats, facts, directory };
  }
  if (structure.datasetInfo) {
    const parsed = structure.datasetInfo;
    const folds = datasetFolds(parsed, cv);
    const diagnostics = sortDiagnostics([...parsed.schema, ...foldDiagnostics(parsed, folds)]);
    return { kind: 'arc-dataset-info', parsed, diagnostics, stats: datasetStats(parsed), folds, facts: { images: [], masks: [] }, directory };
  }
  if (structure.datasetIndex) {
    const parsed = structure.datasetIndex;
    const facts = parsed.files.map(() => ({ exists: true }));
    return { kind: 'eeg-dataset-index', parsed, diagnostics: parsed.schema, stats: datasetIndexStats(parsed, facts.map(() => true)), facts, directory };
  }
  return { kind: 'unrelated', diagnostics: [] };
}

export async function analyzeDocument(
  file: string,
  text: string,
  inspector: CacheInspector,
  options: CheckOptions,
  structure = analyzeText(text, { name: path.basename(file) }),
): Promise<Analysis> {
  if (structure.manifest) return analyzeManifest(file, structure.manifest, inspector, options);
  if (structure.datasetInfo) return analyzeDatasetInfo(file, structure.datasetInfo, inspector, options);
  if (structure.datasetIndex) return analyzeDatasetIndex(file, structure.datasetIndex, inspector, options);
  return structuralAnalysis(file, structure);
}

async function analyzeDatasetIndex(file: string, parsed: ParsedDatasetIndex, inspector: CacheInspector, options: CheckOptions): Promise<Analysis> {
  const directory = path.dirname(path.resolve(file));
  // Only the windows member's .npy header is read (windows.shape[0]), never the windows.
  const facts: IndexFileFacts[] = await Promise.all(
    parsed.files.map(async (f) => {
      const cache = path.join(directory, f.cacheFile);
      if (!options.content) return { exists: (await statOrUndefined(cache)) !== undefined };
      return inspector.windowCount(cache, options.signal);
    }),
  );
  const diagnostics = sortDiagnostics([...parsed.schema, ...checkDatasetIndex(parsed, facts)]);
  return { kind: 'eeg-dataset-index', parsed, diagnostics, stats: datasetIndexStats(parsed, facts.map((f) => f.exists)), facts, directory };
}

/**
 * The "Rewrite window counts from the cache" fix: `_dataset_index.json` with each count read
 * from its cache's windows header, in json.dump's bytes. `text` undefined: nothing to write.
 */
export async function windowCountsFix(file: string, text: string, inspector: CacheInspector): Promise<{ text?: string; message: string }> {
  const analysis = await analyzeDocument(file, text, inspector, { content: true, cwd: path.dirname(path.resolve(file)) }, analyzeText(text, { name: path.basename(file) }));
  if (analysis.kind !== 'eeg-dataset-index') throw new Error(`${path.basename(file)} is not an EEG dataset index that Python can read`);
  const rewritten = rewriteWindowCounts(analysis.parsed, analysis.facts);
  if (!rewritten) throw new Error('"files" is not a list of EDF paths: delete the index and let EEGWindowDataset write a new one');
  const kept = rewritten.kept ? `; kept ${rewritten.kept} recorded (cache missing or unreadable)` : '';
  if (rewritten.text === text) return { message: `Every window count already equals its cache's windows.shape[0]${kept}.` };
  return { text: rewritten.text, message: `Rewrote ${rewritten.changed} window count${rewritten.changed === 1 ? '' : 's'} from the caches${kept}.` };
}

/** Whether a change to any of `changed` (absolute paths) can change this analysis: watchers re-check only those. */
export function affectedBy(analysis: Analysis, changed: string[], cwd: string): boolean {
  if (analysis.kind === 'seizure-manifest') return changed.some((f) => f.endsWith('.npz') && path.dirname(f) === analysis.directory);
  if (analysis.kind === 'eeg-dataset-index') {
    const caches = new Set(analysis.parsed.files.map((f) => path.join(analysis.directory, f.cacheFile)));
    return changed.some((f) => caches.has(f));
  }
  // A dataset_info depends on every place its paths may resolve to (a missing file may appear).
  if (analysis.kind === 'arc-dataset-info') {
    return analysis.parsed.samples.some((s) => [s.image?.value, s.mask?.value].some((value) =>
      typeof value === 'string' && pathCandidates(value, analysis.directory, cwd).some((c) => changed.includes(c.path))));
  }
  return false;
}

/** `*.npz` entries directly in a directory, sorted like Python's `sorted(dir.glob("*.npz"))`. */
export async function listNpz(directory: string): Promise<string[]> {
  const names = await fs.readdir(directory);
  return names.filter((n) => n.endsWith('.npz')).sort(compareCodePoints);
}

async function analyzeManifest(file: string, parsed: ParsedManifest, inspector: CacheInspector, options: CheckOptions): Promise<Analysis> {
  const directory = path.dirname(path.resolve(file));
  const facts = await Promise.all(parsed.files.map((name) => inspector.npz(path.join(directory, name), options.content, options.signal)));
  let listing: { name: string; facts: CacheFileFacts }[] | undefined;
  if (options.content) {
    const names = await listNpz(directory).catch(() => []);
    const referenced = new Map(parsed.files.map((name, i) => [name, facts[i]]));
    listing = await Promise.all(
      names.map(async (name) => {
        const known = referenced.get(name) ?? (await inspector.npz(path.join(directory, name), true, options.signal));
        return { name, facts: known };
      }),
    );
  }
  const stats = manifestStats(parsed, facts.map((f) => f.exists), options.composition);
  const diagnostics = sortDiagnostics([
    ...parsed.schema,
    ...checkManifest(parsed, { files: facts, directory: listing }),
    ...compositionDiagnostics(parsed, stats),
  ]);
  return { kind: 'seizure-manifest', parsed, diagnostics, stats, facts, directory };
}

async function resolvePath(value: string, infoDir: string, cwd: string): Promise<PathFacts> {
  for (const candidate of pathCandidates(value, infoDir, cwd)) {
    const stat = await statOrUndefined(candidate.path);
    // Path.exists(), as arc-meshchop resolves: a directory or FIFO is found here, then reported
    // by the inspector as not a regular file (never opened).
    if (stat) return { resolved: candidate.path, how: candidate.how };
  }
  return {};
}

async function analyzeDatasetInfo(file: string, parsed: ParsedDatasetInfo, inspector: CacheInspector, options: CheckOptions): Promise<Analysis> {
  const infoDir = path.dirname(path.resolve(file));
  const facts = async (value: string | null | undefined, countVoxels: boolean): Promise<PathFacts | undefined> => {
    if (typeof value !== 'string') return undefined;
    const resolved = await resolvePath(value, infoDir, options.cwd);
    if (!resolved.resolved || !options.content) return resolved;
    return { ...resolved, ...(await inspector.nifti(resolved.resolved, countVoxels, options.signal)) };
  };
  const [images, masks] = await Promise.all([
    Promise.all(parsed.samples.map((s) => facts(s.image?.value, false))),
    Promise.all(parsed.samples.map((s) => facts(s.mask?.value, true))),
  ]);
  const folds = datasetFolds(parsed, options.cv ?? DEFAULT_CV);
  const diagnostics = sortDiagnostics([...parsed.schema, ...checkDatasetInfo(parsed, { images, masks, infoDir }), ...foldDiagnostics(parsed, folds)]);
  return { kind: 'arc-dataset-info', parsed, diagnostics, stats: datasetStats(parsed), folds, facts: { images, masks }, directory: infoDir };
}

function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) => a.offset - b.offset || SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
}

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
  notes: { name: string; note: string }[];
  /** The first file at which the Python builder would stop (it writes no manifest then), or null. */
  pythonStopsAt: { name: string; exception: PythonException } | null;
  /** True when a file numpy reads could not be read here: the manifest then differs from Python's. */
  differsFromPython: boolean;
  /** False when nothing was written: the folder holds no `*.npz` and an empty manifest was not asked for. */
  written: boolean;
}

const SKIPPED_CODE = { skipped: 'unreadable-cache-file', 'stops-build': 'cache-file-stops-build', unsupported: 'unsupported-cache-file' } as const;

/**
 * Most entries a built manifest may hold (about 215 MB of JSON, 13 times the largest real cache
 * seen, 150,000 entries): beyond it the text nears V8's string limit.
 */
export const MAX_BUILT_ENTRIES = 2_000_000;

/** How the Python builder treats a file NeuroCache leaves out: no labels, unreadable, or more windows than NeuroCache lists. */
function skippedFile(name: string, facts: CacheFileFacts): SkippedFile {
  if (facts.summary && !facts.summary.hasLabels) {
    return { name, reason: 'no labels array', code: 'no-labels', python: 'the Python builder warns "has NO LABELS" and leaves it out too' };
  }
  if (facts.summary) {
    const count = facts.summary.windowCount;
    const reason = `${count} windows, more than the ${MAX_WINDOWS_PER_FILE} NeuroCache lists for one file: left out of the manifest (the Python builder would list all ${count})`;
    return { name, reason, code: 'unsupported-cache-file', python: "this manifest differs from Python's" };
  }
  // Gone between listing and reading (a dangling symbolic link, or deleted meanwhile): open() raises FileNotFoundError.
  const gone = facts.error ?? 'no such file (deleted while scanning)';
  const failure: LoadFailure = facts.failure ?? (facts.exists ? { message: facts.error ?? 'unreadable' } : { message: gone, exception: 'FileNotFoundError' });
  const outcome = failureOutcome(failure);
  const python = failure.unsupported ? 'numpy reads it, so the Python builder lists its windows: this manifest differs from Python\'s' : describePythonOutcome(failure);
  return { name, reason: failure.message, code: SKIPPED_CODE[outcome], exception: failure.exception, python };
}

/** One line about a build: windows per category, files left out by outcome, where Python's build would stop. */
export function describeBuild(result: BuildResult): string {
  const w = result.windows;
  const left = new Map<string, number>();
  for (const s of result.skipped) left.set(s.code, (left.get(s.code) ?? 0) + 1);
  const leftOut = left.size ? `; left out ${[...left].map(([code, n]) => `${n} (${code})`).join(', ')}` : '';
  const stop = result.pythonStopsAt ? `. The Python builder would stop at ${result.pythonStopsAt.name} (${result.pythonStopsAt.exception}) and write no manifest` : '';
  const empty = result.withoutWindows.length ? `; ${result.withoutWindows.length} without windows` : '';
  const of = result.found !== result.files ? ` of ${result.found} found` : '';
  return `Rebuilt: ${plural(result.files, 'cache file')} listed${of}, ${w.partial_seizure} partial, ${w.full_seizure} full, ${w.no_seizure} no-seizure windows${empty}${leftOut}${stop}.`;
}

/**
 * The Python builder, exactly: every `*.npz` in the directory sorted by name, windows
 * categorised, files without labels and unreadable files left out and reported with what the
 * Python builder does with them (skip, or stop); written atomically with 2-space indent.
 * Where Python's output would be unbounded NeuroCache stops short and says so: a file with more
 * than MAX_WINDOWS_PER_FILE windows is left out, more than MAX_BUILT_ENTRIES in all is refused.
 */
export async function buildManifestFile(
  directory: string,
  inspector: CacheInspector,
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void; allowEmpty?: boolean } = {},
): Promise<BuildResult> {
  const { text, result } = await computeManifest(directory, inspector, options);
  // A folder without caches is usually the wrong folder: an empty manifest there would make
  // training rebuild it (no entries) and hide the mistake.
  if (result.found === 0 && options.allowEmpty === false) return { ...result, written: false };
  await writeFileAtomic(result.manifestPath, text);
  return result;
}

/** The manifest text the builder would write, without writing it (the editor applies it as an edit). */
export async function computeManifest(
  directory: string,
  inspector: CacheInspector,
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<{ text: string; result: BuildResult }> {
  const names = await listNpz(directory);
  let done = 0;
  options.onProgress?.(0, names.length);
  const facts = await Promise.all(
    names.map(async (name) => {
      const result = await inspector.npz(path.join(directory, name), true, options.signal);
      options.onProgress?.(++done, names.length);
      return result;
    }),
  );
  const readable: { name: string; summary: NpzSummary }[] = [];
  const skipped: BuildResult['skipped'] = [];
  const notes: BuildResult['notes'] = [];
  names.forEach((name, i) => {
    const f = facts[i];
    for (const note of f.summary?.notes ?? []) notes.push({ name, note });
    if (f.summary?.hasLabels && f.summary.windowCount <= MAX_WINDOWS_PER_FILE) {
      readable.push({ name, summary: f.summary });
      if (f.summary.windowsError) notes.push({ name, note: `windows cannot be read (${f.summary.windowsError}): listed, as the builder reads only labels, but training fails on these windows` });
    } else skipped.push(skippedFile(name, f));
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
  const stop = skipped.find((s) => s.code === 'cache-file-stops-build');
  const result: BuildResult = {
    manifestPath: path.join(directory, 'manifest.json'),
    files: readable.filter((r) => r.summary.windowCount > 0).length,
    found: names.length,
    withoutWindows: readable.filter((r) => r.summary.windowCount === 0).map((r) => r.name),
    windows: { partial_seizure: manifest.partial_seizure.length, full_seizure: manifest.full_seizure.length, no_seizure: manifest.no_seizure.length },
    skipped,
    notes,
    pythonStopsAt: stop ? { name: stop.name, exception: stop.exception! } : null,
    differsFromPython: skipped.some((s) => s.code === 'unsupported-cache-file'),
    written: true,
  };
  return { text: serializeManifest(manifest, names.length > 0), result };
}

export { statOrUndefined };
