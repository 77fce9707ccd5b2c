/**
 * Counting an array's positives per row and the CRC-32 check of the same bytes in one pass
 * (issue 22), for label data: long runs of one element (0.0 or 1.0). Each 4 KiB block of a
 * piece is looked at once, while the inflater's piece is in the core's cache: a block equal to
 * a uniform block seen before (one native memcmp) needs neither a CRC pass nor a count, its
 * CRC being appended from the known block's (crc32_combine, four table lookups) and its
 * positives being its length times the element's verdict. A block holding a run's edge is
 * looked at in 512-byte parts the same way; only the parts that mix values are CRC-ed by zlib
 * and counted element by element. Exact for any bytes: what is not recognised is read as before.
 *
 * Measured on the bench's labels (3.7 MB per member, a run edge or two per 61 KB window),
 * inflated in 256 KiB pieces, warm, in one process: the CRC with repeated blocks skipped and the
 * block counter as two passes cost 0.31 + 0.32 ms a member beyond its 0.14 ms of inflating
 * (each compared every block with its own memcmp, and the counter halved edge blocks); this one
 * pass costs 0.32 ms for both.
 *
 * Pieces inflated into WebAssembly memory (a counting buffer, as npz.ts inflates labels) are
 * read by a SIMD kernel instead (uniformRuns.ts), which finds where each run ends reading every
 * byte once; a run is counted from its length and CRC-ed from its vector's known CRCs. Measured
 * on the bench's labels in one process, 2 loaded cores: 0.9 ms a file against 2.1 ms warm, and
 * 3.3 ms against 6.0 ms over a fresh process's first 40 files (the block loop ran interpreted).
 */
import * as zlib from 'node:zlib';
import { crc32Append, crcShiftTables } from '../io/repeatCrc';
import type { PositiveCounts } from './counting';
import { uniformRunFinder } from './uniformRuns';

/** Bytes compared at once. Every element size counted (1, 2, 4, 8, 16) divides both. */
const BLOCK = 4096;
/** The parts of a block that mixes values: small enough that an edge costs little zlib and elementwise work. */
const PART = 512;
/** Uniform blocks remembered: label data holds two values (0.0 and 1.0), masks one or a few. */
const MAX_KNOWN = 4;

/** A block of one element repeated, its CRC and its first part's, and whether that element is > 0. */
interface UniformBlock {
  bytes: Buffer;
  crc: number;
  partCrc: number;
  positive: boolean;
}

/** Bytes the run kernel compares at once (uniformRuns.ts). */
const VECTOR = 16;
/** Runs shorter than this are left to zlib and the counter with the bytes around them. */
const MIN_RUN = 4 * VECTOR;
/** The farthest step between two looks for a run in data without runs. */
const MAX_SKIP = 4096;

/** A run's repeated vector, the CRCs of 2^k copies of it (filled as needed), and whether its element is > 0. */
interface Run {
  vector: Uint8Array;
  crcs: number[];
  positive: boolean;
}

/** Tables appending 16·2^k bytes to a CRC, by k. */
const vectorShifts: Uint32Array[] = [];
const vectorShift = (k: number) => (vectorShifts[k] ??= crcShiftTables(VECTOR << k));

/** `crc` followed by `vectors` copies of the run's vector: one table append per set bit of the count. */
function appendRun(run: Run, crc: number, vectors: number): number {
  for (let k = 0; vectors > 0; k++, vectors = Math.floor(vectors / 2)) {
    while (run.crcs.length <= k) {
      const last = run.crcs[run.crcs.length - 1];
      run.crcs.push(crc32Append(vectorShift(run.crcs.length - 1), last, last));
    }
    if (vectors % 2) crc = crc32Append(vectorShift(k), crc, run.crcs[k]);
  }
  return crc;
}

/**
 * Feeds a PositiveCounts and computes the CRC of what it was fed. Bytes arrive in pieces of any
 * size; blocks are taken from a piece's first element boundary on.
 */
export class CheckedCounter {
  private readonly known: UniformBlock[] = [];
  private readonly runs: Run[] = [];
  private readonly size: number;

  constructor(readonly counter: PositiveCounts) {
    this.size = counter.elementSize;
  }

  /** Counts `data`, the array's next bytes, and returns `crc` extended by them (zlib's crc32(data, crc)). */
  push(data: Uint8Array, crc: number): number {
    const counter = this.counter;
    // An element cut by the last piece's end is completed first: blocks start on an element.
    const lead = Math.min(data.length, counter.bytesToElementBoundary);
    if (lead > 0) {
      counter.push(data.subarray(0, lead));
      crc = zlib.crc32(data.subarray(0, lead), crc);
      data = data.subarray(lead);
    }
    if (data.length < BLOCK) {
      counter.push(data);
      return zlib.crc32(data, crc);
    }
    const runEnd = uniformRunFinder(data, this.size);
    if (runEnd) return this.pushRuns(data, crc, runEnd);
    const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const size = this.size;
    /** Start of the bytes neither counted nor in `crc` yet. */
    let pending = 0;
    const settle = (end: number) => {
      if (end === pending) return;
      const bytes = buffer.subarray(pending, end);
      crc = zlib.crc32(bytes, crc);
      counter.push(bytes);
    };
    const last = buffer.length - BLOCK;
    for (let at = 0; at <= last; at += BLOCK) {
      const block = this.uniformBlock(buffer, at);
      if (block) {
        settle(at);
        crc = crc32Append(crcShiftTables(BLOCK), crc, block.crc);
        counter.pushRepeated(block.positive, BLOCK / size);
        pending = at + BLOCK;
        continue;
      }
      // A block that mixes values: its uniform parts are still taken whole.
      for (let part = at; part < at + BLOCK; part += PART) {
        const known = this.candidate(buffer, part);
        if (!known || known.bytes.compare(buffer, part, part + PART, 0, PART) !== 0) continue;
        settle(part);
        crc = crc32Append(crcShiftTables(PART), crc, known.partCrc);
        counter.pushRepeated(known.positive, PART / size);
        pending = part + PART;
      }
    }
    settle(buffer.length);
    return crc;
  }

  /**
   * `push` of bytes in a counting buffer: the runs the SIMD kernel finds (runEnd) are counted
   * and CRC-ed from their length and element; the bytes between them (a run's edge) by zlib
   * and the counter. Where no run starts, the next look is twice as far on (up to MAX_SKIP), so
   * data without runs costs a few kernel calls per 4 KiB, not one per vector.
   */
  private pushRuns(data: Uint8Array, crc: number, runEnd: (at: number, end: number) => number): number {
    const counter = this.counter;
    const size = this.size;
    const length = data.length;
    /** Start of the bytes neither counted nor in `crc` yet. */
    let pending = 0;
    let skip = VECTOR;
    for (let at = 0; at + MIN_RUN <= length;) {
      const end = runEnd(at, length);
      if (end - at < MIN_RUN) {
        // The vector at `end` ends a short run; nothing repeats from `at` when end == at.
        if (end > at) at = end;
        else {
          at += skip;
          skip = Math.min(MAX_SKIP, skip * 2);
        }
        continue;
      }
      if (at > pending) {
        const bytes = data.subarray(pending, at);
        crc = zlib.crc32(bytes, crc);
        counter.push(bytes);
      }
      const run = this.runOf(data, at);
      crc = appendRun(run, crc, (end - at) / VECTOR);
      counter.pushRepeated(run.positive, (end - at) / size);
      pending = at = end;
      skip = VECTOR;
    }
    if (length > pending) {
      const bytes = data.subarray(pending);
      crc = zlib.crc32(bytes, crc);
      counter.push(bytes);
    }
    return crc;
  }

  /** The run whose first vector is the 16 bytes at `at` (learnt here if new). */
  private runOf(data: Uint8Array, at: number): Run {
    for (const run of this.runs) {
      let same = true;
      for (let k = 0; same && k < VECTOR; k++) same = run.vector[k] === data[at + k];
      if (same) return run;
    }
    const vector = data.slice(at, at + VECTOR);
    const run = { vector, crcs: [zlib.crc32(vector)], positive: this.counter.isPositive(vector, 0) };
    this.runs.unshift(run);
    if (this.runs.length > MAX_KNOWN) this.runs.pop();
    return run;
  }

  /** The known block whose element the bytes at `at` start with, if any. */
  private candidate(buffer: Buffer, at: number): UniformBlock | undefined {
    const size = this.size;
    for (const block of this.known) {
      let same = true;
      for (let k = 0; same && k < size; k++) same = block.bytes[k] === buffer[at + k];
      if (same) return block;
    }
    return undefined;
  }

  /** The block at `at` when it is one element repeated (learnt here if new), else undefined. */
  private uniformBlock(buffer: Buffer, at: number): UniformBlock | undefined {
    const known = this.candidate(buffer, at);
    // Starting with a known block's element: it is that block, or it mixes values.
    if (known) return known.bytes.compare(buffer, at, at + BLOCK) === 0 ? known : undefined;
    const size = this.size;
    // One element repeated: the block equals itself shifted by one element.
    if (buffer.compare(buffer, at + size, at + BLOCK, at, at + BLOCK - size) !== 0) return undefined;
    const bytes = Buffer.from(buffer.subarray(at, at + BLOCK));
    const block = {
      bytes,
      crc: zlib.crc32(bytes),
      partCrc: zlib.crc32(bytes.subarray(0, PART)),
      positive: this.counter.isPositive(bytes, 0),
    };
    this.known.unshift(block);
    if (this.known.length > MAX_KNOWN) this.known.pop();
    return block;
  }
}
