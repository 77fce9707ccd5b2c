/**
 * The deep check of a cache file's `windows` (SPEC §1.2c): per window, how many values are
 * NaN or ±Inf, and how many are finite but beyond ±CLIP_LIMIT, judged on what training gets:
 * `__getitem__` takes `windows[w_idx].astype(np.float32)`, so a float64 value beyond float32's
 * range is Inf to the model, and 10.000000001 is 10. Current preprocessing clips to ±10 and
 * replaces NaN/Inf with 0, so anything else was written before those fixes or is damaged.
 *
 * Streams over the `.npy` stream in chunks of any size (an element may straddle two), so a
 * 152 MB member is never held whole. In C order window w is the elements
 * [w·k, (w+1)·k); in Fortran order the first axis varies fastest, so element i is in window
 * i mod n — a window is strided through the whole array.
 */
import { FormatError } from '../io/source';
import type { ElementType } from '../numpy/elements';
import { NpyHeader, parseNpyHeader } from '../numpy/npy';
import { concatBytes } from '../io/concatBytes';

/** `data/preprocess.py` clips z-scored windows to ±10 (`np.clip(x, -10.0, 10.0)`). */
export const CLIP_LIMIT = 10;

/** Fingerprint-store kind of deep results; bump when their meaning changes. */
export const DEEP_WINDOWS_KIND = 'deep-windows-v1';

/** One window with values training should never get. */
export interface BadWindow {
  window: number;
  /** Values of this kind in the window. */
  values: number;
}

export interface NonFiniteWindow extends BadWindow {
  nan: number;
  posInf: number;
  negInf: number;
}

export interface UnclippedWindow extends BadWindow {
  /** Largest |x| among them (as float32). */
  maxAbs: number;
}

export interface WindowValues {
  windows: number;
  valuesPerWindow: number;
  dtype: string;
  fortranOrder: boolean;
  /** In window order. */
  nonFinite: NonFiniteWindow[];
  unclipped: UnclippedWindow[];
}

const NATIVE_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
// float16's bit pattern of 10.0: a magnitude above it is beyond ±10, Inf or NaN (as FLOAT32_CLIP_BITS below).
const HALF_TEN = 0x4900;

type View = ArrayLike<number> | BigInt64Array | BigUint64Array;

/** The typed array that reads `bytes` (aligned, native byte order) as elements of `type`. */
function viewOf(type: ElementType, bytes: Uint8Array): View {
  const { buffer, byteOffset } = bytes;
  const n = bytes.length / type.size;
  switch (`${type.kind}${type.size}`) {
    case 'float4':
      return new Float32Array(buffer, byteOffset, n);
    case 'float8':
      return new Float64Array(buffer, byteOffset, n);
    case 'float2':
    case 'uint2':
      return new Uint16Array(buffer, byteOffset, n);
    case 'int1':
      return new Int8Array(buffer, byteOffset, n);
    case 'uint1':
    case 'bool1':
      return bytes;
    case 'int2':
      return new Int16Array(buffer, byteOffset, n);
    case 'int4':
      return new Int32Array(buffer, byteOffset, n);
    case 'uint4':
      return new Uint32Array(buffer, byteOffset, n);
    case 'int8':
      return new BigInt64Array(buffer, byteOffset, n);
    case 'uint8':
      return new BigUint64Array(buffer, byteOffset, n);
  }
  throw new FormatError(
    `windows has dtype ${type.name}: the deep check reads float16/32/64, integer and bool windows (numpy's astype(np.float32) of it is not checked)`,
  );
}

/** Accumulates per-window findings from a stream of `.npy` bytes (header first). */
export class WindowValueScan {
  private header?: NpyHeader;
  private pending: Uint8Array = new Uint8Array(0);
  private received = 0;
  private index = 0;
  private windows = 0;
  private perWindow = 0;
  private carry = new Uint8Array(8);
  private carried = 0;
  private scratch: Uint8Array = new Uint8Array(0);
  private readonly nonFinite = new Map<number, NonFiniteWindow>();
  private readonly unclipped = new Map<number, UnclippedWindow>();
  /** Elements scanned; for tests and benchmarks. */
  get elements(): number {
    return this.index;
  }

  /** The next bytes of the member, as zipfile delivers them. */
  push(chunk: Uint8Array): void {
    if (!this.header) {
      this.pending = concatBytes(this.pending, chunk);
      const header = parseNpyHeader(this.pending);
      if (!header) return;
      this.start(header);
      const rest = this.pending.subarray(header.dataOffset);
      this.pending = new Uint8Array(0);
      chunk = rest;
    }
    const type = this.header!.dtype;
    const wanted = this.header!.dataBytes - this.received;
    if (chunk.length > wanted) chunk = chunk.subarray(0, wanted); // bytes after the array: numpy never reads them
    this.received += chunk.length;
    let at = 0;
    if (this.carried > 0) {
      const take = Math.min(type.size - this.carried, chunk.length);
      this.carry.set(chunk.subarray(0, take), this.carried);
      this.carried += take;
      at = take;
      if (this.carried < type.size) return;
      this.carried = 0;
      this.scan(this.carry.subarray(0, type.size));
    }
    const whole = Math.floor((chunk.length - at) / type.size) * type.size;
    if (whole > 0) this.scan(chunk.subarray(at, at + whole));
    at += whole;
    if (at < chunk.length) {
      this.carry.set(chunk.subarray(at), 0);
      this.carried = chunk.length - at;
    }
  }

  /** The findings, once the whole array has arrived (else what numpy raises for a short member). */
  finish(): WindowValues {
    const header = this.header;
    if (!header)
      throw new FormatError(
        'windows ends inside its .npy header (truncated): np.load raises ValueError on every window',
      );
    if (this.received < header.dataBytes) {
      throw new FormatError(
        `windows ends after ${this.received} of its ${header.dataBytes} data bytes (truncated): np.load raises ValueError on every window`,
      );
    }
    const inOrder = <T extends BadWindow>(m: Map<number, T>) => [...m.values()].sort((a, b) => a.window - b.window);
    return {
      windows: this.windows,
      valuesPerWindow: this.perWindow,
      dtype: header.dtype.name,
      fortranOrder: header.fortranOrder,
      nonFinite: inOrder(this.nonFinite),
      unclipped: inOrder(this.unclipped),
    };
  }

  private start(header: NpyHeader): void {
    if (header.shape.length === 0) throw new FormatError('windows is a 0-d array: training cannot index it');
    this.header = header;
    this.windows = header.shape[0];
    this.perWindow = header.shape.slice(1).reduce((a, b) => a * b, 1);
    if (header.dataBytes > 0) viewOf(header.dtype, new Uint8Array(header.dtype.size)); // refuses unsupported dtypes before any work
  }

  /** Whole elements: aligned and in native order first (a copy only when they are not). */
  private scan(bytes: Uint8Array): void {
    const type = this.header!.dtype;
    const swap = type.size > 1 && type.littleEndian !== NATIVE_LITTLE;
    if (swap || bytes.byteOffset % type.size !== 0) {
      if (this.scratch.length < bytes.length) this.scratch = new Uint8Array(Math.max(bytes.length, 1 << 16));
      const copy = this.scratch.subarray(0, bytes.length);
      copy.set(bytes);
      if (swap) byteSwap(copy, type.size);
      bytes = copy;
    }
    const values = viewOf(type, bytes);
    const n = values.length;
    if (this.header!.fortranOrder && this.windows > 1) this.scanStrided(type, values, n);
    else this.scanContiguous(type, values, n);
    this.index += n;
  }

  /** C order: runs of consecutive elements belong to one window. */
  private scanContiguous(type: ElementType, values: View, n: number): void {
    let i = 0;
    while (i < n) {
      const window = this.perWindow === 0 ? 0 : Math.floor((this.index + i) / this.perWindow);
      const end = Math.min(n, i + (window + 1) * this.perWindow - (this.index + i));
      const bad = firstBad(type, values, i, end);
      if (bad < 0) {
        i = end;
        continue;
      }
      this.record(window, type, values, bad);
      i = bad + 1;
    }
  }

  /** Fortran order: element i is in window i mod n. */
  private scanStrided(type: ElementType, values: View, n: number): void {
    const windows = this.windows;
    let i = 0;
    while (i < n) {
      const bad = firstBad(type, values, i, n);
      if (bad < 0) return;
      this.record((this.index + bad) % windows, type, values, bad);
      i = bad + 1;
    }
  }

  /** Classifies a value the fast loop flagged (it may still be fine: 10.0000001 in float64 is 10 in float32). */
  private record(window: number, type: ElementType, values: View, i: number): void {
    const value = asFloat32(type, values, i);
    if (Number.isNaN(value) || !Number.isFinite(value)) {
      let entry = this.nonFinite.get(window);
      if (!entry) this.nonFinite.set(window, (entry = { window, values: 0, nan: 0, posInf: 0, negInf: 0 }));
      entry.values++;
      if (Number.isNaN(value)) entry.nan++;
      else if (value > 0) entry.posInf++;
      else entry.negInf++;
    } else if (Math.abs(value) > CLIP_LIMIT) {
      let entry = this.unclipped.get(window);
      if (!entry) this.unclipped.set(window, (entry = { window, values: 0, maxAbs: 0 }));
      entry.values++;
      entry.maxAbs = Math.max(entry.maxAbs, Math.abs(value));
    }
  }
}

/**
 * Index of the first element in [from, to) that may be NaN, ±Inf or beyond ±10, or -1: the hot
 * loop, one comparison pair per element (NaN fails both).
 */
function firstBad(type: ElementType, values: View, from: number, to: number): number {
  // One loop per array type: each stays monomorphic (the float32 one is the hot path of real caches).
  if (type.kind === 'float' && type.size === 4) return firstBadFloat32(values as Float32Array, from, to);
  if (type.kind === 'float' && type.size === 8) return firstBadFloat64(values as Float64Array, from, to);
  if (type.kind === 'float') {
    const v = values as Uint16Array;
    for (let i = from; i < to; i++) if ((v[i] & 0x7fff) > HALF_TEN) return i;
    return -1;
  }
  if (type.kind === 'bool') return -1;
  if (type.size === 8) {
    const v = values as BigInt64Array | BigUint64Array;
    for (let i = from; i < to; i++) {
      const x = Number(v[i]);
      if (x > CLIP_LIMIT || x < -CLIP_LIMIT) return i;
    }
    return -1;
  }
  const v = values as ArrayLike<number>;
  for (let i = from; i < to; i++) {
    const x = v[i];
    if (x > CLIP_LIMIT || x < -CLIP_LIMIT) return i;
  }
  return -1;
}

// float32's bit pattern of CLIP_LIMIT. Positive floats order as their bits do, and NaN and Inf
// have the largest exponent, so |x| > CLIP_LIMIT, Inf and NaN are exactly the magnitudes above it.
const FLOAT32_CLIP_BITS = new Int32Array(new Float32Array([CLIP_LIMIT]).buffer)[0];

/** The float32 loop reads the bits (one integer comparison per element: a third faster than two float ones). */
function firstBadFloat32(v: Float32Array, from: number, to: number): number {
  const bits = new Int32Array(v.buffer, v.byteOffset, v.length);
  for (let i = from; i < to; i++) if ((bits[i] & 0x7fffffff) > FLOAT32_CLIP_BITS) return i;
  return -1;
}

function firstBadFloat64(v: Float64Array, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    const x = v[i];
    if (!(x <= CLIP_LIMIT && x >= -CLIP_LIMIT)) return i;
  }
  return -1;
}

/** numpy's `astype(np.float32)` of element i (round to nearest; beyond float32's range is ±Inf). */
function asFloat32(type: ElementType, values: View, i: number): number {
  if (type.kind === 'float' && type.size === 2) return halfToFloat((values as Uint16Array)[i]);
  return Math.fround(Number(values[i]));
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function byteSwap(bytes: Uint8Array, size: number): void {
  for (let at = 0; at < bytes.length; at += size) {
    for (let a = at, b = at + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}
