/**
 * Numbers as people read them, shared by the CLI, the hovers and the VS Code client (so this
 * module imports nothing).
 */

/** Decimal units, as download tools print them: "950 B", "12.3 MB", "1.2 GB". */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) (n /= 1000), i++;
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

/** A limit written as a percentage without trailing zeros: 0.05 → "5%", 0.001 → "0.1%". */
export function formatLimit(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(12))}%`;
}

/** A ratio as a percentage: two decimals, four for a small non-zero ratio ("0.0270%"), "n/a" for NaN. */
export function formatPercent(ratio: number): string {
  if (Number.isNaN(ratio)) return 'n/a';
  return `${(ratio * 100).toFixed(ratio !== 0 && ratio < 0.001 ? 4 : 2)}%`;
}

/** "2 m 10 s", "45 s", "1 h 5 m": a wait as people read it (rounded up to the second). */
export function formatWait(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} m${s % 60 ? ` ${s % 60} s` : ''}`;
  const m = Math.ceil((s % 3600) / 60);
  return `${Math.floor(s / 3600)} h${m ? ` ${m} m` : ''}`;
}

/** "1 entry", "2 entries". */
export const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
