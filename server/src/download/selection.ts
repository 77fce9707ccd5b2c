/**
 * Which Hub rows become samples, as the Python `download` decides: SPACE 2x and SPACE
 * no-accel (turbo spin echo only when asked), a lesion mask unless told otherwise, the first
 * T2w run. Pure: rows in, decisions and a breakdown out.
 */
import { isPaperCohort, PAPER_COHORT } from '../engine/arc/datasetInfo';
import type { RowProblemReason } from '../protocol';

export interface DownloadFilters {
  includeTse: boolean;
  requireMask: boolean;
}

export interface HubRow {
  /** null when the column is null or not a string. */
  subject: string | null;
  session: string | null;
  acquisition: string | null;
  t2w: Uint8Array | null;
  lesion: Uint8Array | null;
}

export type Decision = { keep: true; acquisition: string } | { keep: false; reason: SkipReason };
/** Rows the filters leave out, as the Python download does. */
export type FilterReason = 'no-t2w' | 'turbo-spin-echo' | 'other-acquisition' | 'no-mask';
/** Rows the filters keep but that cannot be used: reported one by one, never written. */
export type ProblemReason = RowProblemReason;
export type SkipReason = FilterReason | ProblemReason;

const ACQUISITION_NAMES: Record<string, string> = {
  space_2x: 'space_2x',
  space_no_accel: 'space_no_accel',
  turbo_spin_echo: 'turbo_spin_echo',
};

export function decide(row: HubRow, filters: DownloadFilters): Decision {
  if (!row.t2w) return { keep: false, reason: 'no-t2w' };
  const acquisition = ACQUISITION_NAMES[row.acquisition ?? ''] ?? 'unknown';
  if (acquisition === 'turbo_spin_echo' && !filters.includeTse) return { keep: false, reason: 'turbo-spin-echo' };
  if (acquisition === 'unknown') return { keep: false, reason: 'other-acquisition' };
  if (!row.lesion && filters.requireMask) return { keep: false, reason: 'no-mask' };
  return { keep: true, acquisition };
}

export interface Breakdown {
  rows: number;
  kept: number;
  acquisitions: Record<string, number>;
  skipped: Record<SkipReason, number>;
}

export function emptyBreakdown(): Breakdown {
  return {
    rows: 0,
    kept: 0,
    acquisitions: {},
    skipped: {
      'no-t2w': 0,
      'turbo-spin-echo': 0,
      'other-acquisition': 0,
      'no-mask': 0,
      'bad-id': 0,
      'bad-image': 0,
      'bad-mask': 0,
      duplicate: 0,
    },
  };
}

/** Adds `other` into `breakdown` (shards into the whole download). */
export function addBreakdown(breakdown: Breakdown, other: Breakdown): void {
  breakdown.rows += other.rows;
  breakdown.kept += other.kept;
  for (const [a, n] of Object.entries(other.acquisitions))
    breakdown.acquisitions[a] = (breakdown.acquisitions[a] ?? 0) + n;
  for (const [k, n] of Object.entries(other.skipped))
    breakdown.skipped[k as SkipReason] = (breakdown.skipped[k as SkipReason] ?? 0) + n;
}

export function tally(breakdown: Breakdown, decision: Decision): void {
  breakdown.rows++;
  if (decision.keep) {
    breakdown.kept++;
    breakdown.acquisitions[decision.acquisition] = (breakdown.acquisitions[decision.acquisition] ?? 0) + 1;
  } else breakdown.skipped[decision.reason]++;
}

export function describeBreakdown(b: Breakdown): string {
  const kept =
    Object.entries(b.acquisitions)
      .map(([a, n]) => `${n} ${a}`)
      .join(' + ') || 'none';
  const skipped = Object.entries(b.skipped)
    .filter(([, n]) => n)
    .map(([r, n]) => `${n} ${r}`)
    .join(', ');
  return `${b.kept} of ${b.rows} sessions kept (${kept})${skipped ? `; skipped ${skipped}` : ''}`;
}

/** The paper cohort check: 223 = 115 SPACE 2x + 108 SPACE no-accel. Undefined when it holds. */
export function paperParityProblem(b: Breakdown): string | undefined {
  if (isPaperCohort(b.kept, b.acquisitions)) return undefined;
  return `expected the paper cohort of ${PAPER_COHORT.total} = ${PAPER_COHORT.space_2x} space_2x + ${PAPER_COHORT.space_no_accel} space_no_accel, got ${describeBreakdown(b)}`;
}
