/**
 * Numbers as people read them, shared by the CLI and the hovers (this module imports nothing;
 * byte counts and waits, which the VS Code client shows too, are formatted by protocol.ts's
 * `formatBytes` and `formatWait`).
 */

/** A limit written as a percentage without trailing zeros: 0.05 → "5%", 0.001 → "0.1%". */
export function formatLimit(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(12))}%`;
}

/** A ratio as a percentage: two decimals, four for a small non-zero ratio ("0.0270%"), "n/a" for NaN. */
export function formatPercent(ratio: number): string {
  if (Number.isNaN(ratio)) return 'n/a';
  return `${(ratio * 100).toFixed(ratio !== 0 && ratio < 0.001 ? 4 : 2)}%`;
}
