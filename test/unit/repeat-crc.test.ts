/**
 * Appending a known CRC-32 to a running one (issue 22) gives zlib's value for the bytes
 * concatenated: for every power-of-two length the tables are built for, from any running CRC.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { crc32Append, crcShiftTables } from '../../server/src/engine/io/repeatCrc';

/** Deterministic noise. */
function noise(length: number, seed: number): Buffer {
  let x = seed;
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
  return out;
}

test('crc32Append(crc(A), crc(B)) equals zlib.crc32(A‖B) for blocks B of every power-of-two length', () => {
  // Some built from scratch, some (2, 128, 8192, 131072) from the tables of half their length.
  for (const length of [1, 2, 64, 128, 512, 4096, 8192, 65536, 131072]) {
    const tables = crcShiftTables(length);
    for (const [seed, aLength] of [
      [1, 0],
      [2, 1],
      [3, 777],
      [4, 4096],
    ]) {
      const a = noise(aLength, seed);
      for (const b of [noise(length, seed + 10), Buffer.alloc(length), Buffer.alloc(length, 0xff)]) {
        for (const previous of [0, 0xffffffff, 0x12345678]) {
          const running = zlib.crc32(a, previous);
          assert.equal(
            crc32Append(tables, running, zlib.crc32(b)),
            zlib.crc32(Buffer.concat([a, b]), previous),
            `${aLength} + ${length} bytes from ${previous}`,
          );
        }
      }
    }
  }
});

test('the tables are made for powers of two only', () => {
  assert.throws(() => crcShiftTables(3000), RangeError);
  assert.equal(crcShiftTables(4096), crcShiftTables(4096), 'built once per length');
});
