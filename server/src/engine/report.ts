/**
 * Human-readable statistics, shared by `neurocache stats` and the editor hovers so both say
 * the same thing in the same words.
 */
import type { DatasetStats } from './arc/datasetInfo';
import type { NestedFolds } from './arc/folds';
import type { DatasetIndexStats, IndexOutcome } from './eeg/datasetIndex';
import { LOW_SEIZURE_RATIO, ManifestStats, STALE_MISSING_FRACTION } from './eeg/composition';
import type { ReadCost } from './eeg/readCost';
import { parseNumpyDescr } from './numpy/elements';
import { formatBytes, plural } from '../protocol';
import { formatLimit, formatPercent } from './units';

export { plural } from '../protocol';

// Percentiles between two volumes are exact halves or fractions (numpy's linear interpolation):
// written with the same separators as whole numbers, not as an approximation.
// One formatter made once: toLocaleString with options builds a new Intl.NumberFormat per call
// (~50 µs measured, against ~1.5 µs for format), and a manifest hover formats a dozen numbers.
// Made on first use: the first Intl.NumberFormat loads ICU's number data, 13-18 ms measured,
// which every CLI command importing this module paid at start-up (a local build is ~170 ms).
let twoDecimals: Intl.NumberFormat | undefined;
const count = (n: number) => (twoDecimals ??= new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 })).format(n);

/** Everything `stats` prints for a manifest: its statistics, then what training does about its problems. */
export function manifestReport(stats: ManifestStats): string[] {
  return [...manifestStatistics(stats), ...manifestFindings(stats)];
}

/** The numbers: files, windows per category, raw and balanced seizure ratio, pos_weight. */
export function manifestStatistics(stats: ManifestStats): string[] {
  const { windows: w, balanced: b } = stats;
  const files = [
    `Cache files named by the manifest: ${count(stats.files)}${stats.missingFiles ? ` (${count(stats.missingFiles)} missing)` : ''}`,
    `Windows: ${count(stats.total)} = ${count(w.partial_seizure)} partial + ${count(w.full_seizure)} full + ${count(w.no_seizure)} no seizure`,
    `Raw seizure ratio: ${formatPercent(stats.rawSeizureRatio)}`,
  ];
  // Training never builds a balanced set from a stale manifest: it rescans first, so numbers
  // drawn from this one would describe a set nobody trains on.
  if (stats.stale)
    return [
      ...files,
      'Balanced training set: none from this manifest (training discards it and rescans the cache first)',
    ];
  return [
    ...files,
    `Balanced training set (seed ${b.seed}): ${count(b.total)} = ${count(b.partial)} partial + ${count(b.full)} full + ${count(b.background)} no seizure`,
    `Balanced seizure ratio: ${formatPercent(b.seizureRatio)}, pos_weight ${b.posWeight.toFixed(4)}`,
  ];
}

/** Whole-file findings and what training does about them: missing references, staleness, refusal. */
export function manifestFindings(stats: ManifestStats): string[] {
  const m = stats.missingWindows;
  const missing = m.partial_seizure + m.full_seizure + m.no_seizure;
  const lines: string[] = [];
  if (missing) {
    lines.push(
      `Missing references: ${plural(missing, 'entry', 'entries')} (${formatPercent(missing / stats.total)}); ` +
        (stats.stale
          ? `over ${formatLimit(STALE_MISSING_FRACTION)}: training discards the manifest and rescans the cache`
          : 'training skips them'),
    );
  } else if (stats.stale) {
    lines.push('Empty manifest: training discards it and rescans the cache');
  }
  if (stats.refuses) lines.push('No partial seizure windows: training refuses to start');
  else if (stats.lowSeizureRatio) lines.push(`Seizure ratio below ${formatLimit(LOW_SEIZURE_RATIO)}: training warns`);
  return lines;
}

/** What training's reads cost: per sample (whole members inflated for one window) and per balanced epoch. */
export function readCostReport(cost: ReadCost): string[] {
  const { perSample: s, epoch: e } = cost;
  const unknown = e.unknown ? ` (${plural(e.unknown, 'sample')} of unreadable files not counted)` : '';
  return [
    `Training reads per sample: ${formatBytes(s.inflated)} inflated from ${formatBytes(s.stored)} stored, to use one window of ${formatBytes(s.used)} (training inflates the whole windows and labels members of the file for each sample)`,
    `Per epoch of the balanced set (seed ${e.seed}, ${count(e.samples)} samples): ${formatBytes(e.inflated)} inflated, ${formatBytes(e.stored)} read from storage${unknown}`,
  ];
}

export function datasetReport(stats: DatasetStats): string[] {
  const acquisitions = Object.entries(stats.acquisitions)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  const q = stats.lesionVolumes;
  return [
    `Samples: ${count(stats.samples)} from ${plural(stats.subjects, 'subject')}; ${count(stats.withMask)} with a lesion mask`,
    `Acquisitions: ${acquisitions || 'none'}`,
    q
      ? `Lesion volume (voxels): min ${count(q.min)}, Q1 ${count(q.q1)}, median ${count(q.median)}, Q3 ${count(q.q3)}, max ${count(q.max)}`
      : 'Lesion volume: no masks',
    `Paper cohort: ${stats.paperParity.verdict}`,
  ];
}

const KIND_WORDS = {
  int: 'signed integers',
  uint: 'unsigned integers',
  float: 'floating-point numbers',
  complex: 'complex numbers',
} as const;

/**
 * An element type in plain words instead of numpy's code: `|u1` → "8-bit unsigned integers",
 * `<f4` or `float32` → "32-bit floating-point numbers", `|b1` → "booleans (true/false)";
 * ", big-endian" when it is. A type it does not know is named as numpy writes it.
 */
export function dtypeInWords(dtype: string): string {
  let type;
  try {
    type = parseNumpyDescr(dtype);
  } catch {
    return `type ${dtype}`;
  }
  if (type.kind === 'bool') return 'booleans (true/false)';
  if (type.kind === 'timedelta') return 'time differences (numpy timedelta64)';
  const order = !type.littleEndian && type.size > 1 ? ', big-endian' : '';
  return `${type.size * 8}-bit ${KIND_WORDS[type.kind]}${order}`;
}

const INDEX_OUTCOMES: Record<IndexOutcome['kind'], string> = {
  trusted: 'EEGWindowDataset uses it as is on start-up, without opening the caches',
  rebuilt: 'EEGWindowDataset cannot use it: it opens every cache file again and rewrites it',
  'rebuilt-corrupt':
    'EEGWindowDataset fails on it part-way, opens every cache file again and writes the bad list back (on every start)',
  crash: 'EEGWindowDataset raises on it: training stops at start-up',
};

export function datasetIndexReport(stats: DatasetIndexStats): string[] {
  return [
    `EDF files: ${count(stats.files)}${stats.missingCacheFiles ? ` (${count(stats.missingCacheFiles)} without a cache file: preprocessed again on demand)` : ''}`,
    `Windows: ${count(stats.windows)} (the sum of window_counts)`,
    `Start-up: ${INDEX_OUTCOMES[stats.outcome]}`,
  ];
}

/** Rows of cells; the first row is the header. Rendered as aligned text or a markdown table. */
export type Table = string[][];

/**
 * The nested cross-validation as arc-meshchop train makes it: a heading, the stratum × outer
 * test fold table (with fold sizes and lesion-volume ranges), inner train/val sizes, and
 * scikit-learn's warnings; or where train stops.
 */
export function foldsReport(
  folds: NestedFolds,
  volumes: readonly (number | undefined)[],
): { lines: string[]; table?: Table; notes: string[] } {
  const { seed, outerFolds, innerFolds } = folds.settings;
  const heading = `Cross-validation as arc-meshchop train splits it: StratifiedKFold, seed ${seed}, ${outerFolds} outer × ${innerFolds} inner folds`;
  const warnings = folds.warnings.map((w) => `scikit-learn warns — ${w}`);
  if (!folds.ok) return { lines: [heading, `Train stops: ${folds.error}`], notes: warnings };
  const labels = folds.labels ?? [];
  const perFold = folds.outer.map((f) => {
    const counts = new Map<string, number>();
    for (const i of f.test) counts.set(labels[i], (counts.get(labels[i]) ?? 0) + 1);
    return counts;
  });
  const table: Table = [['Stratum', 'Samples', ...folds.outer.map((_, k) => `Test fold ${k}`)]];
  for (const [stratum, size] of Object.entries(folds.strata))
    table.push([stratum, count(size), ...perFold.map((c) => count(c.get(stratum) ?? 0))]);
  table.push(['All', count(labels.length), ...folds.outer.map((f) => count(f.test.length))]);
  table.push([
    'Lesion volume',
    volumeRange(volumes),
    ...folds.outer.map((f) => volumeRange(f.test.map((i) => volumes[i]))),
  ]);
  const inner = folds.outer.map(
    (f, k) => `outer fold ${k}: ${f.inner.map((i) => `${i.train.length}/${i.val.length}`).join(', ')}`,
  );
  return { lines: [heading], table, notes: [`Inner train/val sizes — ${inner.join('; ')}`, ...warnings] };
}

function volumeRange(volumes: readonly (number | undefined)[]): string {
  let low = Infinity;
  let high = -Infinity;
  for (const v of volumes) {
    if (v === undefined) continue;
    low = Math.min(low, v);
    high = Math.max(high, v);
  }
  return low <= high ? `${count(low)}–${count(high)}` : '–';
}

/** Control characters (possible in acquisition names) shown as escapes, so a row stays one line. */
const printable = (cell: string) =>
  cell.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Aligned plain-text rows: first column left-aligned, the others right-aligned. */
export function textTable(table: Table): string[] {
  const cells = table.map((row) => row.map(printable));
  const width = (cell: string) => [...cell].length;
  const widths = cells[0].map((_, c) => Math.max(...cells.map((row) => width(row[c] ?? ''))));
  const pad = (cell: string, c: number) => ' '.repeat(widths[c] - width(cell));
  return cells.map((row) =>
    row
      .map((cell, c) => (c === 0 ? cell + pad(cell, c) : pad(cell, c) + cell))
      .join('  ')
      .trimEnd(),
  );
}

/** Markdown's punctuation that a cell's text could take for markup (\x60 is the backquote). */
const MARKDOWN_PUNCTUATION = /[|\\\x60*_<>[\]]/g;

/** A markdown table (markdown punctuation in cells escaped). */
export function markdownTable(table: Table): string {
  const line = (row: string[]) =>
    `| ${row.map((cell) => printable(cell).replace(MARKDOWN_PUNCTUATION, (m) => `\\${m}`)).join(' | ')} |`;
  return [
    line(table[0]),
    `|${table[0].map((_, c) => (c === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...table.slice(1).map(line),
  ].join('\n');
}

/** One sample's place in the nested cross-validation: its stratum, outer test fold and inner validation folds. */
export function sampleFoldsLine(folds: NestedFolds, index: number): string | undefined {
  const stratum = folds.labels?.[index];
  if (stratum === undefined) return undefined;
  if (!folds.ok) return `Stratum ${stratum}`;
  const test = folds.outer.findIndex((f) => f.test.includes(index));
  const validation = folds.outer.flatMap((f, k) => {
    const v = f.inner.findIndex((inner) => inner.val.includes(index));
    return v < 0 ? [] : [`${v} of outer fold ${k}`];
  });
  return `Stratum ${stratum}; test sample in outer fold ${test}; validation sample in inner fold ${validation.join(', ')}`;
}
