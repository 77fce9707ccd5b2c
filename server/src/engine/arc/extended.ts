/**
 * x87 extended precision (numpy's longdouble on x86: a 64-bit significand), exactly, with
 * BigInt significands. nibabel computes the qform's rotation in longdouble (quaternions.py
 * MAX_FLOAT) and rounds it to float64 only when it stores the affine; a float64 computation
 * differs in the last place, which decides voxels that fall exactly on an edge when resampling.
 */
const SIGNIFICAND_BITS = 64;

/** m × 2^e. */
export interface Extended {
  m: bigint;
  e: number;
}

function bitLength(a: bigint): number {
  return a === 0n ? 0 : a.toString(2).length;
}

/** Rounds m × 2^e to `bits` significant bits, half to even (m may carry a sticky low bit). */
function roundTo(m: bigint, e: number, bits: number): Extended {
  if (m === 0n) return { m: 0n, e: 0 };
  const negative = m < 0n;
  let a = negative ? -m : m;
  const drop = bitLength(a) - bits;
  if (drop > 0) {
    const shift = BigInt(drop);
    const q = a >> shift;
    const rest = a - (q << shift);
    const half = 1n << (shift - 1n);
    a = rest > half || (rest === half && (q & 1n) === 1n) ? q + 1n : q;
    e += drop;
  }
  return { m: negative ? -a : a, e };
}

const round = (m: bigint, e: number) => roundTo(m, e, SIGNIFICAND_BITS);

export function fromNumber(x: number): Extended {
  if (x === 0) return { m: 0n, e: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const exponent = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const m = exponent === 0 ? fraction : fraction | (1n << 52n);
  const e = (exponent === 0 ? 1 : exponent) - 1075;
  return { m: x < 0 ? -m : m, e };
}

/** Rounded to float64 (half to even), as numpy stores a longdouble into a float64 array. */
export function toNumber(x: Extended): number {
  const r = roundTo(x.m, x.e, 53);
  return Number(r.m) * 2 ** r.e;
}

function align(a: Extended, b: Extended): [bigint, bigint, number] {
  if (a.m === 0n) return [0n, b.m, b.e];
  if (b.m === 0n) return [a.m, 0n, a.e];
  const e = Math.min(a.e, b.e);
  return [a.m << BigInt(a.e - e), b.m << BigInt(b.e - e), e];
}

export function add(a: Extended, b: Extended): Extended {
  const [x, y, e] = align(a, b);
  return round(x + y, e);
}

export function sub(a: Extended, b: Extended): Extended {
  return add(a, { m: -b.m, e: b.e });
}

export function mul(a: Extended, b: Extended): Extended {
  return round(a.m * b.m, a.e + b.e);
}

export function div(a: Extended, b: Extended): Extended {
  if (a.m === 0n) return a;
  const shift = SIGNIFICAND_BITS + 2 + Math.max(0, bitLength(b.m < 0n ? -b.m : b.m) - bitLength(a.m < 0n ? -a.m : a.m));
  const numerator = a.m << BigInt(shift);
  let q = numerator / b.m;
  let e = a.e - b.e - shift;
  if (numerator % b.m !== 0n) {
    q = q * 2n + (q < 0n || (q === 0n && a.m < 0n !== b.m < 0n) ? -1n : 1n);
    e -= 1;
  }
  return round(q, e);
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(bitLength(n) / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function sqrt(a: Extended): Extended {
  if (a.m <= 0n) return { m: 0n, e: 0 };
  let m = a.m;
  let e = a.e;
  let extra = 2 * (SIGNIFICAND_BITS + 2) - bitLength(m);
  if (extra < 0) extra = 0;
  if ((e - extra) % 2 !== 0) extra += 1;
  m <<= BigInt(extra);
  e -= extra;
  let r = isqrt(m);
  let re = e / 2;
  if (r * r !== m) {
    r = r * 2n + 1n;
    re -= 1;
  }
  return round(r, re);
}

export function lessThan(a: Extended, b: Extended): boolean {
  const [x, y] = align(a, b);
  return x < y;
}

/**
 * a × b + c rounded once to float64: the fused multiply-add OpenBLAS's dgemm kernels accumulate
 * with (numpy's 4x4 `dot` sums k = 0..3 as acc = fma(a_k, b_k, acc), measured in the tests).
 */
export function fma(a: number, b: number, c: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(c)) return a * b + c;
  const x = fromNumber(a);
  const y = fromNumber(b);
  const product: Extended = { m: x.m * y.m, e: x.e + y.e };
  const [p, q, e] = align(product, fromNumber(c));
  const sum = p + q;
  if (sum === 0n) return a * b + c; // the sign of an exact zero, as IEEE gives it
  return toNumber({ m: sum, e });
}

/** numpy's `a @ b` for 4x4 float64 matrices (OpenBLAS dgemm): a fused chain over k = 0..3. */
export function blasMatmul(a: number[][], b: number[][]): number[][] {
  return a.map((row) => b[0].map((_, j) => row.reduce((acc, v, k) => fma(v, b[k][j], acc), 0)));
}
