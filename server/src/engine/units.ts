/**
 * Numbers as people read them, shared by the CLI and the hovers (this module imports nothing;
 * byte counts, which the VS Code client shows too, are formatted by protocol.ts's `formatBytes`).
 */

/** A limit written as a percentage without trailing zeros: 0.05 → "5%", 0.001 → "0.1%". */
export function formatLimit(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(12))}%`;
}
