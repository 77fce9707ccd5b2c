/**
 * Counting labels at inflate speed (issue 22): the piecewise inflater, the halving block counter,
 * and a build that counts on the main thread, each checked against the plain way of doing it.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { summarizeNifti } from '../../server/src/engine/arc/nifti';
import { summarizeNpz } from '../../server/src/engine/eeg/npz';
import {
  inflateChunks,
  InflateError,
  inflateRawPieces,
  inflateRawPiecesOf,
  PIECE_SIZE,
} from '../../server/src/engine/io/inflate';
import { memorySource } from '../../server/src/engine/io/source';
import { PositiveCounts } from '../../server/src/engine/numpy/counting';
import { parseNumpyDescr } from '../../server/src/engine/numpy/elements';
import { buildManifestFile } from '../../server/src/service/buildManifest';
import { FingerprintStore } from '../../server/src/service/fingerprints';
import { CacheInspector } from '../../server/src/service/inspector';
import { WorkerPool } from '../../server/src/workers/pool';
import { tempDir } from '../support/python';
import { encodeNifti, encodeVoxels } from '../writers/nifti';
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

/** `bytes` cut into chunks of `size`, counting how many the reader pulled. */
function chunked(bytes: Uint8Array, size: number, pulled: { count: number }): AsyncIterable<Uint8Array> {
  return (async function* () {
    for (let at = 0; at < bytes.length; at += size) {
      pulled.count++;
      yield bytes.subarray(at, at + size);
    }
  })();
}

/** Every piece copied out, or the error it ended with. */
async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer | Error> {
  const copies: Buffer[] = [];
  try {
    for await (const piece of stream) copies.push(Buffer.from(piece));
  } catch (error) {
    return error as Error;
  }
  return Buffer.concat(copies);
}

test('inflateRawPiecesOf: the pieces of streamed input are what the zlib stream gives, for every chunking and ending', async () => {
  const data = Buffer.from(labelRuns(3 * PIECE_SIZE, 11).buffer);
  const compressed = zlib.deflateRawSync(data);
  const endings: [string, Uint8Array][] = [
    ['clean', compressed],
    ['followed by a gzip trailer and another member', Buffer.concat([compressed, Buffer.alloc(8, 1), compressed])],
    ['cut short', compressed.subarray(0, Math.floor(compressed.length / 2))],
    [
      'corrupt',
      Buffer.concat([compressed.subarray(0, 40), Buffer.from([0xff, 0xff, 0xff, 0xff]), compressed.subarray(44)]),
    ],
    ['empty', new Uint8Array(0)],
  ];
  for (const [ending, input] of endings) {
    for (const size of [1, 7, 4096, 1 << 20]) {
      if (size === 1 && input.length > 100_000) continue;
      const expected = await collect(inflateChunks(chunked(input, size, { count: 0 }), 'raw', 'ends'));
      const pulled = { count: 0 };
      const actual = await collect(inflateRawPiecesOf(chunked(input, size, pulled)));
      const what = `${ending}, chunks of ${size}`;
      if (expected instanceof Error) {
        assert.ok(actual instanceof InflateError, `${what}: fails as the stream does`);
        assert.equal(actual.message, (expected as Error).message, what);
      } else {
        assert.ok(actual instanceof Buffer && actual.equals(expected), `${what}: the same bytes`);
      }
      if (ending === 'followed by a gzip trailer and another member')
        assert.ok(pulled.count <= Math.ceil(compressed.length / size) + 1, `${what}: stops reading at the end`);
    }
  }
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

test('byte masks: runs of one value and scattered bytes count as numpy does (uint8 > 0, int8 > 0), for every chunking', () => {
  // Runs of 0 and 1 (a mask), then spans of arbitrary bytes (high bits set, lone non-zero bytes).
  const length = 3 * PIECE_SIZE + 777;
  const bytes = new Uint8Array(length);
  let x = 5;
  const next = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) / (1 << 24);
  for (let at = 0; at < length;) {
    const run = Math.floor(next() * 9000) + 1;
    const kind = next();
    if (kind < 0.7) bytes.fill(kind < 0.5 ? 0 : 1, at, at + run);
    else for (let i = at; i < Math.min(length, at + run); i++) bytes[i] = next() < 0.8 ? 0 : Math.floor(next() * 256);
    at += run;
  }
  for (const [descr, positive] of [
    ['|u1', (b: number) => b > 0],
    ['|i1', (b: number) => b > 0 && b < 128],
  ] as const) {
    const expected = bytes.reduce((n, b) => n + (positive(b) ? 1 : 0), 0);
    for (const chunk of [length, PIECE_SIZE, 4093, 1, 64 * 1024 + 3]) {
      if (chunk === 1 && descr === '|i1') continue;
      const counter = new PositiveCounts(parseNumpyDescr(descr), length, 1);
      for (let at = 0; at < length; at += chunk) counter.push(bytes.subarray(at, at + chunk));
      assert.equal(counter.counts[0], expected, `${descr}, chunks of ${chunk} bytes`);
    }
  }
});

test('a .nii.gz whose header and extensions span many inflated pieces reads as the same file uncompressed', async () => {
  // A 300 KiB extension of incompressible bytes: the header arrives in many small pieces of one
  // reused buffer, and the voxels start inside the last of them.
  const extension = new Uint8Array(300 << 10);
  let x = 9;
  for (let i = 0; i < extension.length; i++) extension[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
  const dims = [64, 64, 70];
  const values = new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let i = 0; i < values.length; i += 97) values[i] = 1 + (i % 3);
  const expected = values.reduce((n, v) => n + (v > 0 ? 1 : 0), 0);
  const image = { dims, datatype: 2, data: encodeVoxels(2, values), extensions: [{ code: 6, data: extension }] };
  const plain = await summarizeNifti(memorySource(encodeNifti(image)), { countVoxels: true, name: 'a.nii' });
  const gz = encodeNifti({ ...image, gzip: true });
  for (const options of [{ countVoxels: true }, { countVoxels: false }]) {
    const read = await summarizeNifti(memorySource(gz), { ...options, name: 'a.nii.gz' });
    assert.deepEqual(read.shape, dims);
    assert.equal(read.positiveVoxels, options.countVoxels ? expected : undefined);
  }
  assert.equal(plain.positiveVoxels, expected);
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
