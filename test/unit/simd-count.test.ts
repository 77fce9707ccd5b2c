/**
 * The WebAssembly SIMD counters (engine/numpy/simdCount.ts) against numpy and nibabel: every
 * element type a NIfTI volume holds, with the values where a `> 0` on raw bits can go wrong (NaN
 * payloads of either sign, -0, denormals, infinities, integer extremes, multi-byte values whose
 * low bytes are zero), at every offset and length (not multiples of a vector or a group, pieces
 * that split elements), and whole .nii.gz masks inflated into counting buffers.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { summarizeNifti } from '../../server/src/engine/arc/nifti';
import { PIECE_SIZE } from '../../server/src/engine/io/inflate';
import { memorySource } from '../../server/src/engine/io/source';
import { PositiveCounts } from '../../server/src/engine/numpy/counting';
import { parseNumpyDescr, positiveRunCounter } from '../../server/src/engine/numpy/elements';
import { countingBuffer, returnCountingBuffer } from '../../server/src/engine/numpy/simdCount';
import { pythonWith, runPython, tempDir } from '../support/python';

const numpy = pythonWith('numpy');
const nibabel = pythonWith('nibabel', 'numpy');

/** Element counts per type: the 8-byte types still fit a counting buffer at every offset tried. */
const ELEMENTS = 30_011;

const VALUES = `
import json, sys, numpy as np
out, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(5)
def bits(dtype, words):
    return np.array(words, dtype=dtype.replace('f', 'u')).view(dtype)
edges = {
    'f4': bits('<f4', [0x7f800001, 0x7fc00000, 0x7fffffff, 0xff800001, 0xffc00000, 0xffffffff, 0x7f800000,
                       0xff800000, 0x00000001, 0x80000001, 0x007fffff, 0x80000000, 0x7f7fffff, 0xff7fffff, 0x3f800000]),
    'f8': bits('<f8', [0x7ff0000000000001, 0x7ff8000000000000, 0xfff0000000000001, 0xfff8000000000000,
                       0x7ff0000000000000, 0xfff0000000000000, 0x1, 0x8000000000000001, 0x100000000,
                       0x8000000100000000, 0x8000000000000000, 0x7fefffffffffffff, 0x3ff0000000000000]),
}
cases = {}
for dtype in ['u1', 'i1', 'u2', 'i2', 'u4', 'i4', 'u8', 'i8', 'f4', 'f8']:
    t = np.dtype('<' + dtype)
    a = np.zeros(n, t)
    # Runs of 1 (a mask) and of other values, as many groups long as the kernels skip or compare.
    for _ in range(40):
        start = int(rng.integers(0, n)); length = int(rng.integers(1, 600))
        a[start:start + length] = rng.choice([1, 2, -1] if dtype[0] != 'u' else [1, 2, 3])
    if dtype[0] == 'f':
        special = edges[dtype]
    else:
        info = np.iinfo(t)
        # Extremes, and values whose low byte (or low half) is zero: a comparison of the wrong lane width miscounts them.
        wanted = [info.min, info.max, 1, info.max // 2 + 1, 256, 1 << 16, 1 << 24, 1 << 32, 1 << 48, -256, -(1 << 16), -(1 << 40)]
        special = [v for v in wanted if info.min <= v <= info.max]
        special = np.array(special, dtype=t)
    where = rng.integers(0, n, size=600)
    a[where] = rng.choice(special, size=600)
    a[:len(special)] = special
    a[-len(special):] = special
    a.tofile(f"{out}/{dtype}.bin")
    (a > 0).astype(np.uint8).tofile(f"{out}/{dtype}.mask")
    cases[dtype] = int((a > 0).sum())
print(json.dumps(cases))
`;

/** Deterministic windows: whole, shifted by odd amounts, shorter than a vector, a group, and ragged. */
function windows(elements: number): [number, number][] {
  const out: [number, number][] = [
    [0, elements],
    [1, elements - 1],
    [3, elements - 8],
    [0, 15],
    [5, 127],
    [elements - 300, 300],
    [17, 1000],
  ];
  let x = 3;
  const next = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) / (1 << 24);
  for (let i = 0; i < 40; i++) {
    const start = Math.floor(next() * elements);
    out.push([start, Math.floor(next() * (elements - start))]);
  }
  return out;
}

test(
  'SIMD counts of every NIfTI element type equal numpy > 0, in place at any offset and length',
  { skip: !numpy && 'no python3 with numpy' },
  () => {
    const dir = tempDir();
    const totals = runPython<Record<string, number>>(numpy!, VALUES, [dir, String(ELEMENTS)]);
    const buffer = countingBuffer(PIECE_SIZE);
    assert.ok(buffer, 'Node 20 has WebAssembly SIMD: the kernels must be there');
    try {
      for (const [dtype, total] of Object.entries(totals)) {
        const type = parseNumpyDescr(`<${dtype}`);
        const bytes = readFileSync(path.join(dir, `${dtype}.bin`));
        const mask = readFileSync(path.join(dir, `${dtype}.mask`));
        const count = positiveRunCounter(type);
        for (const offset of [0, 1, 5, 16, 130]) {
          buffer.fill(0xff);
          buffer.set(bytes, offset);
          for (const [start, length] of windows(ELEMENTS)) {
            const expected = mask.subarray(start, start + length).reduce((n, b) => n + b, 0);
            const what = `${dtype} at byte ${offset}, elements ${start} + ${length}`;
            assert.equal(count(buffer, offset + start * type.size, length), expected, what);
            // The same bytes outside WebAssembly memory take the memcmp spans: both ways agree.
            assert.equal(count(bytes, start * type.size, length), expected, `${what}, outside`);
          }
        }
        // Pieces of the counting buffer that split elements (the carried element is counted apart).
        buffer.set(bytes, 0);
        for (const piece of [4093, 777, 64 * 1024 + 3, 128 * type.size + 1]) {
          const counter = new PositiveCounts(type, ELEMENTS, 1);
          for (let at = 0; at < bytes.length; at += piece)
            counter.push(buffer.subarray(at, Math.min(bytes.length, at + piece)));
          assert.ok(counter.complete);
          assert.equal(counter.counts[0], total, `${dtype} in pieces of ${piece} bytes`);
        }
      }
    } finally {
      returnCountingBuffer(buffer!);
    }
  },
);

const MASKS = `
import gzip, json, struct, sys, numpy as np, nibabel as nib
out = sys.argv[1]
rng = np.random.default_rng(9)
cases = {}
def save(name, data, slope=None, inter=None):
    nib.save(nib.Nifti1Image(data, np.eye(4), dtype=data.dtype), f"{out}/{name}")
    if slope is not None:
        # nib.save recomputes scl_slope/scl_inter, so planted scalings are patched into the bytes.
        with gzip.open(f"{out}/{name}", 'rb') as f: raw = bytearray(f.read())
        struct.pack_into('<ff', raw, 112, slope, inter)
        with gzip.open(f"{out}/{name}", 'wb') as f: f.write(bytes(raw))
    cases[name] = int((nib.load(f"{out}/{name}").get_fdata() > 0).sum())
shape = (97, 83, 71)  # 571,621 voxels: many 256 KiB pieces, elements split across them for 8-byte types
for dtype in ['<u1', '<i2', '<f4', '>f4', '<f8', '<i8']:
    data = np.zeros(shape, dtype)
    data[20:45, 30:52, 10:40] = 1
    flat = data.reshape(-1)
    where = rng.integers(0, flat.size, size=3000)
    if dtype[1] == 'f':
        flat[where] = rng.choice(np.array([np.nan, -np.nan, -0.0, 5e-324 if dtype[2] == '8' else 1e-45,
                                           -1e-45, np.inf, -np.inf, -1.0, 0.5], dtype=dtype), size=3000)
    elif dtype[1] == 'i':
        flat[where] = rng.choice(np.array([-1, 2, np.iinfo(dtype).min, np.iinfo(dtype).max, 256], dtype=dtype), size=3000)
    else:
        flat[where] = rng.integers(0, 256, size=3000).astype(dtype)
    name = dtype.replace('<', 'le').replace('>', 'be') + '.nii.gz'
    save(name, data)
    if dtype == '<f4':
        save('scaled-negative.nii.gz', data, -1.0, 0.0)
        save('scaled-shift.nii.gz', data, 2.0, -1.0)
print(json.dumps(cases))
`;

test(
  'masks inflated into counting buffers count as nibabel get_fdata() > 0, one at a time and side by side',
  { skip: !nibabel && 'no python3 with nibabel (apt-get install python3-nibabel)' },
  async () => {
    const dir = tempDir();
    const cases = runPython<Record<string, number>>(nibabel!, MASKS, [dir]);
    assert.equal(Object.keys(cases).length, 8);
    const files = Object.keys(cases).map((name) => [name, readFileSync(path.join(dir, name))] as const);
    for (const [name, bytes] of files) {
      const summary = await summarizeNifti(memorySource(bytes), { countVoxels: true, name });
      assert.equal(summary.positiveVoxels, cases[name], name);
    }
    // Counts interleaved on one thread: each inflater writes into a counting buffer of its own.
    const together = await Promise.all(
      files.map(([name, bytes]) => summarizeNifti(memorySource(bytes), { countVoxels: true, name })),
    );
    assert.deepEqual(
      together.map((s) => s.positiveVoxels),
      files.map(([name]) => cases[name]),
    );
  },
);
