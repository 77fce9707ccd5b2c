/**
 * Counting and CRC-checking label data in one pass (issue 22): the CheckedCounter gives exactly
 * what PositiveCounts fed the same bytes and zlib.crc32 over them give, for every element type,
 * both orders, any piece boundaries (elements cut across pieces too), and a damaged byte hidden
 * inside a repeated block is caught by the CRC of a whole cache file, as numpy's zipfile does;
 * the same again for bytes in WebAssembly memory, where runs are found by the SIMD kernel.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { summarizeNpz } from '../../server/src/engine/eeg/npz';
import { memorySource } from '../../server/src/engine/io/source';
import { CheckedCounter } from '../../server/src/engine/numpy/checkedCount';
import { PositiveCounts } from '../../server/src/engine/numpy/counting';
import { parseNumpyDescr } from '../../server/src/engine/numpy/elements';
import { countingBuffer, returnCountingBuffer } from '../../server/src/engine/numpy/simdCount';
import { uniformRunFinder } from '../../server/src/engine/numpy/uniformRuns';
import { pythonWith, runPython, tempDir } from '../support/python';
import { eegNpz } from '../writers/npz';

const numpy = pythonWith('numpy');

/** Deterministic runs of `values` (each an element's bytes), long and short, with single odd elements inside runs. */
function runs(elements: number, size: number, values: number[][], seed: number): Buffer {
  let x = seed;
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8;
  const out = Buffer.alloc(elements * size);
  for (let at = 0; at < elements;) {
    const length = next() % 3 === 0 ? (next() % 50) + 1 : (next() % 9000) + 1;
    const value = values[next() % values.length];
    for (let e = at; e < Math.min(elements, at + length); e++) out.set(value, e * size);
    at += length;
  }
  for (let i = 0; i < 30; i++) out.set(values[next() % values.length], (next() % elements) * size);
  return out;
}

/** Element bytes of a few values, as the given numpy type writes them. */
function elementsOf(descr: string, numbers: number[]): number[][] {
  const type = parseNumpyDescr(descr);
  return numbers.map((n) => {
    const b = Buffer.alloc(type.size);
    const le = type.littleEndian;
    if (type.kind === 'float' && type.size === 4) (le ? b.writeFloatLE : b.writeFloatBE).call(b, n);
    else if (type.kind === 'float' && type.size === 8) (le ? b.writeDoubleLE : b.writeDoubleBE).call(b, n);
    else if (type.size === 1) b[0] = n & 0xff;
    else if (type.size === 2) (le ? b.writeInt16LE : b.writeInt16BE).call(b, n);
    else (le ? b.writeInt32LE : b.writeInt32BE).call(b, n);
    return [...b];
  });
}

function plain(descr: string, data: Buffer, rows: number, fortran: boolean) {
  const type = parseNumpyDescr(descr);
  const counts = new PositiveCounts(type, data.length / type.size, rows, fortran);
  counts.push(data);
  return { counts: Array.from(counts.counts), crc: zlib.crc32(data) };
}

/**
 * CheckedCounter's counts and CRC of `data` pushed in pieces of the given lengths; `inPlace`:
 * each piece copied into a counting buffer first (at an odd offset: the inflater's pieces sit
 * at 0, the first one's data after the `.npy` header), where the run kernel reads it.
 */
function checked(descr: string, data: Buffer, rows: number, fortran: boolean, pieces: number[], inPlace = false) {
  const type = parseNumpyDescr(descr);
  const counts = new PositiveCounts(type, data.length / type.size, rows, fortran);
  const counter = new CheckedCounter(counts);
  const memory = inPlace ? countingBuffer(2 << 20) : undefined;
  if (inPlace) assert.ok(memory && uniformRunFinder(memory, type.size), 'the run kernel reads counting buffers');
  let crc = 0;
  for (let at = 0, i = 0; at < data.length; i++) {
    const length = pieces[i % pieces.length];
    const piece = data.subarray(at, at + length);
    if (memory) {
      const offset = (i * 7) % 129;
      memory.set(piece, offset);
      crc = counter.push(memory.subarray(offset, offset + piece.length), crc);
    } else crc = counter.push(piece, crc);
    at += length;
  }
  if (memory) returnCountingBuffer(memory);
  assert.ok(counts.complete);
  return { counts: Array.from(counts.counts), crc };
}

test('one pass gives the counts and the CRC of the plain way, for every type, order and chunking', () => {
  const cases: [string, number[]][] = [
    ['<f4', [0, 1, -0, NaN, 0.5, -1]],
    ['>f4', [0, 1, -2]],
    ['<f8', [0, 1, NaN]],
    ['|u1', [0, 1, 255]],
    ['|i1', [0, 1, -1]],
    ['<i2', [0, 3, -3]],
    ['>i4', [0, 1, -7]],
  ];
  // Pieces of the inflater's size, ones that cut elements and blocks, and tiny ones.
  const chunkings = [[256 << 10], [4096], [4093, 65539, 7], [1 << 20], [511, 513], [3]];
  for (const [descr, numbers] of cases) {
    const size = parseNumpyDescr(descr).size;
    const rows = 7;
    const data = runs(rows * 15000, size, elementsOf(descr, numbers), size * 31 + numbers.length);
    for (const fortran of [false, true]) {
      const expected = plain(descr, data, rows, fortran);
      for (const pieces of chunkings) {
        if (pieces[0] === 3 && data.length > 200_000) continue; // element-sized pieces: covered by the small arrays below
        for (const inPlace of [false, true])
          assert.deepEqual(
            checked(descr, data, rows, fortran, pieces, inPlace),
            expected,
            `${descr} ${fortran} ${pieces}${inPlace ? ' in place' : ''}`,
          );
      }
    }
    const small = runs(3 * 5000, size, elementsOf(descr, numbers), 5);
    for (const inPlace of [false, true])
      assert.deepEqual(
        checked(descr, small, 3, false, [3, 1, 4096], inPlace),
        plain(descr, small, 3, false),
        `${descr} small`,
      );
  }
});

test('a block that starts like a known one but differs inside it is counted and CRC-ed as it is', () => {
  // Blocks of 1.0 learnt first, then blocks each differing from them in one element: 0.0, NaN or -1.0.
  const size = 4;
  const one = elementsOf('<f4', [1])[0];
  const data = Buffer.alloc(64 * 4096);
  for (let at = 0; at < data.length; at += size) data.set(one, at);
  for (let block = 8; block < 64; block++) {
    const at = block * 4096 + ((block * 52) % 1024) * size;
    data.set(elementsOf('<f4', [[0, NaN, -1][block % 3]])[0], at);
  }
  for (const rows of [1, 64, 1024])
    for (const inPlace of [false, true])
      assert.deepEqual(checked('<f4', data, rows, false, [256 << 10], inPlace), plain('<f4', data, rows, false));
});

test('a damaged byte inside a repeated block of labels fails the CRC check, as numpy says', async () => {
  const windows = 20;
  const samples = 15360;
  const labels = new Float32Array(windows * samples);
  for (let w = 0; w < windows; w++) labels.fill(1, w * samples + 1000 * w, w * samples + 1000 * w + 9000);
  const good = eegNpz({ windows, channels: 1, samples, labels, compress: true });
  // The same file written from labels with one byte changed deep inside a run of 1.0 (a
  // block the counter knows), carrying the good file's CRC: the stream inflates cleanly, and
  // only the CRC can tell.
  const changed = new Float32Array(labels);
  new Uint8Array(changed.buffer)[5 * samples * 4 + 12_345 * 4 + 3] = 0x01;
  const bad = Buffer.from(eegNpz({ windows, channels: 1, samples, labels: changed, compress: true }));
  const crcAt = (file: Uint8Array) => {
    const bytes = Buffer.from(file);
    const central = bytes.lastIndexOf(Buffer.from('labels.npy'));
    return bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 1, 2]), central) + 16;
  };
  Buffer.from(good).copy(bad, crcAt(bad), crcAt(good), crcAt(good) + 4);
  assert.notEqual(
    Buffer.compare(bad.subarray(crcAt(bad), crcAt(bad) + 4), Buffer.alloc(4)),
    0,
    'a CRC was copied over',
  );
  assert.equal((await summarizeNpz(memorySource(good))).positives.length, windows);
  await assert.rejects(summarizeNpz(memorySource(bad)), (error: Error & { exception?: string }) => {
    assert.match(error.message, /CRC-32/);
    assert.equal(error.exception, 'zipfile.BadZipFile');
    return true;
  });
  if (!numpy) return;
  const dir = tempDir();
  writeFileSync(path.join(dir, 'bad.npz'), bad);
  const raised = runPython<string>(
    numpy,
    `
import json, sys, zipfile, numpy as np
try:
    with np.load(sys.argv[1]) as data:
        data["labels"]
    print(json.dumps("nothing"))
except zipfile.BadZipFile as e:
    print(json.dumps("BadZipFile: " + str(e)))
`,
    [path.join(dir, 'bad.npz')],
  );
  assert.match(raised, /^BadZipFile: Bad CRC-32/);
});
