/**
 * A document's analysis: the facts its checks need, gathered through the inspector, run
 * through the engine into diagnostics and statistics (which file changes can change it:
 * dependencies.ts).
 */
import * as path from 'node:path';
import {
  checkDatasetInfo,
  datasetStats,
  DatasetStats,
  massMissing,
  ParsedDatasetInfo,
  PathFacts,
  pathCandidates,
} from '../engine/arc/datasetInfo';
import { baseName, movedPathEdits } from '../engine/arc/fixes';
import type { TextEdit } from '../engine/json/edits';
import { commonFolder, findMovedFiles } from './movedFiles';
import { CvSettings, datasetFolds, DEFAULT_CV, foldDiagnostics, NestedFolds } from '../engine/arc/folds';
import { DEFAULT_RESAMPLE_METHOD, ResampleMethod } from '../engine/arc/preprocessing';
import { preprocessingDiagnostics } from '../engine/arc/preprocessingFindings';
import type { PreprocessingOutcome } from '../engine/arc/preprocessSample';
import { Diagnostic, SEVERITY_ORDER, TextSpan } from '../engine/diagnostics';
import {
  compositionDiagnostics,
  CompositionSettings,
  DEFAULT_COMPOSITION,
  manifestStats,
  ManifestStats,
} from '../engine/eeg/composition';
import {
  checkDatasetIndex,
  datasetIndexStats,
  DatasetIndexStats,
  IndexFileFacts,
  ParsedDatasetIndex,
} from '../engine/eeg/datasetIndex';
import { ExcludeRule, excludedBy } from '../engine/eeg/buildExclude';
import { CacheFileFacts, checkManifest } from '../engine/eeg/manifestCheck';
import { ParsedManifest } from '../engine/eeg/manifestParse';
import { DeepResult, deepDiagnostics } from '../engine/eeg/deepChecks';
import { failureOutcome } from '../engine/eeg/numpyLoad';
import { ReadCost, trainingReadCost } from '../engine/eeg/readCost';
import { windowHeaderDiagnostics } from '../engine/eeg/windowHeaders';
import { deepCheck } from './deepCheck';
import type { JsonFormat } from '../engine/invalidJson';
import type { PythonJsonError } from '../engine/json/pythonJsonLoad';
import { analyzeText, Structure } from './detect';
import { CacheInspector, statOrUndefined } from './inspector';
import { nextTurn } from './nextTurn';
import { concurrencyGate } from './concurrencyGate';

/** Cache files whose facts are asked for at once: libuv's largest thread pool (see concurrencyGate.ts). */
const FILES_IN_FLIGHT = 1024;

export interface CheckOptions {
  /** Read file contents (labels, voxels); false checks only schema and existence. */
  content: boolean;
  /** Training's seed and ratios for the balanced composition (default: 42, 0.3, 2.5). */
  composition?: CompositionSettings;
  /** Seed and fold counts of arc-meshchop's nested cross-validation (default: 42, 3, 3). */
  cv?: CvSettings;
  /** The `--resample-method` training uses: its preprocessing findings are errors (default scipy_zoom). */
  resampleMethod?: ResampleMethod;
  cwd: string;
  /** Where to look for the files of a dataset_info.json whose paths mostly fail (the editor: the workspace folder). */
  searchMovedUnder?: string;
  signal?: AbortSignal;
  /** Also inflate every listed cache file's `windows` and check its values (SPEC §1.2c); needs `content`. */
  deep?: boolean;
  /** Deep-checked files so far, of all to check. */
  onDeepProgress?: (done: number, total: number) => void;
  /**
   * A manifest's cache-file facts gathered by an earlier check and still current (the editor: no
   * file or setting changed since, only the text): its files are not looked at again, only those
   * the text names anew.
   */
  known?: KnownFacts;
  /** Cache files the manifest build leaves out on purpose: not reported as missing from the manifest. */
  buildExclude?: readonly ExcludeRule[];
  /**
   * Work out what training's reads cost (a manifest's `readCost`; default true). `check`, which
   * prints diagnostics only, passes false: the balanced set it needs is drawn through PCG64, CPU
   * time after the last reply on network storage (a 40-file re-check: 2-15 ms measured).
   */
  readCost?: boolean;
}

/** What an earlier check of a manifest found about its cache files and its directory. */
export interface KnownFacts {
  files: Map<string, CacheFileFacts>;
  /** The directory's `*.npz` files, as `ManifestCheckInput.directory`, when contents were read. */
  listing?: { name: string; facts: CacheFileFacts }[];
  /** The analysis they come from: its statistics and read cost, reused when they cannot have changed (`sameComposition`). */
  last?: Extract<Analysis, { kind: 'seizure-manifest' }>;
}

/** The facts a seizure manifest's analysis gathered, for the next check of the same files (`CheckOptions.known`). */
export function knownFacts(analysis: Extract<Analysis, { kind: 'seizure-manifest' }>): KnownFacts {
  return { files: factsByName(analysis.parsed.files, analysis.facts), listing: analysis.listing, last: analysis };
}

/** Name → facts maps, kept by the facts array (an edit's check reuses it, and the names with it, most of the time). */
const factsByNameKept = new WeakMap<
  CacheFileFacts[],
  { names: readonly string[]; byName: Map<string, CacheFileFacts> }
>();

/** Each name's facts (`facts[k]` for `names[k]`): one map per names and facts, not one per edit (35,000 names on 1M entries). */
function factsByName(names: readonly string[], facts: CacheFileFacts[]): Map<string, CacheFileFacts> {
  const kept = factsByNameKept.get(facts);
  if (kept?.names === names) return kept.byName;
  const byName = new Map(names.map((name, k) => [name, facts[k]]));
  factsByNameKept.set(facts, { names, byName });
  return byName;
}

/**
 * Whether `last`'s statistics and read cost hold for this check: they depend only on each entry's
 * category, file and shadowing, the files' facts, the composition settings and whether contents
 * were read. Most edits (a window_idx typed over) change none of them, and comparing the columns
 * costs a few memcmp where recomputing them walks a 1M-entry manifest twice.
 */
function sameComposition(
  last: Extract<Analysis, { kind: 'seizure-manifest' }> | undefined,
  parsed: ParsedManifest,
  facts: CacheFileFacts[],
  options: CheckOptions,
): boolean {
  const basis = last?.basis;
  if (!last || !basis || basis.content !== options.content) return false;
  const settings = options.composition ?? DEFAULT_COMPOSITION;
  if (
    settings.seed !== basis.composition.seed ||
    settings.fullRatio !== basis.composition.fullRatio ||
    settings.backgroundRatio !== basis.composition.backgroundRatio
  )
    return false;
  // The same array only for the same names and facts (analyzeManifest).
  if (facts !== last.facts) return false;
  const [a, b] = [last.parsed, parsed];
  if (a.entries.count !== b.entries.count) return false;
  // Columns and chunks the re-parse shared (entryColumn.ts) are not compared at all.
  return (
    a.entries.category.sameAs(b.entries.category) &&
    a.entries.file.sameAs(b.entries.file) &&
    a.entries.shadowed.sameAs(b.entries.shadowed)
  );
}

/**
 * Whether `facts` (per name of `parsed.files`) are `last`'s, name for name: then `last.facts` is used
 * as they are, and checks that keep results by the facts array (windowHeaders.ts) find them again.
 */
function sameFacts(
  last: Extract<Analysis, { kind: 'seizure-manifest' }> | undefined,
  parsed: ParsedManifest,
  facts: CacheFileFacts[],
): boolean {
  const names = last?.parsed.files;
  if (!last || !names || names.length !== parsed.files.length || last.facts.length !== facts.length) return false;
  return names === parsed.files
    ? last.facts.every((f, k) => f === facts[k])
    : names.every((name, k) => name === parsed.files[k] && last.facts[k] === facts[k]);
}

/** What a manifest analysis' statistics and read cost were computed with. */
interface CompositionBasis {
  composition: CompositionSettings;
  content: boolean;
}

export type Analysis =
  | {
      kind: 'seizure-manifest';
      parsed: ParsedManifest;
      diagnostics: Diagnostic[];
      stats: ManifestStats;
      facts: CacheFileFacts[];
      directory: string;
      /** Per file of `parsed.files`, the deep check's result when it ran (undefined: not run, or the file could not be read). */
      deep?: (DeepResult | undefined)[];
      /** What training's reads cost, once contents were read. */
      readCost?: ReadCost;
      /** The directory's `*.npz` files and their facts, when contents were read (kept for the next check). */
      listing?: { name: string; facts: CacheFileFacts }[];
      /** What `stats` and `readCost` were computed with, after the files were looked at (absent: assumed facts). */
      basis?: CompositionBasis;
    }
  | {
      kind: 'arc-dataset-info';
      parsed: ParsedDatasetInfo;
      diagnostics: Diagnostic[];
      stats: DatasetStats;
      folds: NestedFolds;
      /** The resample method training uses (severity of the preprocessing findings, the hover's "training" method). */
      resampleMethod: ResampleMethod;
      facts: {
        images: (PathFacts | undefined)[];
        masks: (PathFacts | undefined)[];
        preprocessing: (PreprocessingOutcome | undefined)[];
      };
      directory: string;
      /** The missing files of a mass failure, found again by name: the edits that point the paths at them. */
      moved?: { edits: TextEdit[]; folder: string };
    }
  | {
      kind: 'eeg-dataset-index';
      parsed: ParsedDatasetIndex;
      diagnostics: Diagnostic[];
      stats: DatasetIndexStats;
      facts: IndexFileFacts[];
      directory: string;
    }
  /** One of our files that Python's json.load cannot read: no statistics, only what training does with it. */
  | {
      kind: 'invalid-json';
      format: JsonFormat;
      error: PythonJsonError;
      diagnostics: Diagnostic[];
      keySpans: TextSpan[];
      directory: string;
    }
  | { kind: 'unrelated'; diagnostics: [] };

/**
 * An analysis from the text alone, before any file is touched: schema diagnostics, and
 * statistics that assume every referenced file exists. Lets hovers answer at once.
 */
export function structuralAnalysis(
  file: string,
  structure: Structure,
  composition?: CompositionSettings,
  cv: CvSettings = DEFAULT_CV,
): Analysis {
  const directory = path.dirname(path.resolve(file));
  switch (structure.kind) {
    case 'invalid-json': {
      const { format, error, diagnostic, keySpans } = structure;
      return { kind: 'invalid-json', format, error, diagnostics: [diagnostic], keySpans, directory };
    }
    case 'seizure-manifest': {
      const { parsed } = structure;
      const facts = parsed.files.map(() => ({ exists: true }));
      const stats = manifestStats(
        parsed,
        facts.map(() => true),
        composition,
      );
      return { kind: 'seizure-manifest', parsed, diagnostics: parsed.schema, stats, facts, directory };
    }
    case 'arc-dataset-info': {
      const { parsed } = structure;
      const folds = datasetFolds(parsed, cv);
      const diagnostics = sortDiagnostics([...parsed.schema, ...foldDiagnostics(parsed, folds)]);
      return {
        kind: 'arc-dataset-info',
        parsed,
        diagnostics,
        stats: datasetStats(parsed),
        folds,
        resampleMethod: DEFAULT_RESAMPLE_METHOD,
        facts: { images: [], masks: [], preprocessing: [] },
        directory,
      };
    }
    case 'eeg-dataset-index': {
      const { parsed } = structure;
      const facts = parsed.files.map(() => ({ exists: true }));
      return {
        kind: 'eeg-dataset-index',
        parsed,
        diagnostics: parsed.schema,
        stats: datasetIndexStats(
          parsed,
          facts.map(() => true),
        ),
        facts,
        directory,
      };
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
  return analyzeStructure(file, structure, inspector, options);
}

/** The analysis of a document whose structure is known already (an edit's re-parse: its whole text is never built). */
export async function analyzeStructure(
  file: string,
  structure: Structure,
  inspector: CacheInspector,
  options: CheckOptions,
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

async function analyzeDatasetIndex(
  file: string,
  parsed: ParsedDatasetIndex,
  inspector: CacheInspector,
  options: CheckOptions,
): Promise<Analysis> {
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
  return {
    kind: 'eeg-dataset-index',
    parsed,
    diagnostics,
    stats: datasetIndexStats(
      parsed,
      facts.map((f) => f.exists),
    ),
    facts,
    directory,
  };
}

async function analyzeManifest(
  file: string,
  parsed: ParsedManifest,
  inspector: CacheInspector,
  options: CheckOptions,
): Promise<Analysis> {
  const directory = path.dirname(path.resolve(file));
  const { known } = options;
  // Known facts as they are (no promise per file: 35,000 of them cost more than the rest of an edit's check).
  // The others through a gate (see concurrencyGate.ts); one whose turn comes after the check was
  // superseded is not asked at all.
  const gate = concurrencyGate(FILES_IN_FLIGHT);
  const gathered = parsed.files.map(
    (name) =>
      known?.files.get(name) ??
      gate(() => {
        options.signal?.throwIfAborted();
        return inspector.npz(path.join(directory, name), options.content, options.signal);
      }),
  );
  const pending = () => gathered.map((f) => Promise.resolve(f));
  // Each file's windows are inflated as soon as its header is known, while other files' headers are read.
  const deepDone =
    options.content && options.deep ? deepCheck(parsed, pending(), directory, inspector, options) : undefined;
  deepDone?.catch(() => undefined); // awaited below; a failure before then must not be unhandled
  let listing = options.content ? known?.listing : undefined;
  // Listed while the files are stat-ed (each a round trip on network storage), not after.
  const listed = options.content && !listing ? inspector.listNpz(directory).catch(() => []) : undefined;
  const gatheredFacts = gathered.some((f) => f instanceof Promise)
    ? await Promise.all(pending())
    : (gathered as CacheFileFacts[]);
  const facts = sameFacts(known?.last, parsed, gatheredFacts) ? known!.last!.facts : gatheredFacts;
  if (listed) {
    const names = await listed;
    const referenced = new Map(parsed.files.map((name, i) => [name, facts[i]]));
    listing = await Promise.all(
      names.map(async (name) => {
        const known = referenced.get(name) ?? (await inspector.npz(path.join(directory, name), true, options.signal));
        return { name, facts: known };
      }),
    );
    const exclude = options.buildExclude ?? [];
    // Left out on purpose: not the manifest's problem, unless Python's own build (which knows no exclusions) stops on it.
    if (exclude.length)
      listing = listing.filter(
        ({ name, facts: f }) =>
          !excludedBy(exclude, path.join(directory, name)) ||
          (f.exists && f.failure !== undefined && failureOutcome(f.failure) === 'stops-build'),
      );
  }
  const deep = await deepDone;
  // The checks below walk every entry: what came meanwhile (a hover, an edit that stops this check) goes first.
  await nextTurn();
  options.signal?.throwIfAborted();
  const last = known?.last && sameComposition(known.last, parsed, facts, options) ? known.last : undefined;
  const stats =
    last?.stats ??
    manifestStats(
      parsed,
      facts.map((f) => f.exists),
      options.composition,
    );
  const diagnostics = sortDiagnostics([
    ...parsed.schema,
    ...checkManifest(parsed, { files: facts, directory: listing }),
    ...windowHeaderDiagnostics(parsed, { files: facts, directory: listing }),
    ...(deep ? deepDiagnostics(parsed, deep) : []),
    ...compositionDiagnostics(parsed, stats),
  ]);
  const readCost = last
    ? last.readCost
    : options.content && options.readCost !== false
      ? trainingReadCost(parsed, facts, options.composition)
      : undefined;
  const basis = { composition: options.composition ?? DEFAULT_COMPOSITION, content: options.content };
  return { kind: 'seizure-manifest', parsed, diagnostics, stats, facts, directory, deep, readCost, listing, basis };
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

async function analyzeDatasetInfo(
  file: string,
  parsed: ParsedDatasetInfo,
  inspector: CacheInspector,
  options: CheckOptions,
): Promise<Analysis> {
  const infoDir = path.dirname(path.resolve(file));
  const resolve = (value: string | null | undefined) =>
    typeof value === 'string' ? resolvePath(value, infoDir, options.cwd) : undefined;
  const read = async (resolved: PathFacts | undefined, countVoxels: boolean): Promise<PathFacts | undefined> => {
    if (!resolved?.resolved || !options.content) return resolved;
    return { ...resolved, ...(await inspector.nifti(resolved.resolved, countVoxels, options.signal)) };
  };
  const preprocessing: (PreprocessingOutcome | undefined)[] = [];
  const rows = await Promise.all(
    parsed.samples.map(async (s) => {
      const [image, mask] = await Promise.all([resolve(s.image?.value), resolve(s.mask?.value)]);
      // A mask with a readable image: its count and its preprocessing come from one pass over the mask.
      const withPreprocessing = options.content && mask?.resolved && image?.resolved;
      const [imageFacts, maskFacts] = await Promise.all([
        read(image, false),
        withPreprocessing
          ? inspector
              .maskPreprocessing(mask.resolved!, image.resolved!, options.signal)
              .then(({ preprocessing: p, ...facts }) => {
                preprocessing[s.index] = p;
                return { ...mask, ...facts };
              })
          : read(mask, true),
      ]);
      return { imageFacts, maskFacts };
    }),
  );
  const images = rows.map((r) => r.imageFacts);
  const masks = rows.map((r) => r.maskFacts);
  const method = options.resampleMethod ?? DEFAULT_RESAMPLE_METHOD;
  const findings = parsed.samples.flatMap((s) => {
    const outcome = preprocessing[s.index];
    // Unreadable images or masks already have their own diagnostics; nothing to add for them.
    return outcome?.ok && !images[s.index]?.error && !masks[s.index]?.error
      ? preprocessingDiagnostics(s, outcome.facts, method)
      : [];
  });
  const folds = datasetFolds(parsed, options.cv ?? DEFAULT_CV);
  const moved = await findMoved(parsed, images, masks, infoDir, options);
  const diagnostics = sortDiagnostics([
    ...parsed.schema,
    ...checkDatasetInfo(parsed, { images, masks, infoDir, movedTo: moved?.folder }),
    ...findings,
    ...foldDiagnostics(parsed, folds),
  ]);
  return {
    kind: 'arc-dataset-info',
    parsed,
    diagnostics,
    stats: datasetStats(parsed),
    folds,
    resampleMethod: method,
    facts: { images, masks, preprocessing },
    directory: infoDir,
    ...(moved && { moved }),
  };
}

/** For a mass failure only: the missing files found again by name under `searchMovedUnder`, as path edits. */
async function findMoved(
  parsed: ParsedDatasetInfo,
  images: (PathFacts | undefined)[],
  masks: (PathFacts | undefined)[],
  infoDir: string,
  options: CheckOptions,
) {
  const missing = options.searchMovedUnder ? massMissing(parsed, images, masks) : undefined;
  if (!missing || !options.searchMovedUnder) return undefined;
  const found = await findMovedFiles(
    options.searchMovedUnder,
    [...new Set(missing.map((item) => baseName(item.value)))],
    options.signal,
  );
  if (!found) return undefined;
  return { edits: movedPathEdits(missing, found, infoDir), folder: commonFolder(found.values())! };
}

function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) => a.offset - b.offset || SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
}
