/**
 * The manifest's entries as parallel typed arrays (a columnar index): 150,000 entries stay a
 * few MB, and hovers look entries up by offset instead of walking a tree.
 */

/** Entries in parallel typed arrays; index i is the i-th entry in document order. */
export interface ManifestEntries {
  count: number;
  category: Uint8Array; // index into CATEGORIES
  file: Int32Array; // index into files, -1 when cache_file is missing or not a valid name
  window: Float64Array; // int(window_idx) as training computes it; NaN when missing or when int() raises
  entryOffset: Int32Array;
  entryLength: Int32Array;
  fileOffset: Int32Array; // -1 when absent
  fileLength: Int32Array;
  windowOffset: Int32Array; // -1 when absent
  windowLength: Int32Array;
  /** 1 for entries of a category key that appears again later: Python's json keeps only the last. */
  shadowed: Uint8Array;
}

/** Growable columns the parser fills, trimmed into `ManifestEntries` at the end. */
export class EntryColumns {
  count = 0;
  capacity = 1024;
  category = new Uint8Array(this.capacity);
  file = new Int32Array(this.capacity);
  window = new Float64Array(this.capacity);
  entryOffset = new Int32Array(this.capacity);
  entryLength = new Int32Array(this.capacity);
  fileOffset = new Int32Array(this.capacity);
  fileLength = new Int32Array(this.capacity);
  windowOffset = new Int32Array(this.capacity);
  windowLength = new Int32Array(this.capacity);
  shadowed = new Uint8Array(this.capacity);

  add(category: number, offset: number): number {
    if (this.count === this.capacity) this.grow();
    const i = this.count++;
    this.category[i] = category;
    this.file[i] = -1;
    this.window[i] = NaN;
    this.entryOffset[i] = offset;
    this.fileOffset[i] = -1;
    this.windowOffset[i] = -1;
    this.shadowed[i] = 0;
    return i;
  }

  private grow(): void {
    this.capacity *= 2;
    for (const key of [
      'category',
      'file',
      'window',
      'entryOffset',
      'entryLength',
      'fileOffset',
      'fileLength',
      'windowOffset',
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
    const trim = <T extends Uint8Array | Int32Array | Float64Array>(a: T) => a.slice(0, this.count) as T;
    return {
      count: this.count,
      category: trim(this.category),
      file: trim(this.file),
      window: trim(this.window),
      entryOffset: trim(this.entryOffset),
      entryLength: trim(this.entryLength),
      fileOffset: trim(this.fileOffset),
      fileLength: trim(this.fileLength),
      windowOffset: trim(this.windowOffset),
      windowLength: trim(this.windowLength),
      shadowed: trim(this.shadowed),
    };
  }
}
