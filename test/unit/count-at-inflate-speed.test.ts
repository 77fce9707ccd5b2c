/**
 * Counting labels at inflate speed (issue 22): the piecewise inflater, the halving block counter,
 * and a build that counts on the main thread, each checked against the plain way of doing it.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { summarizeNpz } from '../../server/src/engine/eeg/npz';
import { inflateRawPieces, PIECE_SIZE } from '../../server/src/engine/io/inflate';
import { memorySource } from '../../server/src/engine/io/source';
import { PositiveCounts } from '../../server/src/engine/numpy/counting';
import { parseNumpyDescr } from '../../server/src/engine/numpy/elements';
import { buildManifestFile } from '../../server/src/service/buildManifest';
import { FingerprintStore } from '../../server/src/service/fingerprints';
import { CacheInspector } from '../../server/src/service/inspector';
import { WorkerPool } from '../../server/src/workers/pool';
import { tempDir } from '../support/python';
import { eegNpz } from '../writers/npz';

/** Every piece copied out (a piece is overwritten by the next), and the generator's verdict. */
function inflateAll(compressed: Uint8Array, limit: number): { ok: boolean; bytes: Buffer; pieces: number } {
  const pieces = inflateRawPieces(compressed, limit);
  const copies: Buffer[] = [];
  for (;;) {
    const next = pieces.next();
    if (next.done) return { ok: next.value, bytes: Buffer.concat(copies), pieces: copies.length };
    copies.push(Buffer.from(next.value));
  }
}

/** Runs of 0.0 and 1.0 with a few other values, as label arrays hold (deterministic). */
function labelRuns(elements: number, seed: number): Float32Array {
  const values = new Float32Array(elements);
  let x = seed;
  const next = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) / (1 << 24);
  for (let at = 0; at < elements;) {
    const length = Math.floor(next() * 20000) + 1;
    const kind = next();
    const value = kind < 0.45 ? 0 : kind < 0.9 ? 1 : kind < 0.93 ? -0 : kind < 0.96 ? NaN : 0.5;
    values.fill(value, at, at + length);
    at += length;
  }
  // Single odd elements inside runs: run edges that are not on any block boundary.
  for (let i = 0; i < 50; i++) values[Math.floor(next() * elements)] = next() < 0.5 ? 2 : -1;
  return values;
}

test('inflateRawPieces: the pieces are the stream, and anything but a clean end within the limit says false', () => {
  const data = Buffer.from(labelRuns(3 * PIECE_SIZE, 7).buffer);
  const compressed = zlib.deflateRawSync(data);
  const whole = inflateAll(compressed, data.length);
  assert.equal(whole.ok, true);
  assert.ok(whole.pieces > 1, 'several pieces: the output buffer is reused');
  assert.ok(whole.bytes.equals(data));
  assert.equal(inflateAll(compressed, data.length - 1).ok, false, 'more output than the limit');
  assert.equal(inflateAll(compressed.subarray(0, compressed.length - 5), data.length).ok, false, 'truncated');
  assert.equal(inflateAll(Buffer.concat([compressed, Buffer.from([0])]), data.length).ok, false, 'bytes after the end');
  assert.equal(inflateAll(Buffer.from([0xff, 0xff, 0xff]), data.length).ok, false, 'invalid');
  // Output that fills the reused buffer exactly, then ends.
  const exact = Buffer.alloc(PIECE_SIZE, 9);
  assert.deepEqual(
    { ...inflateAll(zlib.deflateRawSync(exact), PIECE_SIZE), bytes: undefined },
    {
      ok: true,
      bytes: undefined,
      pieces: 1,
    },
  );
});

test('block counting with halving equals an element-by-element count, for every chunking', () => {
  const rows = 40;
  const rowSize = 15360;
  const values = labelRuns(rows * rowSize, 3);
  const expected = Array.from({ length: rows }, (_, r) =>
    values.subarray(r * rowSize, (r + 1) * rowSize).reduce((n, v) => n + (v > 0 ? 1 : 0), 0),
  );
  const bytes = new Uint8Array(values.buffer);
  for (const chunk of [bytes.length, PIECE_SIZE, 4093, 64 * 1024 + 2]) {
    const counter = new PositiveCounts(parseNumpyDescr('<f4'), values.length, rows);
    for (let at = 0; at < bytes.length; at += chunk) counter.push(bytes.subarray(at, at + chunk));
    assert.ok(counter.complete);
    assert.deepEqual(Array.from(counter.counts), expected, `chunks of ${chunk} bytes`);
  }
});

test('labels read the quick way and a damaged member read the exact way agree with what numpy would say', async () => {
  const windows = 30;
  const samples = 15360;
  const labels = labelRuns(windows * samples, 11);
  const file = eegNpz({ windows, channels: 1, samples, labels, compress: true });
  const summary = await summarizeNpz(memorySource(file));
  const expected = Array.from({ length: windows }, (_, w) =>
    labels.subarray(w * samples, (w + 1) * samples).reduce((n, v) => n + (v > 0 ? 1 : 0), 0),
  );
  assert.deepEqual(summary.positives, expected);
  // One flipped bit in the stored CRC: the quick path must not vouch for it; numpy raises BadZipFile.
  const damaged = Buffer.from(file);
  const central = damaged.lastIndexOf(Buffer.from('labels.npy'));
  const entry = damaged.lastIndexOf(Buffer.from([0x50, 0x4b, 1, 2]), central);
  damaged[entry + 16] ^= 1;
  await assert.rejects(summarizeNpz(memorySource(damaged)), (error: Error & { python?: string }) => {
    assert.match(error.message, /CRC-32/);
    return true;
  });
});

test('a build counts its files on the main thread when its allowance holds them all, and otherwise hands some to the threads', async () => {
  const dir = tempDir();
  const files = 6;
  for (let f = 0; f < files; f++) {
    const labels = labelRuns(4 * 1000, 20 + f);
    writeFileSync(
      path.join(dir, `s${f}.npz`),
      eegNpz({ windows: 4, channels: 1, samples: 1000, labels, compress: true }),
    );
  }
  const build = async (options: ConstructorParameters<typeof WorkerPool>[1]) => {
    const pool = new WorkerPool(1, options);
    try {
      const inspector = new CacheInspector(pool, new FingerprintStore());
      const result = await buildManifestFile(dir, inspector);
      return { text: readFileSync(result.manifestPath, 'utf8'), pool };
    } finally {
      await pool.close();
    }
  };
  const threads = await build({});
  assert.equal(threads.pool.countedHere, 0);
  const here = await build({ countHereBytes: Number.MAX_SAFE_INTEGER });
  assert.equal(here.pool.countedHere, files, 'every file counted on the main thread');
  assert.equal(here.pool.threadCount, 0, 'no thread was started');
  assert.equal(here.text, threads.text, 'the same manifest either way');
  // An allowance short of the files' labels (16,000 bytes of data each): the threads take some.
  const some = await build({ countHereBytes: (files - 1) * 4 * 1000 * 4 });
  assert.ok(some.pool.countedHere < files, `counted here: ${some.pool.countedHere}`);
  assert.equal(some.pool.tasksRun, files, 'each file counted once, here or on a thread');
  assert.equal(some.text, threads.text);
});
