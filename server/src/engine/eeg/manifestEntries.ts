/**
 * The manifest's entries as parallel typed arrays (a columnar index): 150,000 entries stay a
 * few MB, and hovers look entries up by offset instead of walking a tree.
 */
import type { TextSpan } from '../diagnostics';
import { ByteColumn, IntColumn, NumberColumn, OffsetColumn } from './entryColumn';

/** Entries in parallel columns (entryColumn.ts); index i is the i-th entry in document order. */
export interface ManifestEntries {
  count: number;
  category: ByteColumn; // index into CATEGORIES
  file: IntColumn; // index into files, -1 when cache_file is missing or not a valid name
  window: NumberColumn; // int(window_idx) as training computes it; NaN when missing or when int() raises
  entryOffset: OffsetColumn;
  entryLength: IntColumn;
  /**
   * Where the cache_file and window_idx values start, counted from the entry's start (-1 when
   * absent): an edit that moves later entries then shifts only `entryOffset` (by one number per
   * chunk, entryColumn.ts), not three offset columns (fileSpan, windowSpan).
   */
  fileStart: IntColumn;
  fileLength: IntColumn;
  windowStart: IntColumn;
  windowLength: IntColumn;
  /** 1 for entries of a category key that appears again later: Python's json keeps only the last. */
  shadowed: ByteColumn;
}

/**
 * Growable columns the parser fills, trimmed into `ManifestEntries` at the end. Given room for
 * every entry up front (`entryCapacity`), they are allocated once: grown by doubling from 1024,
 * a 1M-entry manifest held its 1M columns, their 2M successors and the trimmed copy at once
 * (~150 MB of the malloc heap, whose pages stay resident after they are freed).
 */
export class EntryColumns {
  count = 0;
  capacity = 0;
  category = new Uint8Array(0);
  file = new Int32Array(0);
  window = new Float64Array(0);
  entryOffset = new Int32Array(0);
  entryLength = new Int32Array(0);
  fileStart = new Int32Array(0);
  fileLength = new Int32Array(0);
  windowStart = new Int32Array(0);
  windowLength = new Int32Array(0);
  shadowed = new Uint8Array(0);

  constructor(capacity = 1024) {
    this.resize(Math.max(1, capacity));
  }

  add(category: number, offset: number): number {
    if (this.count === this.capacity) this.resize(this.capacity * 2);
    const i = this.count++;
    this.category[i] = category;
    this.file[i] = -1;
    this.window[i] = NaN;
    this.entryOffset[i] = offset;
    this.fileStart[i] = -1;
    this.windowStart[i] = -1;
    this.shadowed[i] = 0;
    return i;
  }

  private resize(capacity: number): void {
    this.capacity = capacity;
    for (const key of [
      'category',
      'file',
      'window',
      'entryOffset',
      'entryLength',
      'fileStart',
      'fileLength',
      'windowStart',
      'windowLength',
      'shadowed',
    ] as const) {
      const old = this[key];
      const next = new (old.constructor as new (n: number) => typeof old)(this.capacity);
      next.set(old as never);
      (this as Record<typeof key, typeof old>)[key] = next;
    }
  }

  finish(): ManifestEntries {
    // Little room left over (the capacity given was an upper bound, and close): views, not a second copy.
    const nearlyFull = this.capacity - this.count <= this.capacity >> 4;
    const trim = <T extends Uint8Array | Int32Array | Float64Array>(a: T) =>
      (nearlyFull ? a.subarray(0, this.count) : a.slice(0, this.count)) as T;
    return {
      count: this.count,
      category: ByteColumn.of(trim(this.category)),
      file: IntColumn.of(trim(this.file)),
      window: NumberColumn.of(trim(this.window)),
      entryOffset: OffsetColumn.of(trim(this.entryOffset)),
      entryLength: IntColumn.of(trim(this.entryLength)),
      fileStart: IntColumn.of(trim(this.fileStart)),
      fileLength: IntColumn.of(trim(this.fileLength)),
      windowStart: IntColumn.of(trim(this.windowStart)),
      windowLength: IntColumn.of(trim(this.windowLength)),
      shadowed: ByteColumn.of(trim(this.shadowed)),
    };
  }
}

/** Entry i in the text. */
export function entrySpan(entries: ManifestEntries, i: number): TextSpan {
  return { offset: entries.entryOffset.at(i), length: entries.entryLength.at(i) };
}

/** Entry i's cache_file value in the text (offset -1 when it has none). */
export function fileSpan(entries: ManifestEntries, i: number): TextSpan {
  const start = entries.fileStart.at(i);
  return { offset: start < 0 ? -1 : entries.entryOffset.at(i) + start, length: entries.fileLength.at(i) };
}

/** Entry i's window_idx value in the text (offset -1 when it has none). */
export function windowSpan(entries: ManifestEntries, i: number): TextSpan {
  const start = entries.windowStart.at(i);
  return { offset: start < 0 ? -1 : entries.entryOffset.at(i) + start, length: entries.windowLength.at(i) };
}

/**
 * Room for every entry of `text`, to allocate the columns once: each entry is an object, so
 * there are at most as many as there are `{` (those in strings only add to it; counting them in
 * an 88 MB manifest takes ~10 ms). At most one per 32 characters, lest braces in strings ask
 * for more than a text of entries could hold (a whole entry is longer); past that the columns grow.
 */
export function entryCapacity(text: string): number {
  const most = (text.length >> 5) + 1;
  let braces = 0;
  for (let at = text.indexOf('{'); at !== -1 && braces < most; at = text.indexOf('{', at + 1)) braces++;
  return braces;
}
