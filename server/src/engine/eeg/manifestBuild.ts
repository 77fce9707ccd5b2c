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

/**
 * Python sorts paths by code point; JavaScript's default sort compares UTF-16 units. Compared
 * in place from the first unit that differs (spreading both names into arrays of code points
 * per comparison made 16 MB of garbage sorting a 35,000-file listing): the order of code units
 * is the order of code points except where a surrogate meets another unit, so there the code
 * points are read, from the start of the code point the difference falls in.
 */
export function compareCodePoints(a: string, b: string): number {
  const shared = Math.min(a.length, b.length);
  let i = 0;
  while (i < shared && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === shared) return a.length - b.length; // a prefix in units is a prefix in code points, or a lone surrogate before a pair
  const x = a.charCodeAt(i);
  const y = b.charCodeAt(i);
  if (!isSurrogate(x) && !isSurrogate(y)) return x - y;
  // A shared high surrogate before: the code points differ from there (a pair against a lone one).
  const start = i > 0 && isHighSurrogate(a.charCodeAt(i - 1)) ? i - 1 : i;
  const d = a.codePointAt(start)! - b.codePointAt(start)!;
  return d !== 0 ? d : a.codePointAt(i)! - b.codePointAt(i)!;
}

const isSurrogate = (unit: number) => unit >= 0xd800 && unit <= 0xdfff;
const isHighSurrogate = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;
