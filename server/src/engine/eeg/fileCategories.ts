/**
 * What the per-entry content check needs of each cache file, in typed arrays: whether the file is
 * a plain readable one with labelled windows (then an entry naming it can only be a duplicate, out of range
 * or in the wrong category), its window count, and each window's category. Made once per facts
 * array and kept by it: an edit's check reuses the last check's facts array, and a 1M-entry
 * manifest is then checked by typed-array reads, not by a walk of each file's summary per entry.
 */
import { CATEGORIES } from './category';
import { categoryOf, NpzSummary } from './npz';

/** What it reads of a file's facts (manifestCheck.ts's CacheFileFacts, declared here: that module uses this one). */
interface CacheFileFacts {
  exists: boolean;
  error?: string;
  summary?: NpzSummary;
}

export interface FileCategories {
  /** 1 for a file whose entries take the plain path: exists, read, has labels, windows readable. */
  plain: Uint8Array;
  /** Window count of each plain file (training's count: its label rows). */
  count: Int32Array;
  /** Where a plain file's windows start in `category`. */
  start: Int32Array;
  /** Per window of each plain file, its category as an index into CATEGORIES. */
  category: Uint8Array;
}

const kept = new WeakMap<readonly CacheFileFacts[], FileCategories>();

export function fileCategories(files: readonly CacheFileFacts[]): FileCategories {
  let table = kept.get(files);
  if (!table) kept.set(files, (table = tabulate(files)));
  return table;
}

function tabulate(files: readonly CacheFileFacts[]): FileCategories {
  const plain = new Uint8Array(files.length);
  const count = new Int32Array(files.length);
  const start = new Int32Array(files.length);
  let total = 0;
  files.forEach((facts, id) => {
    const summary = facts?.summary;
    if (!facts?.exists || facts.error || !summary?.hasLabels || summary.windowsError) return;
    // Only counts backed by per-window counts held in memory (labels of shape (2^31, 0) hold no bytes).
    if (summary.samplesPerWindow === 0 || summary.positives.length < summary.windowCount) return;
    plain[id] = 1;
    count[id] = summary.windowCount;
    start[id] = total;
    total += summary.windowCount;
  });
  const category = new Uint8Array(total);
  files.forEach((facts, id) => {
    if (!plain[id]) return;
    for (let w = 0; w < count[id]; w++) category[start[id] + w] = CATEGORIES.indexOf(categoryOf(facts.summary!, w));
  });
  return { plain, count, start, category };
}
