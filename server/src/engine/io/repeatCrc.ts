/**
 * Appending bytes whose CRC-32 is known to a running CRC-32 (zlib's, the one ZIP members carry)
 * without reading them: the CRC of A‖B is zlib's crc32_combine(crc(A), crc(B), len(B)) =
 * crc(A)·x^(8·len B) ⊕ crc(B) over GF(2), and multiplying by a fixed power of x is a linear map
 * on 32 bits, four table lookups. Label data repeats the same 4 KiB blocks (runs of 0.0 and
 * 1.0): checkedCount.ts compares each block with the ones it knows (native memcmp) and appends
 * a known one's CRC from here instead of running zlib.crc32 over it, which ran at ~4 GB/s here
 * and cost 3× the member's inflating (24% of a build's CPU at 160 files).
 */

/** zlib's reflected polynomial (bit 31 is x^0). */
const POLY = 0xedb88320;

/** a·b mod P, in zlib's reflected bit order (multmodp in zlib's crc32.c). */
function multModP(a: number, b: number): number {
  let product = 0;
  for (let m = 0x80000000; m !== 0; m >>>= 1) {
    if (a & m) product ^= b;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return product >>> 0;
}

/**
 * Multiplication by x^(8·length) mod P, a linear map on the 32 bits: one table per byte of the
 * CRC (256 entries each), so shifting a CRC past `length` bytes is four lookups. Built on first
 * use, per length (a power of two).
 */
const shiftTables = new Map<number, Uint32Array>();

/** The tables that append `length` bytes (a power of two) to a CRC: see crc32Append. */
export function crcShiftTables(length: number): Uint32Array {
  const known = shiftTables.get(length);
  if (known) return known;
  const doublings = Math.log2(8 * length);
  if (!Number.isInteger(doublings)) throw new RangeError(`CRC shift tables need a power of two, not ${length}`);
  // Shifting past `length` bytes is shifting twice past half of them: with those tables known
  // (checkedCount.ts asks for 16, 32, 64, … bytes in turn), eight lookups per bit's image instead
  // of a multiplication mod P (32 steps; cold, building a thread's run tables cost ~5 ms).
  const half = shiftTables.get(length / 2);
  let power = 0;
  if (!half) {
    // x^(2^k) by squaring, from x^1 (0x40000000 in reflected order): x^(8·4096) = x^(2^15).
    power = 0x40000000;
    for (let k = 0; k < doublings; k++) power = multModP(power, power);
  }
  const tables = new Uint32Array(4 * 256);
  for (let t = 0; t < 4; t++) {
    for (let bit = 0; bit < 8; bit++) {
      const one = (1 << (8 * t + bit)) >>> 0;
      tables[t * 256 + (1 << bit)] = half ? crc32Append(half, crc32Append(half, one, 0), 0) : multModP(power, one);
    }
    // Linear: a byte's image is the XOR of its bits' images.
    for (let v = 3; v < 256; v++)
      if (v & (v - 1)) tables[t * 256 + v] = tables[t * 256 + (v & (v - 1))] ^ tables[t * 256 + (v & -v)];
  }
  shiftTables.set(length, tables);
  return tables;
}

/**
 * `crc` followed by bytes whose own CRC is `block`, as many as `tables` were built for
 * (crcShiftTables): zlib's crc32_combine(crc, block, length) in four lookups.
 */
export function crc32Append(tables: Uint32Array, crc: number, block: number): number {
  return (
    (tables[crc & 0xff] ^
      tables[256 + ((crc >>> 8) & 0xff)] ^
      tables[512 + ((crc >>> 16) & 0xff)] ^
      tables[768 + (crc >>> 24)] ^
      block) >>>
    0
  );
}
