/**
 * Whole-document operations shared by the CLI and the language server: detect what a JSON
 * file is, gather the facts its checks need (through the inspector), and run the engine.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import {
  checkDatasetInfo, datasetStats, DatasetStats, ParsedDatasetInfo, parseDatasetInfo, PathFacts, pathCandidates,
} from '../engine/arc/datasetInfo';
import { Diagnostic, SEVERITY_ORDER } from '../engine/diagnostics';
import {
  buildManifest, CacheFileFacts, CompositionSettings, checkManifest, compareCodePoints, compositionDiagnostics, manifestStats, ManifestStats,
  ParsedManifest, parseManifest, serializeManifest,
} from '../engine/eeg/manifest';
import type { NpzSummary } from '../engine/eeg/npz';
import { describeOutcome, failureOutcome, LoadFailure, PythonException } from '../engine/eeg/numpyLoad';
import { writeFileAtomic } from './atomic';
import { CacheInspector, statOrUndefined } from './inspector';

export type DocumentKind = 'seizure-manifest' | 'arc-dataset-info' | 'unrelated';

export interface CheckOptions {
  /** Read file contents (labels, voxels); false checks only schema and existence. */
  content: boolean;
  /** Training's seed and ratios for the balanced composition (default: 42, 0.3, 2.5). */
  composition?: CompositionSettings;
  cwd: string;
  signal?: AbortSignal;
}

export type Analysis =
  | { kind: 'seizure-manifest'; parsed: ParsedManifest; diagnostics: Diagnostic[]; stats: ManifestStats; facts: CacheFileFacts[]; directory: string }
  | { kind: 'arc-dataset-info'; parsed: ParsedDatasetInfo; diagnostics: Diagnostic[]; stats: DatasetStats; facts: { images: (PathFacts | undefined)[]; masks: (PathFacts | undefined)[] }; directory: string }
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
export function structuralAnalysis(file: string, structure: ReturnType<typeof analyzeText>, composition?: CompositionSettings): Analysis {
  const directory = path.dirname(path.resolve(file));
  if (structure.manifest) {
    const facts = structure.manifest.files.map(() => ({ exists: true }));
    const stats = manifestStats(structure.manifest, facts.map(() => true), composition);
    return { kind: 'seizure-manifest', parsed: structure.manifest, diagnostics: structure.manifest.schema, stats, facts, directory };
  }
  if (structure.datasetInfo) {
    const parsed = structure.datasetInfo;
    return { kind: 'arc-dataset-info', parsed, diagnostics: parsed.schema, stats: datasetStats(parsed), facts: { images: [], masks: [] }, directory };
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
    if (stat?.isFile()) return { resolved: candidate.path, how: candidate.how };
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
  const diagnostics = sortDiagnostics([...parsed.schema, ...checkDatasetInfo(parsed, { images, masks, infoDir })]);
  return { kind: 'arc-dataset-info', parsed, diagnostics, stats: datasetStats(parsed), facts: { images, masks }, directory: infoDir };
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
  files: number;
  windows: Record<'partial_seizure' | 'full_seizure' | 'no_seizure', number>;
  skipped: SkippedFile[];
  notes: { name: string; note: string }[];
  /** The first file at which the Python builder would stop (it writes no manifest then), or null. */
  pythonStopsAt: { name: string; exception: PythonException } | null;
  /** True when a file numpy reads could not be read here: the manifest then differs from Python's. */
  differsFromPython: boolean;
}

const SKIPPED_CODE = { skipped: 'unreadable-cache-file', 'stops-build': 'cache-file-stops-build', unsupported: 'unsupported-cache-file' } as const;

/** How the Python builder treats a file NeuroCache could not summarise (or one without labels). */
function skippedFile(name: string, facts: CacheFileFacts): SkippedFile {
  if (facts.summary && !facts.summary.hasLabels) {
    return { name, reason: 'no labels array', code: 'no-labels', python: 'the Python builder warns "has NO LABELS" and leaves it out too' };
  }
  // Gone between listing and reading (a dangling symbolic link, or deleted meanwhile): open() raises FileNotFoundError.
  const failure: LoadFailure = facts.failure ?? (facts.exists ? { message: facts.error ?? 'unreadable' } : { message: 'no such file (dangling symbolic link, or deleted while scanning)', exception: 'FileNotFoundError' });
  const outcome = failureOutcome(failure);
  const python = failure.unsupported
    ? 'numpy reads it, so the Python builder lists its windows: this manifest differs from Python\'s'
    : failure.exception ? describeOutcome(failure.exception, failure.olderNumpy) : 'the Python builder skips it';
  return { name, reason: failure.message, code: SKIPPED_CODE[outcome], exception: failure.exception, python };
}

/**
 * The Python builder, exactly: every `*.npz` in the directory sorted by name, windows
 * categorised, files without labels and unreadable files left out and reported with what the
 * Python builder does with them (skip, or stop); written atomically with 2-space indent.
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
    if (f.summary?.hasLabels) {
      readable.push({ name, summary: f.summary });
      for (const note of f.summary.notes) notes.push({ name, note });
      if (f.summary.windowsError) notes.push({ name, note: `windows cannot be read (${f.summary.windowsError}): listed, as the builder reads only labels, but training fails on these windows` });
    } else skipped.push(skippedFile(name, f));
  });
  const manifest = buildManifest(readable);
  const stop = skipped.find((s) => s.code === 'cache-file-stops-build');
  const result: BuildResult = {
    manifestPath: path.join(directory, 'manifest.json'),
    files: readable.length,
    windows: { partial_seizure: manifest.partial_seizure.length, full_seizure: manifest.full_seizure.length, no_seizure: manifest.no_seizure.length },
    skipped,
    notes,
    pythonStopsAt: stop ? { name: stop.name, exception: stop.exception! } : null,
    differsFromPython: skipped.some((s) => s.code === 'unsupported-cache-file'),
  };
  return { text: serializeManifest(manifest, names.length > 0), result };
}

export { statOrUndefined };
