/**
 * Human-readable statistics, shared by `neurocache stats` and the editor hovers so both say
 * the same thing in the same words.
 */
import type { DatasetStats } from './arc/datasetInfo';
import { formatPercent, LOW_SEIZURE_RATIO, ManifestStats, STALE_MISSING_FRACTION } from './eeg/manifest';
import { parseNumpyDescr } from './numpy/elements';
import { formatLimit } from './units';

/** "1 entry", "2 entries". */
export const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

const count = (n: number) => (Number.isInteger(n) ? n.toLocaleString('en-US') : `≈${n.toFixed(1)}`);

/** Everything `stats` prints for a manifest: its statistics, then what training does about its problems. */
export function manifestReport(stats: ManifestStats): string[] {
  return [...manifestStatistics(stats), ...manifestFindings(stats)];
}

/** The numbers: files, windows per category, raw and balanced seizure ratio, pos_weight. */
export function manifestStatistics(stats: ManifestStats): string[] {
  const { windows: w, balanced: b } = stats;
  return [
    `Cache files: ${count(stats.files)}${stats.missingFiles ? ` (${count(stats.missingFiles)} missing)` : ''}`,
    `Windows: ${count(stats.total)} = ${count(w.partial_seizure)} partial + ${count(w.full_seizure)} full + ${count(w.no_seizure)} no seizure`,
    `Raw seizure ratio: ${formatPercent(stats.rawSeizureRatio)}`,
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
        (stats.stale ? `over ${formatLimit(STALE_MISSING_FRACTION)}: training discards the manifest and rescans the cache` : 'training skips them'),
    );
  } else if (stats.stale) {
    lines.push('Empty manifest: training discards it and rescans the cache');
  }
  if (stats.refuses) lines.push('No partial seizure windows: training refuses to start');
  else if (stats.lowSeizureRatio) lines.push(`Seizure ratio below ${formatLimit(LOW_SEIZURE_RATIO)}: training warns`);
  return lines;
}

export function datasetReport(stats: DatasetStats): string[] {
  const acquisitions = Object.entries(stats.acquisitions)
    .sort((a, b) => b[1] - a[1])
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');
  const q = stats.lesionVolumes;
  return [
    `Samples: ${stats.samples} from ${stats.subjects} subjects; ${stats.withMask} with a lesion mask`,
    `Acquisitions: ${acquisitions || 'none'}`,
    q
      ? `Lesion volume (voxels): min ${count(q.min)}, Q1 ${count(q.q1)}, median ${count(q.median)}, Q3 ${count(q.q3)}, max ${count(q.max)}`
      : 'Lesion volume: no masks',
    `Paper cohort: ${stats.paperParity.verdict}`,
  ];
}

const KIND_WORDS = { int: 'signed integers', uint: 'unsigned integers', float: 'floating-point numbers', complex: 'complex numbers' } as const;

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
