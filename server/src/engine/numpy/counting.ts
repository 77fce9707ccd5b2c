/**
 * Streaming "how many elements are > 0" per row, over raw bytes arriving in arbitrary chunks
 * (an element may straddle two chunks). Rows are the first axis: windows of an NPZ `labels`
 * array, or a single row for a whole NIfTI volume.
 */
import { ElementType, positiveRunCounter, RunCounter, Scaling } from './elements';
import { FormatError } from '../io/source';

/**
 * Most rows one counter keeps (32 MiB of counts). Rows come from headers, which can lie: a
 * 1 MB file can declare 10^9 windows or slices, and the counts must not be allocated for them.
 */
export const MAX_COUNTED_ROWS = 1 << 22;

export class PositiveCounts {
  /** Positive elements per row. */
  readonly counts: Float64Array;
  readonly rowSize: number;
  private readonly countRun: RunCounter;
  private readonly carry: Uint8Array;
  private carried = 0;
  private index = 0;

  constructor(
    private readonly type: ElementType,
    readonly totalElements: number,
    private readonly rows: number,
    private readonly fortranOrder = false,
    scaling?: Scaling,
  ) {
    if (!(Number.isSafeInteger(rows) && rows >= 0 && rows <= MAX_COUNTED_ROWS)) {
      throw new FormatError(
        `${rows} rows to count, more than the ${MAX_COUNTED_ROWS} a file can plausibly hold (corrupt header)`,
      );
    }
    this.counts = new Float64Array(rows);
    this.rowSize = rows === 0 ? 0 : totalElements / rows;
    this.countRun = positiveRunCounter(type, scaling);
    this.carry = new Uint8Array(type.size);
  }

  get complete(): boolean {
    return this.index === this.totalElements && this.carried === 0;
  }

  /** Bytes per element. */
  get elementSize(): number {
    return this.type.size;
  }

  /** Bytes still to push before the bytes pushed so far end on an element's end (pushRepeated needs one). */
  get bytesToElementBoundary(): number {
    return this.carried === 0 ? 0 : this.type.size - this.carried;
  }

  /** Whether the element at `bytes[at]` is > 0 (numpy's verdict), without counting it. */
  isPositive(bytes: Uint8Array, at: number): boolean {
    return this.countRun(bytes, at, 1) === 1;
  }

  /**
   * Counts the next `elements` elements, known to be copies of one element whose verdict is
   * `positive`, without reading them: a run of label data the caller recognised (checkedCount.ts).
   * Only at an element boundary.
   */
  pushRepeated(positive: boolean, elements: number): void {
    if (this.carried !== 0) throw new Error('pushRepeated inside an element');
    this.checkRoom(elements);
    if (!positive) {
      this.index += elements;
      return;
    }
    if (this.fortranOrder && this.rowSize > 1) {
      for (let i = 0; i < elements; i++, this.index++) this.counts[this.index % this.rows]++;
      return;
    }
    while (elements > 0) {
      const row = Math.floor(this.index / this.rowSize);
      const take = Math.min(elements, (row + 1) * this.rowSize - this.index);
      this.counts[row] += take;
      this.index += take;
      elements -= take;
    }
  }

  /** Consumes the next bytes of the array's data. Bytes beyond the array are an error. */
  push(chunk: Uint8Array): void {
    const size = this.type.size;
    let at = 0;
    if (this.carried > 0) {
      const take = Math.min(size - this.carried, chunk.length);
      this.carry.set(chunk.subarray(0, take), this.carried);
      this.carried += take;
      at = take;
      if (this.carried < size) return;
      this.carried = 0;
      this.add(this.carry, 0, 1);
    }
    const whole = Math.floor((chunk.length - at) / size);
    this.add(chunk, at, whole);
    at += whole * size;
    if (at < chunk.length) {
      this.checkRoom(1);
      this.carry.set(chunk.subarray(at), 0);
      this.carried = chunk.length - at;
    }
  }

  private checkRoom(elements: number): void {
    if (this.index + elements > this.totalElements) {
      throw new FormatError(`data holds more than the ${this.totalElements} elements its header declares`);
    }
  }

  private add(bytes: Uint8Array, start: number, elements: number): void {
    this.checkRoom(elements);
    const size = this.type.size;
    if (this.fortranOrder && this.rowSize > 1) {
      // Column-major: the row index varies fastest.
      for (let i = 0; i < elements; i++, this.index++)
        this.counts[this.index % this.rows] += this.countRun(bytes, start + i * size, 1);
      return;
    }
    while (elements > 0) {
      const row = Math.floor(this.index / this.rowSize);
      const take = Math.min(elements, (row + 1) * this.rowSize - this.index);
      this.counts[row] += this.countRun(bytes, start, take);
      this.index += take;
      start += take * size;
      elements -= take;
    }
  }
}
