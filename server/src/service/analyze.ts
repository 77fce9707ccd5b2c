/**
 * A document's analysis: the facts its checks need, gathered through the inspector, run
 * through the engine into diagnostics and statistics; and which file changes can change it.
 */
import * as path from 'node:path';
import { checkDatasetInfo, datasetStats, DatasetStats, massMissing, ParsedDatasetInfo, PathFacts, pathCandidates } from '../engine/arc/datasetInfo';
import { baseName, movedPathEdits } from '../engine/arc/fixes';
import type { TextEdit } from '../engine/json/edits';
import { commonFolder, findMovedFiles } from './movedFiles';
import { CvSettings, datasetFolds, DEFAULT_CV, foldDiagnostics, NestedFolds } from '../engine/arc/folds';
import { Diagnostic, SEVERITY_ORDER, TextSpan } from '../engine/diagnostics';
import { compositionDiagnostics, CompositionSettings, manifestStats, ManifestStats } from '../engine/eeg/composition';
import { checkDatasetIndex, datasetIndexStats, DatasetIndexStats, IndexFileFacts, ParsedDatasetIndex } from '../engine/eeg/datasetIndex';
import { CacheFileFacts, checkManifest } from '../engine/eeg/manifestCheck';
import { ParsedManifest } from '../engine/eeg/manifestParse';
import type { JsonFormat } from '../engine/invalidJson';
import type { PythonJsonError } from '../engine/json/pythonJsonLoad';
import { analyzeText, Structure } from './detect';
import { CacheInspector, statOrUndefined } from './inspector';
import { listNpz } from './npzListing';

export interface CheckOptions {
  /** Read file contents (labels, voxels); false checks only schema and existence. */
  content: boolean;
  /** Training's seed and ratios for the balanced composition (default: 42, 0.3, 2.5). */
  composition?: CompositionSettings;
  /** Seed and fold counts of arc-meshchop's nested cross-validation (default: 42, 3, 3). */
  cv?: CvSettings;
  cwd: string;
  /** Where to look for the files of a dataset_info.json whose paths mostly fail (the editor: the workspace folder). */
  searchMovedUnder?: string;
  signal?: AbortSignal;
}

export type Analysis =
  | { kind: 'seizure-manifest'; parsed: ParsedManifest; diagnostics: Diagnostic[]; stats: ManifestStats; facts: CacheFileFacts[]; directory: string }
  | {
      kind: 'arc-dataset-info'; parsed: ParsedDatasetInfo; diagnostics: Diagnostic[]; stats: DatasetStats; folds: NestedFolds;
      facts: { images: (PathFacts | undefined)[]; masks: (PathFacts | undefined)[] }; directory: string;
      /** The missing files of a mass failure, found again by name: the edits that point the paths at them. */
      moved?: { edits: TextEdit[]; folder: string };
    }
  | { kind: 'eeg-dataset-index'; parsed: ParsedDatasetIndex; diagnostics: Diagnostic[]; stats: DatasetIndexStats; facts: IndexFileFacts[]; directory: string }
  /** One of our files that Python's json.load cannot read: no statistics, only what training does with it. */
  | { kind: 'invalid-json'; format: JsonFormat; error: PythonJsonError; diagnostics: Diagnostic[]; keySpans: TextSpan[]; directory: string }
  | { kind: 'unrelated'; diagnostics: [] };

/**
 * An analysis from the text alone, before any file is touched: schema diagnostics, and
 * statistics that assume every referenced file exists. Lets hovers answer at once.
 */
export function structuralAnalysis(file: string, structure: Structure, composition?: CompositionSettings, cv: CvSettings = DEFAULT_CV): Analysis {
  const directory = path.dirname(path.resolve(file));
  switch (structure.kind) {
    case 'invalid-json': {
      const { format, error, diagnostic, keySpans } = structure;
      return { kind: 'invalid-json', format, error, diagnostics: [diagnostic], keySpans, directory };
    }
    case 'seizure-manifest': {
      const { parsed } = structure;
      const facts = parsed.files.map(() => ({ exists: true }));
      const stats = manifestStats(parsed, facts.map(() => true), composition);
      return { kind: 'seizure-manifest', parsed, diagnostics: parsed.schema, stats, facts, directory };
    }
    case 'arc-dataset-info': {
      const { parsed } = structure;
      const folds = datasetFolds(parsed, cv);
      const diagnostics = sortDiagnostics([...parsed.schema, ...foldDiagnostics(parsed, folds)]);
      return { kind: 'arc-dataset-info', parsed, diagnostics, stats: datasetStats(parsed), folds, facts: { images: [], masks: [] }, directory };
    }
    case 'eeg-dataset-index': {
      const { parsed } = structure;
      const facts = parsed.files.map(() => ({ exists: true }));
      return { kind: 'eeg-dataset-index', parsed, diagnostics: parsed.schema, stats: datasetIndexStats(parsed, facts.map(() => true)), facts, directory };
    }
    case 'unrelated':
      return { kind: 'unrelated', diagnostics: [] };
  }
}

export async function analyzeDocument(
  file: string,
  text: string,
  inspector: CacheInspector,
  options: CheckOptions,
  structure = analyzeText(text, { name: path.basename(file) }),
): Promise<Analysis> {
  switch (structure.kind) {
    case 'seizure-manifest':
      return analyzeManifest(file, structure.parsed, inspector, options);
    case 'arc-dataset-info':
      return analyzeDatasetInfo(file, structure.parsed, inspector, options);
    case 'eeg-dataset-index':
      return analyzeDatasetIndex(file, structure.parsed, inspector, options);
    default:
      return structuralAnalysis(file, structure);
  }
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
  const moved = await findMoved(parsed, images, masks, infoDir, options);
  const diagnostics = sortDiagnostics([...parsed.schema, ...checkDatasetInfo(parsed, { images, masks, infoDir, movedTo: moved?.folder }), ...foldDiagnostics(parsed, folds)]);
  return { kind: 'arc-dataset-info', parsed, diagnostics, stats: datasetStats(parsed), folds, facts: { images, masks }, directory: infoDir, ...(moved && { moved }) };
}

/** For a mass failure only: the missing files found again by name under `searchMovedUnder`, as path edits. */
async function findMoved(parsed: ParsedDatasetInfo, images: (PathFacts | undefined)[], masks: (PathFacts | undefined)[], infoDir: string, options: CheckOptions) {
  const missing = options.searchMovedUnder ? massMissing(parsed, images, masks) : undefined;
  if (!missing || !options.searchMovedUnder) return undefined;
  const found = await findMovedFiles(options.searchMovedUnder, [...new Set(missing.map((item) => baseName(item.value)))], options.signal);
  if (!found) return undefined;
  return { edits: movedPathEdits(missing, found, infoDir), folder: commonFolder(found.values())! };
}

function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) => a.offset - b.offset || SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
}
