/** The Python builder's manifest for a cache directory, and its exact bytes. */
import { pythonJsonDumpsIndented } from '../json/pythonJsonDump';
import { Category } from './category';
import { categoryOf, NpzSummary } from './npz';

/** The manifest the Python builder writes for these per-file results (files sorted by name). */
export function buildManifest(
  files: { name: string; summary: NpzSummary }[],
): Record<Category, { cache_file: string; window_idx: number }[]> {
  const manifest: Record<Category, { cache_file: string; window_idx: number }[]> = {
    partial_seizure: [],
    full_seizure: [],
    no_seizure: [],
  };
  for (const { name, summary } of files) {
    // Files without labels are left out ("has NO LABELS"), as the builder has done since commit 63689f9.
    if (!summary.hasLabels) continue;
    for (let w = 0; w < summary.windowCount; w++)
      manifest[categoryOf(summary, w)].push({ cache_file: name, window_idx: w });
  }
  return manifest;
}

/**
 * Serialises byte-for-byte like Python's `json.dump(manifest, f, indent=2)` (ASCII-escaped);
 * an empty directory gets the builder's un-indented form.
 */
export function serializeManifest(manifest: Record<Category, unknown[]>, anyFiles: boolean): string {
  return anyFiles ? pythonJsonDumpsIndented(manifest) : '{"partial_seizure": [], "full_seizure": [], "no_seizure": []}';
}

/** Python sorts paths by code point; JavaScript's default sort compares UTF-16 units. */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
