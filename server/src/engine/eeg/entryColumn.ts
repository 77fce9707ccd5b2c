/**
 * One number per manifest entry, kept in chunks of CHUNK entries that versions of a parse share.
 * An edit's re-parse (manifestReparse.ts) copies only the chunks holding the entries it replaced,
 * and moves every later entry's offset by changing one number per chunk (OffsetColumn), where
 * one flat typed array per column cost a new copy of each column it changed: ~20 MB per edit of
 * a 1M-entry manifest, garbage until V8's next full GC (it waits for 64 MB of new array buffers),
 * which made the language server's peak resident memory during edits.
 *
 * Chunks are never written after a column is made, so an older parse keeps its values while
 * newer ones change theirs. An edit that changes the number of entries builds the column anew.
 */
type Chunk = Uint8Array | Int32Array | Float64Array;

const CHUNK_BITS = 12;
/** Entries per chunk: a chunk is copied per edit (16-32 KB), and 1M entries make 256 chunks per column. */
export const CHUNK = 1 << CHUNK_BITS;
const MASK = CHUNK - 1;

/** What a re-parse puts in place of entries [from, to): values read by index. */
export interface Values {
  readonly length: number;
  at(k: number): number;
}

abstract class Column<T extends Chunk> implements Values {
  constructor(
    readonly chunks: readonly T[],
    readonly length: number,
  ) {}

  /** Entry i's value (0 ≤ i < length). Each column class has its own, so that each reads one kind of array. */
  abstract at(i: number): number;

  /** This column's class made of `chunks`, `length` entries long (-1: as many as the chunks hold). */
  protected abstract make(chunks: T[], length: number): this;

  protected abstract flat(length: number): T;

  /** Chunks of CHUNK entries viewing one array (no copy). */
  protected static chunksOf<A extends Chunk>(values: A): A[] {
    const chunks: A[] = [];
    for (let at = 0; at < values.length; at += CHUNK) chunks.push(values.subarray(at, at + CHUNK) as A);
    return chunks;
  }

  *[Symbol.iterator](): IterableIterator<number> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }

  /** Whether entries [from, from + values.length) hold `values` (NaN holds NaN). */
  holds(from: number, values: Values): boolean {
    for (let k = 0; k < values.length; k++) if (!Object.is(this.at(from + k), values.at(k))) return false;
    return true;
  }

  /** Whether `other` holds the same values, compared a chunk at a time (shared chunks not at all). */
  sameAs(other: Column<T>): boolean {
    if (other === this) return true;
    if (other.length !== this.length) return false;
    return this.chunks.every((chunk, c) => {
      const theirs = other.chunks[c];
      return (
        chunk === theirs ||
        Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).equals(
          Buffer.from(theirs.buffer, theirs.byteOffset, theirs.byteLength),
        )
      );
    });
  }

  /** This column with entries [from, to) replaced by `values`: the chunks they lie in copied, the rest shared. */
  replaced(from: number, to: number, values: Values): this {
    if (values.length !== to - from) return this.make(Column.chunksOf(this.spliced(from, to, values, 0)), -1);
    const chunks = this.chunks.slice();
    const own = ownChunks(chunks);
    for (let k = from; k < to; k++) own(k >>> CHUNK_BITS)[k & MASK] = values.at(k - from);
    return this.make(chunks, this.length);
  }

  /** The values in one new array (chunk by chunk, natively). */
  protected toFlat(): T {
    const out = this.flat(this.length);
    this.chunks.forEach((chunk, c) => out.set(chunk as never, c << CHUNK_BITS));
    return out;
  }

  /** One array of the values with [from, to) replaced by `values` and those after moved by `delta` (an edit that changes the count). */
  protected spliced(from: number, to: number, values: Values, delta: number): T {
    const old = this.toFlat();
    const out = this.flat(this.length - (to - from) + values.length);
    out.set(old.subarray(0, from) as never);
    for (let k = 0; k < values.length; k++) out[from + k] = values.at(k);
    const tail = from + values.length;
    out.set(old.subarray(to) as never, tail);
    if (delta !== 0) for (let i = tail; i < out.length; i++) out[i] += delta;
    return out;
  }
}

/** `own(c)`: chunk c of `chunks`, copied first the first time it is asked for (the original stays the older column's). */
function ownChunks<T extends Chunk>(chunks: T[]): (c: number) => T {
  const copied = new Set<number>();
  return (c) => {
    if (!copied.has(c)) {
      copied.add(c);
      chunks[c] = chunks[c].slice() as T;
    }
    return chunks[c];
  };
}

export class ByteColumn extends Column<Uint8Array> {
  static of(values: Uint8Array): ByteColumn {
    return new ByteColumn(Column.chunksOf(values), values.length);
  }
  at(i: number): number {
    return this.chunks[i >>> CHUNK_BITS][i & MASK];
  }
  protected make(chunks: Uint8Array[], length: number): this {
    return new ByteColumn(chunks, length < 0 ? totalLength(chunks) : length) as this;
  }
  protected flat(length: number): Uint8Array {
    return new Uint8Array(length);
  }
}

export class IntColumn extends Column<Int32Array> {
  static of(values: Int32Array): IntColumn {
    return new IntColumn(Column.chunksOf(values), values.length);
  }
  at(i: number): number {
    return this.chunks[i >>> CHUNK_BITS][i & MASK];
  }
  protected make(chunks: Int32Array[], length: number): this {
    return new IntColumn(chunks, length < 0 ? totalLength(chunks) : length) as this;
  }
  protected flat(length: number): Int32Array {
    return new Int32Array(length);
  }
}

export class NumberColumn extends Column<Float64Array> {
  static of(values: Float64Array): NumberColumn {
    return new NumberColumn(Column.chunksOf(values), values.length);
  }
  at(i: number): number {
    return this.chunks[i >>> CHUNK_BITS][i & MASK];
  }
  protected make(chunks: Float64Array[], length: number): this {
    return new NumberColumn(chunks, length < 0 ? totalLength(chunks) : length) as this;
  }
  protected flat(length: number): Float64Array {
    return new Float64Array(length);
  }
}

/** Entry offsets: a value is its stored number plus its chunk's shift, so an edit moves later entries by changing the shifts. */
export class OffsetColumn extends Column<Int32Array> {
  constructor(
    chunks: readonly Int32Array[],
    length: number,
    readonly shifts: Int32Array = new Int32Array(chunks.length),
  ) {
    super(chunks, length);
  }
  static of(values: Int32Array): OffsetColumn {
    return new OffsetColumn(Column.chunksOf(values), values.length);
  }
  at(i: number): number {
    const c = i >>> CHUNK_BITS;
    return this.chunks[c][i & MASK] + this.shifts[c];
  }
  /** Made from values without shifts only (the whole-array path). */
  protected make(chunks: Int32Array[], length: number): this {
    return new OffsetColumn(chunks, length < 0 ? totalLength(chunks) : length) as this;
  }
  protected flat(length: number): Int32Array {
    return new Int32Array(length);
  }
  protected override toFlat(): Int32Array {
    const out = new Int32Array(this.length);
    this.chunks.forEach((chunk, c) => {
      const shift = this.shifts[c];
      const at = c << CHUNK_BITS;
      for (let j = 0; j < chunk.length; j++) out[at + j] = chunk[j] + shift;
    });
    return out;
  }

  override replaced(from: number, to: number, values: Values): this {
    return this.shifted(from, to, values, 0) as this;
  }

  override sameAs(other: Column<Int32Array>): boolean {
    return other === this || (other.length === this.length && this.holds(0, other));
  }

  /** Entries [from, to) replaced by `values` (offsets in the new text) and every later entry moved by `delta`. */
  shifted(from: number, to: number, values: Values, delta: number): OffsetColumn {
    if (values.length !== to - from) return OffsetColumn.of(this.spliced(from, to, values, delta));
    const chunks = this.chunks.slice();
    const shifts = this.shifts.slice();
    const own = ownChunks(chunks);
    for (let k = from; k < to; k++) {
      const c = k >>> CHUNK_BITS;
      own(c)[k & MASK] = values.at(k - from) - shifts[c];
    }
    if (delta !== 0 && to < this.length) {
      // The rest of the chunk holding `to` is rewritten; the chunks after it only shifted.
      let next = to >>> CHUNK_BITS;
      if ((to & MASK) !== 0) {
        const chunk = own(next);
        for (let j = to & MASK; j < chunk.length; j++) chunk[j] += delta;
        next++;
      }
      for (let c = next; c < chunks.length; c++) shifts[c] += delta;
    }
    return new OffsetColumn(chunks, this.length, shifts);
  }
}

const totalLength = (chunks: readonly Chunk[]) => chunks.reduce((n, chunk) => n + chunk.length, 0);
