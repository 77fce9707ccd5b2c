/**
 * The CRC-32 that skips repeated blocks (issue 22) gives zlib's value exactly: on runs, on data
 * without any repetition, at every length around a block, with a running CRC, across calls that
 * share known blocks, and on a damaged copy (a CRC check must still catch one flipped bit).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { crc32Repeating, REPEAT_BLOCK } from '../../server/src/engine/io/repeatCrc';

/** Deterministic bytes: `runs` of one 4-byte value each (float32 0.0 and 1.0 mostly), or noise. */
function bytes(length: number, seed: number, runs: boolean): Buffer {
  let x = seed;
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8;
  const out = Buffer.alloc(length);
  if (!runs) {
    for (let i = 0; i < length; i++) out[i] = next() & 0xff;
    return out;
  }
  for (let at = 0; at < length;) {
    const run = 4 * ((next() % 6000) + 1);
    const value = [0, 0x3f800000, 0x40000000][next() % 3];
    for (let i = at; i + 4 <= Math.min(length, at + run); i += 4) out.writeUInt32LE(value, i);
    at += run;
  }
  return out;
}

test('equals zlib.crc32 on runs, on noise and on constant data, at lengths around a block', () => {
  const lengths = [0, 1, 3, REPEAT_BLOCK - 1, REPEAT_BLOCK, REPEAT_BLOCK + 1, 2 * REPEAT_BLOCK - 1, 2 * REPEAT_BLOCK];
  lengths.push(2 * REPEAT_BLOCK + 1, 3 * REPEAT_BLOCK, 5 * REPEAT_BLOCK + 7, 256 << 10, (1 << 20) + 13);
  for (const length of lengths) {
    for (const [name, data] of [
      ['runs', bytes(length, length + 1, true)],
      ['noise', bytes(length, length + 2, false)],
      ['zeros', Buffer.alloc(length)],
      ['ones', Buffer.alloc(length, 0xff)],
    ] as const) {
      for (const previous of [0, 1, 0xffffffff, 0x12345678])
        assert.equal(crc32Repeating(data, previous), zlib.crc32(data, previous), `${name}, ${length} bytes`);
    }
  }
});

test('equals zlib.crc32 on views at any offset, fed in pieces as an inflater delivers them', () => {
  const data = bytes(3 << 20, 7, true);
  for (const offset of [0, 1, 2, 128, 4095]) {
    const view = new Uint8Array(data.buffer, data.byteOffset + offset, data.length - offset - 3);
    const expected = zlib.crc32(view);
    assert.equal(crc32Repeating(view), expected, `view at ${offset}`);
    for (const piece of [REPEAT_BLOCK, 65536 + 5, 256 << 10]) {
      let crc = 0;
      for (let at = 0; at < view.length; at += piece) crc = crc32Repeating(view.subarray(at, at + piece), crc);
      assert.equal(crc, expected, `view at ${offset} in pieces of ${piece}`);
    }
  }
});

test('blocks known from an earlier call are not taken for other bytes', () => {
  // Teaches a block of 1.0, then asks for data where every block differs from it in one byte.
  const ones = Buffer.alloc(8 * REPEAT_BLOCK);
  for (let i = 0; i < ones.length; i += 4) ones.writeFloatLE(1, i);
  assert.equal(crc32Repeating(ones), zlib.crc32(ones));
  const almost = Buffer.from(ones);
  for (let at = 0; at < almost.length; at += REPEAT_BLOCK)
    almost[at + (((at / REPEAT_BLOCK) * 37) % REPEAT_BLOCK)] ^= 1;
  assert.equal(crc32Repeating(almost), zlib.crc32(almost));
});

test('a flipped bit anywhere in a run changes the CRC, as zlib says', () => {
  const data = bytes(40 * REPEAT_BLOCK, 11, true);
  const good = crc32Repeating(data);
  for (const at of [0, REPEAT_BLOCK, 17 * REPEAT_BLOCK + 100, data.length - 1]) {
    const damaged = Buffer.from(data);
    damaged[at] ^= 0x10;
    const crc = crc32Repeating(damaged);
    assert.equal(crc, zlib.crc32(damaged), `flip at ${at}`);
    assert.notEqual(crc, good, `flip at ${at}`);
  }
});
