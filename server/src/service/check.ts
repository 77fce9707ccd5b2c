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
import { Diagnostic, SEVERITY_ORDER } from '../engine/diagnostics';
import {
  buildManifest, CacheFileFacts, CompositionSettings, checkManifest, compareCodePoints, compositionDiagnostics, manifestStats, ManifestStats,
  ParsedManifest, parseManifest, serializeManifest,
} from '../engine/eeg/manifest';
import { MAX_WINDOWS_PER_FILE, NpzSummary } from '../engine/eeg/npz';
import { writeFileAtomic } from './atomic';
import { CacheInspector, statOrUndefined } from './inspector';

export type DocumentKind = 'seizure-manifest' | 'arc-dataset-info' | 'unrelated';

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
  | { kind: 'unrelated'; diagnostics: [] };

/** Structure only, straight from the text: what an editor shows before any file is touched. */
export function analyzeText(text: string): { kind: DocumentKind; manifest?: ParsedManifest; datasetInfo?: ParsedDatasetInfo } {
  // A cheap look at the root keys decides which parser runs; each format names its keys early.
  if (/"(partial_seizure|full_seizure|no_seizure)"\s*:/.test(text)) {
    const manifest = parseManifest(text);
    if (manifest.isManifest) return { kind: 'seizure-manifest', manifest };
  }
  if (/"(image_paths|mask_paths)"\s*:/.test(text)) {
    const datasetInfo = parseDatasetInfo(text);
    if (datasetInfo.isDatasetInfo) return { kind: 'arc-dataset-info', datasetInfo };
  }
  return { kind: 'unrelated' };
}

/**
 * An analysis from the text alone, before any file is touched: schema diagnostics, and
 * statistics that assume every referenced file exists. Lets hovers answer at once.
 */
export function structuralAnalysis(file: string, structure: ReturnType<typeof analyzeText>, composition?: CompositionSettings, cv: CvSettings = DEFAULT_CV): Analysis {
  const directory = path.dirname(path.resolve(file));
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
  return { kind: 'unrelated', diagnostics: [] };
}

export async function analyzeDocument(file: string, text: string, inspector: CacheInspector, options: CheckOptions, structure = analyzeText(text)): Promise<Analysis> {
  if (structure.manifest) return analyzeManifest(file, structure.manifest, inspector, options);
  if (structure.datasetInfo) return analyzeDatasetInfo(file, structure.datasetInfo, inspector, options);
  return { kind: 'unrelated', diagnostics: [] };
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

export interface BuildResult {
  manifestPath: string;
  files: number;
  windows: Record<'partial_seizure' | 'full_seizure' | 'no_seizure', number>;
  skipped: { name: string; reason: string }[];
  notes: { name: string; note: string }[];
}

/**
 * Most entries a built manifest may hold (about 215 MB of JSON, 13 times the largest real cache
 * seen, 150,000 entries): beyond it the text nears V8's string limit.
 */
export const MAX_BUILT_ENTRIES = 2_000_000;

function tooManyWindows(summary: NpzSummary): string {
  const python = summary.hasLabels ? `the Python builder would list all ${summary.windowCount}` : 'the Python builder leaves out files without labels';
  return `${summary.windowCount} windows, more than the ${MAX_WINDOWS_PER_FILE} NeuroCache lists for one file: left out of the manifest (${python})`;
}

/**
 * The Python builder, exactly: every `*.npz` in the directory sorted by name, windows
 * categorised, unreadable files skipped and reported; written atomically with 2-space indent.
 * Where Python's output would be unbounded NeuroCache stops short and says so: a file with more
 * than MAX_WINDOWS_PER_FILE windows is left out, more than MAX_BUILT_ENTRIES in all is refused.
 */
export async function buildManifestFile(
  directory: string,
  inspector: CacheInspector,
  options: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {},
): Promise<BuildResult> {
  const { text, result } = await computeManifest(directory, inspector, options);
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
    if (f.summary) {
      for (const note of f.summary.notes) notes.push({ name, note });
      if (f.summary.windowCount > MAX_WINDOWS_PER_FILE) skipped.push({ name, reason: tooManyWindows(f.summary) });
      else readable.push({ name, summary: f.summary });
    } else skipped.push({ name, reason: f.error ?? 'vanished while scanning' });
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
  const result: BuildResult = {
    manifestPath: path.join(directory, 'manifest.json'),
    files: readable.length,
    windows: { partial_seizure: manifest.partial_seizure.length, full_seizure: manifest.full_seizure.length, no_seizure: manifest.no_seizure.length },
    skipped,
    notes,
  };
  return { text: serializeManifest(manifest, names.length > 0), result };
}

export { statOrUndefined };
