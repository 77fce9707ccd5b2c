/**
 * Element types shared by `.npy` arrays and NIfTI volumes, and the one question we ask of
 * their elements: how many are > 0 (numpy semantics: NaN is not > 0, -0 is not > 0, complex
 * numbers compare lexicographically). Counting streams over chunks of raw bytes, so neither a
 * 4 GB label array nor a float64 volume is ever materialised.
 */
import { FormatError } from '../io/source';
import { simdRunCounter } from './simdCount';

export type ElementKind = 'bool' | 'int' | 'uint' | 'float' | 'complex' | 'timedelta';

export interface ElementType {
  kind: ElementKind;
  /** Bytes per element (for complex: both parts). */
  size: number;
  littleEndian: boolean;
  /** How numpy writes it, e.g. `<f4`; for messages. */
  name: string;
}

const NATIVE_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Two float32 1.0 values read as one float64. */
const PAIR_OF_ONES = new Float64Array(new Uint32Array([0x3f800000, 0x3f800000]).buffer)[0];

const NUMPY_NAMES: Record<string, string> = {
  bool: 'b1',
  '?': 'b1',
  int8: 'i1',
  uint8: 'u1',
  int16: 'i2',
  uint16: 'u2',
  int32: 'i4',
  uint32: 'u4',
  int64: 'i8',
  uint64: 'u8',
  float16: 'f2',
  float32: 'f4',
  float64: 'f8',
  complex64: 'c8',
  complex128: 'c16',
  half: 'f2',
  single: 'f4',
  double: 'f8',
  longdouble: 'f16',
  byte: 'i1',
  ubyte: 'u1',
  short: 'i2',
  ushort: 'u2',
};
const KIND_CODES: Record<string, ElementKind> = {
  b: 'bool',
  i: 'int',
  u: 'uint',
  f: 'float',
  c: 'complex',
  m: 'timedelta',
};
const VALID_SIZES: Record<ElementKind, number[]> = {
  bool: [1],
  int: [1, 2, 4, 8],
  uint: [1, 2, 4, 8],
  float: [2, 4, 8, 16],
  complex: [8, 16],
  timedelta: [8],
};

/** Parses a numpy dtype string (`<f4`, `|b1`, `>i8`, `<m8[s]`, `float32`, ...). */
export function parseNumpyDescr(descr: string): ElementType {
  const match = /^([<>|=]?)([biufcm])(\d+)(\[\w+\])?$/.exec(NUMPY_NAMES[descr] ?? descr);
  const kind = match && KIND_CODES[match[2]];
  const size = match ? Number(match[3]) : 0;
  if (!match || !kind || !VALID_SIZES[kind].includes(size) || (match[4] && kind !== 'timedelta')) {
    throw new FormatError(`unsupported .npy dtype '${descr}' (only numeric and bool dtypes can be labels)`);
  }
  const order = match[1];
  return { kind, size, littleEndian: order === '>' ? false : order === '<' ? true : NATIVE_LITTLE, name: descr };
}

/**
 * Every NIfTI datatype code nibabel loads: name, bytes per voxel, and the element kind when the
 * voxels are real numbers (complex and RGB are not). nibabel refuses every other code at nib.load.
 */
const NIFTI_TYPES: Record<number, { name: string; size: number; kind?: ElementKind }> = {
  2: { name: 'uint8', size: 1, kind: 'uint' },
  4: { name: 'int16', size: 2, kind: 'int' },
  8: { name: 'int32', size: 4, kind: 'int' },
  16: { name: 'float32', size: 4, kind: 'float' },
  32: { name: 'complex64', size: 8 },
  64: { name: 'float64', size: 8, kind: 'float' },
  128: { name: 'RGB24', size: 3 },
  256: { name: 'int8', size: 1, kind: 'int' },
  512: { name: 'uint16', size: 2, kind: 'uint' },
  768: { name: 'uint32', size: 4, kind: 'uint' },
  1024: { name: 'int64', size: 8, kind: 'int' },
  1280: { name: 'uint64', size: 8, kind: 'uint' },
  1792: { name: 'complex128', size: 16 },
  2304: { name: 'RGBA32', size: 4 },
};
/** Codes nibabel knows but refuses ("data code N not supported"; float128 where long double is not binary128). */
const NIFTI_NOT_SUPPORTED: Record<number, string> = {
  0: 'none',
  1: 'binary (1 bit)',
  255: 'all',
  1536: 'float128',
  2048: 'complex256',
};

export function niftiDatatypeName(code: number): string {
  return NIFTI_TYPES[code]?.name ?? NIFTI_NOT_SUPPORTED[code] ?? `code ${code}`;
}

/** How nibabel's nib.load takes a datatype code. */
export function niftiDatatypeStatus(code: number): 'loads' | 'not supported' | 'not recognized' {
  return NIFTI_TYPES[code] ? 'loads' : NIFTI_NOT_SUPPORTED[code] ? 'not supported' : 'not recognized';
}

/** Bytes per voxel of a datatype nibabel loads, else undefined. */
export function niftiVoxelBytes(code: number): number | undefined {
  return NIFTI_TYPES[code]?.size;
}

/** The element type of a NIfTI `datatype` code; complex and RGB volumes are not masks. */
export function niftiElementType(code: number, littleEndian: boolean): ElementType {
  const known = NIFTI_TYPES[code];
  if (!known?.kind) {
    const what = known?.name ?? NIFTI_NOT_SUPPORTED[code];
    throw new FormatError(
      what ? `NIfTI datatype ${what} cannot be read as real-valued voxels` : `unknown NIfTI datatype code ${code}`,
    );
  }
  return { kind: known.kind, size: known.size, littleEndian, name: known.name };
}

/** Linear scaling applied before the > 0 test (NIfTI scl_slope / scl_inter), in float64 like nibabel. */
export interface Scaling {
  slope: number;
  inter: number;
}

/** Counts the elements > 0 among `count` whole elements starting at `bytes[start]`. */
export type RunCounter = (bytes: Uint8Array, start: number, count: number) => number;

/**
 * Counters made before, by element type and scaling: a file's counter is the same functions as
 * the last file's, so V8 optimises them once (fresh closures per file were optimised again on
 * a background thread for every file: ~2 ms of CPU per 256³ mask).
 */
const counters = new Map<string, RunCounter>();
const MAX_COUNTERS = 64;

export function positiveRunCounter(type: ElementType, scaling?: Scaling): RunCounter {
  const scaled = scaling !== undefined && !(scaling.slope === 1 && scaling.inter === 0);
  const key = `${type.kind}${type.size}${type.littleEndian ? '<' : '>'}${scaled ? `*${scaling.slope}+${scaling.inter}` : ''}`;
  let counter = counters.get(key);
  if (counter === undefined) {
    const spans = uniformSpanCounter(type, scaled ? scaledPositiveCounter(type, scaling) : rawPositiveCounter(type));
    // Bytes in a counting buffer (inflated into WebAssembly memory) are counted by SIMD kernels.
    counter = (scaled ? undefined : simdRunCounter(type, spans)) ?? spans;
    if (counters.size >= MAX_COUNTERS) counters.clear();
    counters.set(key, counter);
  }
  return counter;
}

/**
 * Bytes per block compared whole. Every element size that is counted (1, 2, 4, 8, 16) divides it.
 * Measured on a 256^3 float32 mask (~40,000 lesion voxels), in process: 36 ms of JavaScript
 * word loops become ~3 ms of native memcmp; 4 KiB blocks keep the loss small where a block
 * mixes values (the elementwise loop then re-reads it).
 */
const BLOCK = 4096;
/**
 * Bytes compared in one call before blocks are looked at: a mask is mostly whole spans of
 * zeros, and a call per 4 KiB block cost as much as the comparing (a 256³ uint8 mask, 4,096
 * calls: count 2.0× its inflating; one call per 256 KiB piece: 1.2×).
 */
const SPAN = 64 * BLOCK;

/**
 * Masks are mostly zeros and labels runs of 0 and 1: a span whose elements are all the same
 * bits is recognised with one native comparison of the span with itself shifted by one element
 * (Buffer.compare is memcmp; both sides walk the same cache lines, which measured faster than a
 * comparison with a buffer of zeros: a 256³ float32 mask counted in 1.28× its inflating instead
 * of 1.46×), and its positives are its first element's verdict times its length; only the other
 * blocks go through the elementwise counter, which decides every value as numpy does.
 * A span that mixes values is looked at in blocks; a block that mixes values is halved while one
 * half is uniform, so a run's edge costs a few comparisons and SMALLEST_SPLIT bytes of
 * elementwise work instead of a whole block; a block whose halves both mix is counted at once.
 * In a short-lived process the elementwise loop runs before it is optimised: on 8 label members
 * of 3.7 MB (the bench's) halving decides 20,272 elements one by one instead of 713,728, for
 * 24,108 comparisons instead of 9,899.
 */
const SMALLEST_SPLIT = 64;

function uniformSpanCounter(type: ElementType, elementwise: RunCounter): RunCounter {
  const size = type.size;
  const perBlock = BLOCK / size;
  // The last uniform span's element and its verdict: spans repeat a few values (0, 1), and the
  // elementwise counter makes typed-array views on every call (garbage, once per span).
  const seen = new Uint8Array(size);
  let seenPositive = -1;
  const verdict = (bytes: Uint8Array, at: number): number => {
    let same = seenPositive >= 0;
    for (let k = 0; same && k < size; k++) same = seen[k] === bytes[at + k];
    if (!same) {
      seen.set(bytes.subarray(at, at + size));
      seenPositive = elementwise(bytes, at, 1);
    }
    return seenPositive;
  };
  /** Positives of `length` bytes at `at` when all their elements have the same bits, else -1. */
  const uniform = (buffer: Buffer, bytes: Uint8Array, at: number, length: number): number =>
    buffer.compare(buffer, at + size, at + length, at, at + length - size) === 0
      ? verdict(bytes, at) * (length / size)
      : -1;
  const mixed = (buffer: Buffer, bytes: Uint8Array, at: number, length: number): number => {
    const half = length >> 1;
    if (half < SMALLEST_SPLIT) return elementwise(bytes, at, length / size);
    const front = uniform(buffer, bytes, at, half);
    const back = uniform(buffer, bytes, at + half, half);
    if (front < 0 && back < 0) return elementwise(bytes, at, length / size);
    return (
      (front < 0 ? mixed(buffer, bytes, at, half) : front) + (back < 0 ? mixed(buffer, bytes, at + half, half) : back)
    );
  };
  const blocks = (buffer: Buffer, bytes: Uint8Array, at: number, length: number): number => {
    let positives = 0;
    for (let end = at + length; at < end; at += BLOCK) {
      const whole = uniform(buffer, bytes, at, BLOCK);
      positives += whole < 0 ? mixed(buffer, bytes, at, BLOCK) : whole;
    }
    return positives;
  };
  return (bytes, start, count) => {
    if (count < perBlock) return elementwise(bytes, start, count);
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let positives = 0;
    let at = start;
    let left = count;
    while (left >= perBlock) {
      const length = Math.min(SPAN, Math.floor(left / perBlock) * BLOCK);
      const whole = uniform(buffer, bytes, at, length);
      positives += whole < 0 ? blocks(buffer, bytes, at, length) : whole;
      at += length;
      left -= length / size;
    }
    return positives + (left > 0 ? elementwise(bytes, at, left) : 0);
  };
}

function scaledPositiveCounter(type: ElementType, scaling: Scaling): RunCounter {
  const valueAt = valueReader(type);
  const { slope, inter } = scaling;
  return (bytes, start, count) => {
    const view = viewOf(bytes);
    let positives = 0;
    for (let i = 0, at = start; i < count; i++, at += type.size) {
      // Multiply then add, as numpy does in two separate float64 operations.
      if (valueAt(view, at) * slope + inter > 0) positives++;
    }
    return positives;
  };
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function rawPositiveCounter(type: ElementType): RunCounter {
  const le = type.littleEndian;
  const { kind, size } = type;
  if (size === 1) {
    // uint8 and bool: any non-zero byte; int8: 1..127.
    const signed = kind === 'int';
    const countBytes = (bytes: Uint8Array, from: number, to: number) => {
      let positives = 0;
      if (signed) for (let i = from; i < to; i++) positives += (bytes[i] - 1) >>> 0 < 0x7f ? 1 : 0;
      else for (let i = from; i < to; i++) positives += bytes[i] !== 0 ? 1 : 0;
      return positives;
    };
    // Masks are mostly zeros: test four bytes at a time and look closer only at non-zero words.
    // Measured on a 256^3 uint8 mask: 6 ms instead of 37 ms for the byte loop.
    return (bytes, start, count) => {
      const end = start + count;
      const firstWord = Math.min(end, start + ((4 - ((bytes.byteOffset + start) % 4)) % 4));
      let positives = countBytes(bytes, start, firstWord);
      const words = Math.floor((end - firstWord) / 4);
      if (words <= 0) return positives + countBytes(bytes, firstWord, end);
      const view = new Uint32Array(bytes.buffer, bytes.byteOffset + firstWord, words);
      if (signed) {
        for (let i = 0; i < words; i++)
          if (view[i] !== 0) positives += countBytes(bytes, firstWord + i * 4, firstWord + i * 4 + 4);
      } else {
        for (let i = 0; i < words; i++) {
          const word = view[i];
          if (word === 0) continue;
          // Each byte's bits folded into its lowest bit, then the four lowest bits summed: no byte loop.
          let folded = word | (word >>> 4);
          folded |= folded >>> 2;
          folded = (folded | (folded >>> 1)) & 0x01010101;
          positives += Math.imul(folded, 0x01010101) >>> 24;
        }
      }
      return positives + countBytes(bytes, firstWord + words * 4, end);
    };
  }
  if (kind === 'float' && size === 4) {
    // On the raw bits, x > 0 exactly when 1 <= bits <= 0x7f800000 (+denormal .. +inf).
    const positive = (bits: number) => ((bits - 1) >>> 0 < 0x7f800000 ? 1 : 0);
    return (bytes, start, count) => {
      let positives = 0;
      const offset = bytes.byteOffset + start;
      if (le && NATIVE_LITTLE && offset % 8 === 0) {
        // Labels are runs of 0.0 and 1.0: compare two elements at once as one float64 (±0 pairs
        // equal 0, a pair of 1.0 equals PAIR_OF_ONES) and decode only the other pairs. ~35% faster.
        const pairs = count >> 1;
        const doubles = new Float64Array(bytes.buffer, offset, pairs);
        const words = new Uint32Array(bytes.buffer, offset, count);
        for (let i = 0; i < pairs; i++) {
          const pair = doubles[i];
          if (pair === 0) continue;
          if (pair === PAIR_OF_ONES) positives += 2;
          else positives += positive(words[2 * i]) + positive(words[2 * i + 1]);
        }
        if (count & 1) positives += positive(words[count - 1]);
      } else if (le && NATIVE_LITTLE && offset % 4 === 0) {
        const words = new Uint32Array(bytes.buffer, offset, count);
        for (let i = 0; i < count; i++) positives += positive(words[i]);
      } else {
        const view = viewOf(bytes);
        for (let i = 0, at = start; i < count; i++, at += 4)
          positives += (view.getUint32(at, le) - 1) >>> 0 < 0x7f800000 ? 1 : 0;
      }
      return positives;
    };
  }
  const test = positiveTest(type);
  return (bytes, start, count) => {
    const view = viewOf(bytes);
    let positives = 0;
    for (let i = 0, at = start; i < count; i++, at += size) if (test(view, at)) positives++;
    return positives;
  };
}

type Test = (view: DataView, at: number) => boolean;

function positiveTest(type: ElementType): Test {
  const le = type.littleEndian;
  const hiAt = le ? 4 : 0;
  const loAt = le ? 0 : 4;
  switch (`${type.kind}${type.size}`) {
    case 'int2':
      return (v, at) => v.getInt16(at, le) > 0;
    case 'uint2':
      return (v, at) => v.getUint16(at, le) !== 0;
    case 'int4':
      return (v, at) => v.getInt32(at, le) > 0;
    case 'uint4':
      return (v, at) => v.getUint32(at, le) !== 0;
    case 'int8':
    case 'timedelta8':
      return (v, at) => {
        const hi = v.getInt32(at + hiAt, le);
        return hi > 0 || (hi === 0 && v.getUint32(at + loAt, le) !== 0);
      };
    case 'uint8':
      return (v, at) => (v.getUint32(at + hiAt, le) | v.getUint32(at + loAt, le)) !== 0;
    case 'float2':
      return (v, at) => (v.getUint16(at, le) - 1) >>> 0 < 0x7c00;
    case 'float8':
      return (v, at) => v.getFloat64(at, le) > 0;
    case 'float16':
      return (v, at) => {
        // Decided on the bits: a tiny positive extended value would underflow to 0 as a float64.
        const { mantissa, signExponent } = longDoubleParts(v, at, le);
        const exponent = signExponent & 0x7fff;
        if (signExponent & 0x8000 || (exponent === 0 && mantissa === 0n)) return false;
        return exponent !== 0x7fff || (mantissa & 0x7fffffffffffffffn) === 0n;
      };
    case 'complex8':
      return complexTest((v, at) => v.getFloat32(at, le), 4);
    case 'complex16':
      return complexTest((v, at) => v.getFloat64(at, le), 8);
  }
  throw new FormatError(`unsupported element type ${type.name}`);
}

/** numpy orders complex numbers lexicographically, and a NaN imaginary part fails the real test. */
function complexTest(part: (v: DataView, at: number) => number, partSize: number): Test {
  return (v, at) => {
    const re = part(v, at);
    const im = part(v, at + partSize);
    return (re > 0 && im === im) || (re === 0 && im > 0);
  };
}

/** Reads an element as a float64, as numpy's cast to float64 would. */
export function valueReader(type: ElementType): (view: DataView, at: number) => number {
  const le = type.littleEndian;
  switch (`${type.kind}${type.size}`) {
    case 'bool1':
    case 'uint1':
      return (v, at) => v.getUint8(at);
    case 'int1':
      return (v, at) => v.getInt8(at);
    case 'int2':
      return (v, at) => v.getInt16(at, le);
    case 'uint2':
      return (v, at) => v.getUint16(at, le);
    case 'int4':
      return (v, at) => v.getInt32(at, le);
    case 'uint4':
      return (v, at) => v.getUint32(at, le);
    // Number(bigint) rounds to nearest-even, exactly like numpy's int64 -> float64 cast.
    case 'int8':
      return (v, at) => Number(v.getBigInt64(at, le));
    case 'uint8':
      return (v, at) => Number(v.getBigUint64(at, le));
    case 'float2':
      return (v, at) => halfToNumber(v.getUint16(at, le));
    case 'float4':
      return (v, at) => v.getFloat32(at, le);
    case 'float8':
      return (v, at) => v.getFloat64(at, le);
    case 'float16':
      return (v, at) => longDoubleAt(v, at, le);
  }
  throw new FormatError(`element type ${type.name} has no real value`);
}

function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * x87 80-bit extended precision stored in 16 bytes (numpy's longdouble on x86-64): a 64-bit
 * mantissa with explicit integer bit, then 15-bit exponent and sign. Converted to the nearest
 * float64, which keeps every sign and zero/NaN distinction the > 0 test needs.
 */
function longDoubleParts(v: DataView, at: number, le: boolean): { mantissa: bigint; signExponent: number } {
  return le
    ? { mantissa: v.getBigUint64(at, true), signExponent: v.getUint16(at + 8, true) }
    : { mantissa: v.getBigUint64(at + 8, false), signExponent: v.getUint16(at + 6, false) };
}

function longDoubleAt(v: DataView, at: number, le: boolean): number {
  const { mantissa, signExponent } = longDoubleParts(v, at, le);
  const sign = signExponent & 0x8000 ? -1 : 1;
  const exponent = signExponent & 0x7fff;
  if (exponent === 0x7fff) return (mantissa & 0x7fffffffffffffffn) === 0n ? sign * Infinity : NaN;
  if (exponent === 0 && mantissa === 0n) return sign * 0;
  return sign * Number(mantissa) * 2 ** (Math.max(exponent, 1) - 16383 - 63);
}
