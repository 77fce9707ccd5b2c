/**
 * Training's balanced composition of a seizure manifest, from `BalancedSeizureDataset`: the
 * statistics, the entries its `default_rng` picks, and the whole-file findings they lead to.
 */
import { Diagnostic, diagnostic } from '../diagnostics';
import { formatLimit, formatPercent } from '../units';
import { balancedSelection } from '../numpy/random';
import { DEFAULT_COMPOSITION_SETTINGS } from '../../protocol';
import { Category, CATEGORIES } from './category';
import { ParsedManifest } from './manifestParse';

/** Training rescans the cache when more than this fraction of entries reference missing files. */
export const STALE_MISSING_FRACTION = 0.05;
/** Training warns when the balanced seizure ratio is below this. */
export const LOW_SEIZURE_RATIO = 0.001;

/** Training's composition, from `BalancedSeizureDataset`: ratios and the RNG seed. */
export interface CompositionSettings {
  fullRatio: number;
  backgroundRatio: number;
  seed: number;
}

/** The trainer's own (42 / 0.3 / 2.5), kept with the other setting defaults in protocol.ts. */
export const DEFAULT_COMPOSITION: CompositionSettings = DEFAULT_COMPOSITION_SETTINGS;

export interface ManifestStats {
  files: number;
  missingFiles: number;
  windows: Record<Category, number>;
  missingWindows: Record<Category, number>;
  total: number;
  /** Fraction of seizure windows (partial + full) over all entries. */
  rawSeizureRatio: number;
  /** What training builds for `seed`: kept windows per category (entries with missing files are skipped). */
  balanced: {
    seed: number;
    partial: number;
    full: number;
    background: number;
    total: number;
    seizureRatio: number;
    posWeight: number;
  };
  /** Training rebuilds the manifest: no entries, or more than STALE_MISSING_FRACTION reference missing files. */
  stale: boolean;
  /** Training refuses to start: no partial windows. */
  refuses: boolean;
  lowSeizureRatio: boolean;
}

/** pos_weight as training derives it from the seizure ratio. */
export function posWeight(ratio: number): number {
  return ratio > 0 && ratio < 0.5 ? Math.sqrt((1 - ratio) / ratio) : 1.0;
}

/**
 * How many full and no-seizure windows training picks for `partial` partial windows:
 * `int(ratio * len(partial))` in Python (a float product, truncated), at most all of them.
 */
function pickCounts(
  partial: number,
  available: { full: number; background: number },
  settings: CompositionSettings,
): { full: number; background: number } {
  return {
    full: Math.min(Math.trunc(settings.fullRatio * partial), available.full),
    background: Math.min(Math.trunc(settings.backgroundRatio * partial), available.background),
  };
}

/**
 * Entry indices of each category, in document order (the lists training indexes into). Counted
 * first, then written into arrays of those sizes: pushed one by one, a 1M-entry manifest's lists
 * were number arrays of 8 bytes an index, grown step by step (~30 MB allocated per check).
 */
function entriesByCategory(parsed: ParsedManifest): Record<Category, Int32Array> {
  const { count, category, shadowed } = parsed.entries;
  const sizes = CATEGORIES.map(() => 0);
  for (let i = 0; i < count; i++) if (!shadowed.at(i)) sizes[category.at(i)]++;
  const lists = sizes.map((size) => new Int32Array(size));
  const filled = CATEGORIES.map(() => 0);
  for (let i = 0; i < count; i++) {
    if (shadowed.at(i)) continue;
    const c = category.at(i);
    lists[c][filled[c]++] = i;
  }
  return Object.fromEntries(CATEGORIES.map((c, k) => [c, lists[k]])) as Record<Category, Int32Array>;
}

let last: { key: string; picks: ReturnType<typeof balancedSelection> } | undefined;

/**
 * `balancedSelection`, remembered for the last counts: it depends on nothing else, and every
 * check of a manifest edited in place asks again for the same (drawing 70,000 of 1M windows
 * through PCG64 costs more than the rest of the check).
 */
function lastSelection(seed: number, nFull: number, kFull: number, nBackground: number, kBackground: number) {
  const key = `${seed}:${nFull}:${kFull}:${nBackground}:${kBackground}`;
  if (last?.key !== key) last = { key, picks: balancedSelection(seed, nFull, kFull, nBackground, kBackground) };
  return last.picks;
}

/**
 * The entries training picks: `rng.choice(len(full), int(0.3 * len(partial)))` then the same
 * for no-seizure windows, on one `default_rng(seed)` — reproduced exactly (numpyRandom.ts).
 */
export function balancedPicks(
  parsed: ParsedManifest,
  settings = DEFAULT_COMPOSITION,
): { partial: Int32Array; full: number[]; background: number[] } {
  const lists = entriesByCategory(parsed);
  const k = pickCounts(
    lists.partial_seizure.length,
    { full: lists.full_seizure.length, background: lists.no_seizure.length },
    settings,
  );
  const picks = lastSelection(settings.seed, lists.full_seizure.length, k.full, lists.no_seizure.length, k.background);
  return {
    partial: lists.partial_seizure,
    full: picks.full.map((i) => lists.full_seizure[i]),
    background: picks.background.map((i) => lists.no_seizure[i]),
  };
}

/**
 * Statistics and the balanced composition. `fileExists[i]` says whether `parsed.files[i]`
 * exists; entries with an invalid cache_file count as missing, as training would fail to find them.
 */
export function manifestStats(
  parsed: ParsedManifest,
  fileExists: boolean[],
  settings = DEFAULT_COMPOSITION,
): ManifestStats {
  const windows = { partial_seizure: 0, full_seizure: 0, no_seizure: 0 };
  const missingWindows = { partial_seizure: 0, full_seizure: 0, no_seizure: 0 };
  const { entries } = parsed;
  const exists = (i: number) => entries.file.at(i) >= 0 && fileExists[entries.file.at(i)];
  for (let i = 0; i < entries.count; i++) {
    if (entries.shadowed.at(i)) continue;
    const category = CATEGORIES[entries.category.at(i)];
    windows[category]++;
    if (!exists(i)) missingWindows[category]++;
  }
  const total = windows.partial_seizure + windows.full_seizure + windows.no_seizure;
  const missingTotal = missingWindows.partial_seizure + missingWindows.full_seizure + missingWindows.no_seizure;
  const partialAll = windows.partial_seizure;
  let { full, background } = pickCounts(
    partialAll,
    { full: windows.full_seizure, background: windows.no_seizure },
    settings,
  );
  // Only when picks can hit missing files do the kept counts depend on the RNG.
  if ((missingWindows.full_seizure && full) || (missingWindows.no_seizure && background)) {
    const picks = balancedPicks(parsed, settings);
    full = picks.full.filter(exists).length;
    background = picks.background.filter(exists).length;
  }
  const partial = partialAll - missingWindows.partial_seizure;
  const keptTotal = partial + full + background;
  const seizureRatio = keptTotal > 0 ? (partial + full) / keptTotal : 0;
  return {
    files: parsed.files.length,
    missingFiles: fileExists.filter((e) => !e).length,
    windows,
    missingWindows,
    total,
    rawSeizureRatio: total > 0 ? (windows.partial_seizure + windows.full_seizure) / total : 0,
    balanced: {
      seed: settings.seed,
      partial,
      full,
      background,
      total: keptTotal,
      seizureRatio,
      posWeight: posWeight(seizureRatio),
    },
    stale: total === 0 || missingTotal / total > STALE_MISSING_FRACTION,
    refuses: partialAll === 0,
    lowSeizureRatio: keptTotal > 0 && seizureRatio < LOW_SEIZURE_RATIO,
  };
}

/** Whole-file findings from the statistics, anchored on the root keys they concern. */
export function compositionDiagnostics(parsed: ParsedManifest, stats: ManifestStats): Diagnostic[] {
  if (!parsed.isManifest) return [];
  const keyOf = (category: Category) =>
    (parsed.rootKeys.find((k) => k.category === category) ?? parsed.rootKeys[0]).key;
  const out: Diagnostic[] = [];
  if (stats.stale) {
    const missing = Object.values(stats.missingWindows).reduce((a, b) => a + b, 0);
    const why =
      stats.total === 0
        ? 'it has no entries'
        : `${missing} of ${stats.total} entries (${formatPercent(missing / stats.total)}) reference missing files, over the ${formatLimit(STALE_MISSING_FRACTION)} limit`;
    out.push(
      diagnostic(
        parsed.rootKeys[0].key,
        'error',
        'stale-manifest',
        `Training will discard this manifest and rescan the cache: ${why}.`,
      ),
    );
  }
  if (stats.refuses) {
    out.push(
      diagnostic(
        keyOf('partial_seizure'),
        'error',
        'no-partial-windows',
        'No partial seizure windows: training refuses to start.',
      ),
    );
  } else if (stats.lowSeizureRatio) {
    out.push(
      diagnostic(
        keyOf('partial_seizure'),
        'warning',
        'low-seizure-ratio',
        `Balanced seizure ratio ${formatPercent(stats.balanced.seizureRatio)} is below ${formatLimit(LOW_SEIZURE_RATIO)}: training warns and will learn little.`,
      ),
    );
  }
  return out;
}
