/**
 * NPZ reading against numpy itself: files written by np.savez / np.savez_compressed (an
 * independent writer), every numeric dtype, both byte orders, C and Fortran order, NaN and
 * negatives, empty windows; per-window positives must equal numpy's `(labels[w] > 0).sum()`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { memorySource } from '../../server/src/engine/io/source';
import { windowCategory } from '../../server/src/engine/eeg/category';
import { summarizeNpz } from '../../server/src/engine/eeg/npz';
import { cliPath, pythonWith, repoRoot, runPython, tempDir } from '../support/python';

const numpy = pythonWith('numpy');

const WRITE = `
import json, sys, numpy as np
out = sys.argv[1]
rng = np.random.default_rng(7)
cases = {}
def labels(n, s, dtype):
    a = (rng.random((n, s)) < rng.random((n, 1))).astype(np.float64)
    a[0] = 0
    a[1] = 1
    if n > 3: a[3, : int(s * 0.99)] = 1; a[3, int(s * 0.99):] = 0
    a = a * rng.choice([1, 2, 0.5], size=a.shape)
    if np.dtype(dtype).kind in 'fc':
        a[2, :5] = np.nan
        a[2, 5:9] = -1
    elif np.dtype(dtype).kind == 'i':
        a[2, 5:9] = -1
    return a.astype(dtype)
for dtype in ['<f4', '>f4', '<f8', '>f8', '<f2', '|b1', '|u1', '|i1', '<i2', '>u2', '<i4', '>i8', '<u8', '<c8', '>c16', '<f16', '<m8[s]']:
    for fortran in [False, True]:
        for compressed in [False, True]:
            name = f"{dtype.replace('<','le').replace('>','be').replace('|','na').replace('[','').replace(']','')}_{'F' if fortran else 'C'}_{'z' if compressed else 's'}.npz"
            lab = labels(7, 300, dtype)
            if fortran: lab = np.asfortranarray(lab)
            win = np.zeros((7, 2, 3), np.float32)
            (np.savez_compressed if compressed else np.savez)(f"{out}/{name}", windows=win, labels=lab)
            cases[name] = [int((lab[w] > 0).sum()) for w in range(lab.shape[0])]
np.savez_compressed(f"{out}/empty_windows.npz", windows=np.zeros((0, 19, 8), np.float32), labels=np.zeros((0, 8), np.float32))
cases["empty_windows.npz"] = []
np.savez(f"{out}/oned.npz", labels=np.array([0.0, 1.0, np.nan, -2.0], np.float32))
cases["oned.npz"] = [0, 1, 0, 0]
print(json.dumps(cases))
`;

test(
  'per-window positives equal numpy for every dtype, order and compression',
  { skip: !numpy && 'python3 with numpy not found' },
  async () => {
    const dir = tempDir();
    const cases = runPython<Record<string, number[]>>(numpy!, WRITE, [dir]);
    assert.ok(Object.keys(cases).length > 60);
    for (const [name, expected] of Object.entries(cases)) {
      const summary = await summarizeNpz(memorySource(readFileSync(path.join(dir, name))));
      assert.deepEqual(summary.positives, expected, name);
      assert.equal(summary.windowCount, expected.length, name);
    }
  },
);

test('window categories follow the reference thresholds exactly', () => {
  assert.equal(windowCategory(0, 15360), 'no_seizure');
  assert.equal(windowCategory(1, 15360), 'partial_seizure');
  assert.equal(windowCategory(15206, 15360), 'partial_seizure'); // 0.98997...
  assert.equal(windowCategory(15207, 15360), 'full_seizure'); // 0.990039...
  assert.equal(windowCategory(99, 100), 'full_seizure'); // exactly 0.99
  assert.equal(windowCategory(0, 0), 'partial_seizure'); // NaN mean, as numpy
});

const BUILD_CACHE = `
import sys, numpy as np
out = sys.argv[1]
rng = np.random.default_rng(3)
for i in range(5):
    n = 4 + i
    lab = np.zeros((n, 512), np.float32)
    for w in range(n):
        k = int(rng.integers(0, 513))
        lab[w, :k] = 1
    lab[0, :] = 0
    lab[-1, : int(512 * 0.99)] = 1
    np.savez_compressed(f"{out}/s{i:02d}_windows.npz", windows=rng.standard_normal((n, 19, 64)).astype(np.float32), labels=lab)
np.savez(f"{out}/zz_nolabels_windows.npz", windows=np.zeros((3, 19, 64), np.float32))
open(f"{out}/broken_windows.npz", "wb").write(b"not a zip: numpy raises ValueError, which the builder catches")
print("{}")
`;

test(
  'manifest build is byte-identical to the Python reference builder',
  { skip: !numpy && 'python3 with numpy not found' },
  async () => {
    const { execFileSync } = await import('node:child_process');
    const dir = tempDir();
    runPython(numpy!, BUILD_CACHE, [dir]);
    const cli = cliPath();
    const store = tempDir();
    execFileSync(process.execPath, [cli, 'manifest', 'build', dir, '--cache-dir', store, '--jobs', '2'], {
      stdio: 'pipe',
    });
    const ours = readFileSync(path.join(dir, 'manifest.json'), 'utf8');
    const reference = execFileSync(numpy!, [path.join(repoRoot(), 'test', 'reference', 'build_manifest.py'), dir], {
      encoding: 'utf8',
    });
    assert.equal(ours, reference);
  },
);
