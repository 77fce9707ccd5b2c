// Fixture writer for numpy's .npy format (what np.save / np.savez write for each array).
// The output is byte-identical to numpy's own writer so that readers tested against these
// fixtures behave the same on real caches. Layout (numpy/lib/format.py):
//   "\x93NUMPY" major minor | header length (uint16 LE for 1.0, uint32 LE for 2.0/3.0)
//   | header dict text, space padded, '\n' terminated | raw element bytes.

/** A numpy dtype descr string: '<f4', '>f8', '|u1', '|b1', '<c8', '<m8[s]', ... */
export type NpyDtype = string;

// numpy aligns the data start to 64 bytes so arrays can be memory-mapped.
const ARRAY_ALIGN = 64;
// numpy leaves room to rewrite the growth axis in place (GROWTH_AXIS_MAX_DIGITS = 21).
const GROWTH_AXIS_MAX_DIGITS = 21;

export interface NpyOptions {
  descr: NpyDtype;
  shape: number[];
  fortranOrder?: boolean;
  version?: 1 | 2 | 3;
  /** Raw element bytes, already in the descr's byte order and in the shape's memory order. */
  data: Uint8Array;
}

/** Python's repr of a tuple of ints: (), (5,), (2, 3). */
function shapeRepr(shape: number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/** The header text and preamble exactly as numpy's _write_array_header + _wrap_header build them. */
export function npyHeader(descr: NpyDtype, shape: number[], fortranOrder = false, version: 1 | 2 | 3 = 1): Uint8Array {
  let dict = `{'descr': '${descr}', 'fortran_order': ${fortranOrder ? 'True' : 'False'}, 'shape': ${shapeRepr(shape)}, }`;
  if (shape.length > 0) {
    const growthAxis = shape[fortranOrder ? shape.length - 1 : 0];
    dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(growthAxis).length));
  }
  // 1.0/2.0 headers are latin1, 3.0 is utf8; our dict is ASCII, so the bytes are the same.
  const text = Buffer.from(dict, version === 3 ? 'utf8' : 'latin1');
  const lenBytes = version === 1 ? 2 : 4;
  const hlen = text.length + 1; // + the terminating '\n'
  // numpy pads a full ARRAY_ALIGN block when already aligned (it never pads by 0).
  const padlen = ARRAY_ALIGN - ((6 + 2 + lenBytes + hlen) % ARRAY_ALIGN);
  if (version === 1 && hlen + padlen > 0xffff) throw new Error(`npy header too long for version 1.0`);

  const out = Buffer.alloc(6 + 2 + lenBytes + hlen + padlen, 0x20);
  out.write('\x93NUMPY', 0, 'latin1');
  out[6] = version;
  out[7] = 0;
  if (lenBytes === 2) out.writeUInt16LE(hlen + padlen, 8);
  else out.writeUInt32LE(hlen + padlen, 8);
  text.copy(out, 8 + lenBytes);
  out[out.length - 1] = 0x0a;
  return out;
}

/** A complete .npy file: header followed by the raw data bytes. */
export function encodeNpy(opts: NpyOptions): Uint8Array {
  const header = npyHeader(opts.descr, opts.shape, opts.fortranOrder ?? false, opts.version ?? 1);
  return Buffer.concat([header, opts.data]);
}

// ---- element encoding -------------------------------------------------------------------

export interface DescrInfo {
  littleEndian: boolean;
  /** numpy kind letter: b bool, i int, u uint, f float, c complex, m timedelta, M datetime. */
  kind: string;
  /** Bytes per element. */
  size: number;
}

/** Splits '<f4' / '|b1' / '>m8[s]' into byte order, kind and element size. */
export function parseDescr(descr: NpyDtype): DescrInfo {
  const m = /^([<>|=])([biufcmM])(\d+)(\[\w+\])?$/.exec(descr);
  if (!m) throw new Error(`unsupported descr ${descr}`);
  const size = Number(m[3]);
  const ok: Record<string, number[]> = {
    b: [1],
    i: [1, 2, 4, 8],
    u: [1, 2, 4, 8],
    f: [2, 4, 8],
    c: [8, 16],
    m: [8],
    M: [8],
  };
  if (!ok[m[2]].includes(size)) throw new Error(`unsupported descr ${descr}`);
  // '|' (not applicable) only occurs on 1-byte types; '=' is native, which is little on our hosts.
  return { littleEndian: m[1] !== '>', kind: m[2], size };
}

/** Rounds half to even, like IEEE conversion does. x is non-negative. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d !== 0.5) return d < 0.5 ? f : f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * IEEE 754 binary16 bits of a double, rounding straight from the double (round to nearest,
 * ties to even) as numpy's npy_double_to_half does; going through float32 first could
 * double-round.
 */
export function halfBits(v: number): number {
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  // 65520 is halfway between the largest half (65504) and 2^16: ties-to-even goes to infinity.
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24); // subnormal, units of 2^-24
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a)
    e--; // log2 can be off by one next to powers of two
  else if (2 ** (e + 1) <= a) e++;
  const mant = roundHalfEven((a / 2 ** e) * 1024); // in [1024, 2048]; 2048 carries into the exponent
  return sign | (((e + 15) << 10) + (mant - 1024));
}

function toBigInt(v: number | bigint): bigint {
  return typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
}

/** Writes one real scalar of `kind`/`size` at `off`. Integers wrap like C casts. */
function writeScalar(dv: DataView, off: number, kind: string, size: number, le: boolean, v: number | bigint): void {
  if (kind === 'b') {
    dv.setUint8(off, v !== 0 && v !== 0n ? 1 : 0); // NaN is truthy, as bool(nan) in numpy
    return;
  }
  if (size === 8 && kind !== 'f') {
    if (kind === 'u') dv.setBigUint64(off, BigInt.asUintN(64, toBigInt(v)), le);
    else dv.setBigInt64(off, BigInt.asIntN(64, toBigInt(v)), le); // i8, m8, M8
    return;
  }
  const n = Number(v);
  if (kind === 'f') {
    if (size === 2) dv.setUint16(off, halfBits(n), le);
    else if (size === 4) dv.setFloat32(off, n, le);
    else dv.setFloat64(off, n, le);
    return;
  }
  const i = Math.trunc(n);
  if (size === 1) dv.setUint8(off, i & 0xff);
  else if (size === 2) dv.setUint16(off, i & 0xffff, le);
  else dv.setUint32(off, i >>> 0, le);
}

function encode(descr: NpyDtype, re: ArrayLike<number | bigint>, im?: ArrayLike<number>): Uint8Array {
  const { littleEndian, kind, size } = parseDescr(descr);
  const out = new Uint8Array(re.length * size);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < re.length; i++) {
    if (kind === 'c') {
      // A complex element is two floats of half its size: real then imaginary.
      writeScalar(dv, i * size, 'f', size / 2, littleEndian, re[i]);
      writeScalar(dv, i * size + size / 2, 'f', size / 2, littleEndian, im ? im[i] : 0);
    } else {
      writeScalar(dv, i * size, kind, size, littleEndian, re[i]);
    }
  }
  return out;
}

/** Raw bytes of `values` as elements of `descr` (complex descrs get imaginary parts 0). */
export function encodeValues(descr: NpyDtype, values: ArrayLike<number | bigint>): Uint8Array {
  return encode(descr, values);
}

/** Raw bytes of a complex array ('<c8', '>c16', ...) from real and imaginary parts. */
export function encodeComplex(descr: NpyDtype, re: ArrayLike<number>, im: ArrayLike<number>): Uint8Array {
  if (parseDescr(descr).kind !== 'c') throw new Error(`${descr} is not a complex descr`);
  if (re.length !== im.length) throw new Error('real and imaginary parts differ in length');
  return encode(descr, re, im);
}
