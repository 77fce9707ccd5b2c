/**
 * The cross-validation folds `arc-meshchop train` splits a dataset_info.json into (docs/formats.md "ARC dataset_info.json"),
 * reproduced exactly so a person sees them before hours of training:
 *
 * - stratum per sample: `f"{get_lesion_quintile(volume)}_{acquisition}"` (data/preprocessing.py,
 *   data/config.py LESION_QUINTILES, data/splits.py create_stratification_labels);
 * - outer folds: scikit-learn `StratifiedKFold(n_splits, shuffle=True, random_state=seed)` over
 *   all samples; inner folds: the same splitter (a fresh RandomState(seed)) over each outer
 *   training set, indices mapped back to the original order (splits.py generate_nested_cv_splits);
 * - scikit-learn 1.2's `_make_test_folds`, its warning and its ValueErrors, in its order.
 *
 * Re-derived from those sources, not copied; the tests compare with scikit-learn itself.
 */
import type { ParsedDatasetInfo } from './datasetInfo';
import { Diagnostic, diagnostic } from '../diagnostics';
import { isLegacySeed, LegacyRandomState, SEED_RANGE_MESSAGE } from '../numpy/legacyRandom';
import { DEFAULT_CV_SETTINGS } from '../../protocol';

/** arc-meshchop `LESION_QUINTILES` (voxels): inclusive ranges, first match wins, so a shared bound belongs to the lower quintile. */
export const LESION_QUINTILES = [
  { label: 'Q1', low: 203, high: 33_619 },
  { label: 'Q2', low: 33_619, high: 67_891 },
  { label: 'Q3', low: 67_891, high: 128_314 },
  { label: 'Q4', low: 128_314, high: 363_885 },
] as const;

/** `get_lesion_quintile`: a volume below every range is Q1, above every range Q4. */
export function lesionQuintile(volume: number): string {
  for (const q of LESION_QUINTILES) if (q.low <= volume && volume <= q.high) return q.label;
  return volume < LESION_QUINTILES[0].low ? 'Q1' : 'Q4';
}

export const stratumLabel = (volume: number, acquisition: string): string => `${lesionQuintile(volume)}_${acquisition}`;

/** Seed and fold counts of the nested split; arc-meshchop's train hard-codes 42, 3 and 3. */
export interface CvSettings {
  seed: number;
  outerFolds: number;
  innerFolds: number;
}

/** arc-meshchop's (42 / 3 / 3), kept with the other setting defaults in protocol.ts. */
export const DEFAULT_CV: CvSettings = DEFAULT_CV_SETTINGS;

/** A ValueError scikit-learn (or numpy, for the seed) raises: arc-meshchop stops on it. */
export class SplitError extends Error {
  /** What it is about: too few samples, too small strata, or the seed / fold count itself. */
  constructor(
    message: string,
    readonly about: 'samples' | 'strata' | 'settings',
  ) {
    super(message);
  }
}

/**
 * numpy compares `<U` strings after dropping trailing NULs (`np.array(["a\0"])[0] == "a"`), so
 * labels that differ only there are one class to scikit-learn.
 */
const numpyString = (s: string): string => s.replace(/\0+$/, '');

export interface KFold {
  /** Test indices of each split, ascending, in split order; the training set is the rest. */
  tests: number[][];
  /** scikit-learn's UserWarning when the smallest class has fewer members than folds. */
  warning?: string;
}

/** `StratifiedKFold(nSplits, shuffle=True, random_state=seed).split(X, labels)`; throws SplitError where scikit-learn raises. */
export function stratifiedKFold(labels: readonly string[], nSplits: number, seed: number): KFold {
  // Checked in scikit-learn's order: constructor, check_array(y), n_splits vs samples, then
  // _make_test_folds (check_random_state, class counts).
  if (!Number.isInteger(nSplits))
    throw new SplitError(
      `The number of folds must be of Integral type. ${nSplits} of type <class 'float'> was passed.`,
      'settings',
    );
  if (nSplits <= 1) {
    throw new SplitError(
      `k-fold cross-validation requires at least one train/test split by setting n_splits=2 or more, got n_splits=${nSplits}.`,
      'settings',
    );
  }
  const n = labels.length;
  if (n === 0)
    throw new SplitError('Found array with 0 sample(s) (shape=(0,)) while a minimum of 1 is required.', 'samples');
  if (nSplits > n)
    throw new SplitError(
      `Cannot have number of splits n_splits=${nSplits} greater than the number of samples: n_samples=${n}.`,
      'samples',
    );
  if (!isLegacySeed(seed)) throw new SplitError(SEED_RANGE_MESSAGE, 'settings');
  const rng = new LegacyRandomState(seed);

  // Classes numbered by first appearance (what np.unique's return_index/inverse dance yields).
  const classOf = new Map<string, number>();
  const encoded = labels.map((label) => {
    const key = numpyString(label);
    let k = classOf.get(key);
    if (k === undefined) classOf.set(key, (k = classOf.size));
    return k;
  });
  const counts = new Array<number>(classOf.size).fill(0);
  for (const k of encoded) counts[k]++;
  if (counts.every((c) => nSplits > c))
    throw new SplitError(`n_splits=${nSplits} cannot be greater than the number of members in each class.`, 'strata');
  const smallest = counts.reduce((a, b) => Math.min(a, b));
  const warning =
    nSplits > smallest
      ? `The least populated class in y has only ${smallest} members, which is less than n_splits=${nSplits}.`
      : undefined;

  // Round robin over the sorted encoded labels: position p of that order goes to fold p % nSplits,
  // and class k holds positions [start, start + counts[k]). Each class's fold numbers, in
  // blocks, are then shuffled and dealt to its samples in index order.
  const members: number[][] = counts.map(() => []);
  encoded.forEach((k, i) => members[k].push(i));
  const foldOf = new Array<number>(n);
  let start = 0;
  for (let k = 0; k < counts.length; k++) {
    const folds: number[] = [];
    for (let fold = 0; fold < nSplits; fold++) {
      const first = start + ((fold - (start % nSplits) + nSplits) % nSplits);
      for (let p = first; p < start + counts[k]; p += nSplits) folds.push(fold);
    }
    rng.shuffle(folds);
    members[k].forEach((sample, j) => (foldOf[sample] = folds[j]));
    start += counts[k];
  }
  const tests: number[][] = Array.from({ length: nSplits }, () => []);
  foldOf.forEach((fold, sample) => tests[fold].push(sample));
  return { tests, ...(warning ? { warning } : {}) };
}

export interface OuterFold {
  test: number[];
  inner: { train: number[]; val: number[] }[];
}

/** Where in `generate_nested_cv_splits` a warning or error arises. */
export type SplitStage = { outer: true } | { innerOf: number };

export const stageName = (stage: SplitStage): string =>
  'innerOf' in stage ? `Inner split of outer fold ${stage.innerOf}` : 'Outer split';

/** A stratum scikit-learn warns about: fewer members than folds, in the outer split or in an outer fold's training set. */
export interface SmallStratum {
  stratum: string;
  /** Its samples (all of them, in the whole set). */
  samples: number[];
  /** Its size when the outer split warns about it. */
  outerCount?: number;
  /** Its size in the training sets of the outer folds whose inner split warns about it. */
  innerCounts: { outerFold: number; count: number }[];
}

interface FoldsCommon {
  settings: CvSettings;
  /** Stratum sizes by label (as numpy compares them), sorted by label. */
  strata?: Record<string, number>;
  /** scikit-learn's warnings, prefixed by the split that emits them, in Python's order. */
  warnings: string[];
  /** The strata behind those warnings (for diagnostics; not part of the JSON). */
  small: SmallStratum[];
  /** Each sample's stratum as numpy compares it, when the labels could be made (not part of the JSON). */
  labels?: string[];
}

export type NestedFolds =
  | (FoldsCommon & { ok: true; strata: Record<string, number>; outer: OuterFold[] })
  | (FoldsCommon & {
      ok: false;
      stage: 'parse' | 'masks' | 'outer' | 'inner';
      outerFold?: number;
      error: string;
      about?: SplitError['about'];
    });

export function strataCounts(labels: readonly string[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const label of labels) counts.set(numpyString(label), (counts.get(numpyString(label)) ?? 0) + 1);
  return Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `generate_nested_cv_splits(n, labels, outerFolds, innerFolds, seed)`: warnings in the order Python emits them; the first error stops it. */
export function nestedFolds(labels: readonly string[], settings: CvSettings): NestedFolds {
  const strata = strataCounts(labels);
  const common = {
    settings,
    strata,
    warnings: [] as string[],
    small: [] as SmallStratum[],
    labels: labels.map(numpyString),
  };
  const members = new Map<string, number[]>();
  common.labels.forEach((label, i) => (members.get(label) ?? members.set(label, []).get(label)!).push(i));
  const small = new Map<string, SmallStratum>();
  const smallEntry = (stratum: string): SmallStratum => {
    let e = small.get(stratum);
    if (!e) small.set(stratum, (e = { stratum, samples: members.get(stratum) ?? [], innerCounts: [] }));
    return e;
  };
  const fail = (stage: SplitStage, error: unknown): NestedFolds => {
    if (!(error instanceof SplitError)) throw error;
    common.small = [...small.values()];
    const where =
      'innerOf' in stage ? { stage: 'inner' as const, outerFold: stage.innerOf } : { stage: 'outer' as const };
    return { ...common, ok: false, ...where, error: `${stageName(stage)}: ${error.message}`, about: error.about };
  };
  let outerSplit: KFold;
  try {
    outerSplit = stratifiedKFold(labels, settings.outerFolds, settings.seed);
  } catch (error) {
    return fail({ outer: true }, error);
  }
  if (outerSplit.warning) common.warnings.push(`${stageName({ outer: true })}: ${outerSplit.warning}`);
  for (const [stratum, count] of Object.entries(strata))
    if (count < settings.outerFolds) smallEntry(stratum).outerCount = count;

  const outer: OuterFold[] = [];
  for (const [k, test] of outerSplit.tests.entries()) {
    const training = complement(test, labels.length);
    const trainingLabels = training.map((i) => labels[i]);
    let innerSplit: KFold;
    try {
      innerSplit = stratifiedKFold(trainingLabels, settings.innerFolds, settings.seed);
    } catch (error) {
      return fail({ innerOf: k }, error);
    }
    if (innerSplit.warning) common.warnings.push(`${stageName({ innerOf: k })}: ${innerSplit.warning}`);
    for (const [stratum, count] of Object.entries(strataCounts(trainingLabels))) {
      if (count < settings.innerFolds && strata[stratum] >= settings.outerFolds)
        smallEntry(stratum).innerCounts.push({ outerFold: k, count });
    }
    // Inner indices point into the training set; map them back to sample indices.
    const inner = innerSplit.tests.map((val) => ({
      train: complement(val, training.length).map((i) => training[i]),
      val: val.map((i) => training[i]),
    }));
    outer.push({ test, inner });
  }
  return { ...common, small: [...small.values()], ok: true, outer };
}

/** 0..n-1 without the (ascending) `excluded`. */
function complement(excluded: readonly number[], n: number): number[] {
  const skip = new Set(excluded);
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (!skip.has(i)) out.push(i);
  return out;
}

/**
 * The folds `arc-meshchop train` makes of a parsed dataset_info.json, or where it stops first:
 * `parse_dataset_info` (schema), `validate_masks_present` (null masks), then the splits.
 */
export function datasetFolds(parsed: ParsedDatasetInfo, settings: CvSettings): NestedFolds {
  if (parsed.schema.some((d) => d.severity === 'error')) {
    return {
      ok: false,
      settings,
      stage: 'parse',
      warnings: [],
      small: [],
      error:
        "dataset_info.json does not pass arc-meshchop's parse_dataset_info (see its schema errors): train stops before splitting.",
    };
  }
  const missing = parsed.samples.filter((s) => s.mask?.value === null).map((s) => s.index);
  const labels = parsed.samples.map((s) => stratumLabel(s.volume!.value, s.acquisition!.value));
  if (missing.length)
    return {
      ok: false,
      settings,
      stage: 'masks',
      error: masksRefused(missing),
      strata: strataCounts(labels),
      warnings: [],
      small: [],
      labels: labels.map(numpyString),
    };
  return nestedFolds(labels, settings);
}

/** `validate_masks_present(..., context="Training")`'s ValueError text. */
export function masksRefused(indices: number[]): string {
  const more = indices.length > 5 ? `... and ${indices.length - 5} more` : '';
  return (
    `Training requires lesion masks, but ${indices.length} samples have None masks (indices: [${indices.slice(0, 5).join(', ')}]${more}). ` +
    "Re-download dataset with 'arc-meshchop download' (default requires masks)."
  );
}

/** The `folds` object of `stats --folds --json` (docs/cli.md, `stats`). */
export function foldsJson(folds: NestedFolds) {
  const { settings, strata, warnings } = folds;
  return folds.ok
    ? { ok: true, settings, strata, warnings, outer: folds.outer }
    : {
        ok: false,
        stage: folds.stage,
        ...(folds.outerFold === undefined ? {} : { outerFold: folds.outerFold }),
        error: folds.error,
        settings,
        ...(strata ? { strata } : {}),
        warnings,
      };
}

/**
 * `cv-small-stratum` on the lesion volume of every sample of a stratum scikit-learn warns
 * about, and `cv-split-fails` where a split raises (train stops; experiment, which splits only
 * the outer folds, stops only when the outer split does).
 */
export function foldDiagnostics(parsed: ParsedDatasetInfo, folds: NestedFolds): Diagnostic[] {
  const out: Diagnostic[] = [];
  const { outerFolds, innerFolds } = folds.settings;
  for (const small of folds.small) {
    const total = folds.strata?.[small.stratum] ?? small.samples.length;
    const message =
      small.outerCount !== undefined
        ? `Stratum ${small.stratum} has ${count(small.outerCount, 'sample')}, fewer than the ${outerFolds} outer folds: scikit-learn warns, and ` +
          `${outerFolds - small.outerCount} of the outer test folds get none of it.`
        : `Stratum ${small.stratum} has ${count(total, 'sample')}, ${small.innerCounts.map((c) => `${c.count} in the training set of outer fold ${c.outerFold}`).join(', ')}: ` +
          `fewer than the ${innerFolds} inner folds, so scikit-learn warns and some inner validation folds get none of it.`;
    for (const index of small.samples) {
      const where = parsed.samples[index]?.volume ?? parsed.samples[index]?.acquisition;
      if (where) out.push(diagnostic(where, 'warning', 'cv-small-stratum', message));
    }
  }
  if (!folds.ok && (folds.stage === 'outer' || folds.stage === 'inner')) {
    const key =
      (folds.about === 'strata' ? parsed.keys.acquisition_types : parsed.keys.image_paths) ??
      parsed.keys.image_paths ??
      parsed.keys.mask_paths;
    const consequence =
      folds.stage === 'outer'
        ? 'arc-meshchop train and experiment stop before training.'
        : 'arc-meshchop train stops before training (experiment, which uses only the outer folds, runs).';
    if (key)
      out.push(
        diagnostic(key, 'error', 'cv-split-fails', `scikit-learn raises ValueError. ${folds.error} ${consequence}`),
      );
  }
  return out;
}

const count = (n: number, one: string) => `${n} ${n === 1 ? one : `${one}s`}`;
