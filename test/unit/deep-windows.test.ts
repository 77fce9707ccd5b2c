/**
 * The deep check against numpy (SPEC §1.2c): files written by np.savez_compressed / np.savez
 * with NaN, ±Inf and unclipped values planted, in every dtype numpy stores windows as (float32,
 * float64, float16, integers, big-endian, Fortran order), 0-window files and a member larger
 * than the byte budget. The bad windows must equal what numpy finds in
 * `windows[w].astype(np.float32)` (what __getitem__ feeds the model). Plus counting tests: the
 * byte budget holds whatever the member size, and a re-check of an unchanged file inflates nothing.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { WindowValueScan, WindowValues } from '../../server/src/engine/eeg/windowValues';
import { FingerprintStore } from '../../server/src/service/fingerprints';
import { CacheInspector } from '../../server/src/service/inspector';
import { INFLATE_OUTPUT_CHUNK } from '../../server/src/workers/deepWindows';
import { openFileSource } from '../../server/src/workers/fileSource';
import { DEEP_READ_AHEAD, WorkerPool } from '../../server/src/workers/pool';
import { pythonWith, runPython, tempDir } from '../support/python';

const numpy = pythonWith('numpy');

const WRITE = `
import json, sys, warnings, numpy as np
warnings.simplefilter('ignore')
out = sys.argv[1]
rng = np.random.default_rng(3)
cases = {}
def expect(w):
    result = {"windows": int(w.shape[0]), "nonFinite": [], "unclipped": []}
    for i in range(w.shape[0]):
        x = w[i].astype(np.float32)
        nan, pos, neg = int(np.isnan(x).sum()), int(np.isposinf(x).sum()), int(np.isneginf(x).sum())
        if nan + pos + neg: result["nonFinite"].append({"window": i, "values": nan + pos + neg, "nan": nan, "posInf": pos, "negInf": neg})
        big = np.isfinite(x) & (np.abs(x) > 10)
        if big.any(): result["unclipped"].append({"window": i, "values": int(big.sum()), "maxAbs": float(np.abs(x[big]).max())})
    return result
def planted(n, c, s, dtype):
    w = np.clip(rng.standard_normal((n, c, s)), -9.5, 9.5)
    if np.dtype(dtype).kind == 'f':
        w[min(3, n - 1), 1, 5] = np.nan
        w[0, 0, 0] = np.inf
        w[n - 1, c - 1, s - 1] = -np.inf
        w[min(2, n - 1), 0, 10:15] = 37.5
        w[min(1, n - 1), 0, 3] = 10.0
        w[min(1, n - 1), 0, 4] = -10.0
    else:
        w[min(2, n - 1), 0, 10:15] = 37
        w[0, 0, 2] = -11
    return w.astype(dtype)
def save(name, w, compressed=True):
    (np.savez_compressed if compressed else np.savez)(f"{out}/{name}", windows=w, labels=np.zeros((w.shape[0], w.shape[-1] if w.ndim > 1 else 1), np.float32))
    cases[name] = expect(w)
for dtype in ['<f4', '>f4', '<f8', '>f8', '<f2', '>f2', '<i2', '>i4', '|i1', '<u2', '<i8']:
    for fortran in [False, True]:
        w = planted(6, 3, 50, dtype)
        if fortran: w = np.asfortranarray(w)
        tag = dtype.replace('<', 'le').replace('>', 'be').replace('|', 'na')
        save(f"{tag}_{'F' if fortran else 'C'}.npz", w)
save("stored_f4.npz", planted(5, 4, 40, '<f4'), compressed=False)
# float64 values float32 cannot hold, and one just above 10 that rounds to 10 in float32.
w = planted(4, 2, 30, '<f8'); w[1, 1, 1] = 1e39; w[2, 1, 2] = -1e300; w[3, 1, 3] = 10.0000000001
save("f8_casts.npz", w)
save("zero_windows.npz", np.zeros((0, 19, 64), np.float32))
save("zero_windows_F.npz", np.asfortranarray(np.zeros((0, 19, 64), np.float32)))
# Larger than the test's byte budget (256 KiB compressed; random floats barely compress) and
# than a worker's inflated chunk (6.2 MB inflated).
big = planted(40, 19, 2048, '<f4'); big[7, 18, 2047] = np.nan; big[39, 5, 100] = 12.5
save("big.npz", big)
save("big_F.npz", np.asfortranarray(big))
np.save(f"{out}/raw_F_f2.npy", np.asfortranarray(planted(5, 3, 7, '>f2')))
cases["raw_F_f2.npy"] = expect(np.load(f"{out}/raw_F_f2.npy"))
print(json.dumps(cases))
`;

const BUDGET = 256 << 10;

function comparable(values: WindowValues) {
  return { windows: values.windows, nonFinite: values.nonFinite, unclipped: values.unclipped };
}

test(
  "the bad windows of every dtype, byte order and memory order equal numpy's, and the byte budget holds",
  { skip: !numpy && 'python3 with numpy not found' },
  async (t) => {
    const dir = tempDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const cases = runPython<Record<string, ReturnType<typeof comparable>>>(numpy!, WRITE, [dir]);
    // One thread and every file at once: tasks queued for the thread must not hold the budget the running one needs.
    const pool = new WorkerPool(1, { bytesInFlight: BUDGET, readsInFlight: 64 });
    try {
      const names = Object.keys(cases).filter((name) => name.endsWith('.npz'));
      const results = await Promise.all(names.map((name) => pool.deepWindows(path.join(dir, name))));
      names.forEach((name, i) => {
        const result = results[i];
        assert.ok(result.ok, `${name}: ${!result.ok && result.error}`);
        assert.deepEqual(comparable(result.value), cases[name], name);
      });
      assert.ok(
        cases['big.npz'].nonFinite.some((w) => w.window === 7) && cases['lef4_F.npz'].unclipped.length > 0,
        'the planted values are there',
      );
      assert.ok(pool.bytes.peak <= BUDGET, `budget peak ${pool.bytes.peak}`);
      assert.ok(
        pool.deepPeakHeld <= BUDGET && pool.deepPeakHeld > 0,
        `a worker held ${pool.deepPeakHeld} bytes at most`,
      );
      assert.ok(pool.deepPeakHeld <= DEEP_READ_AHEAD * (BUDGET / DEEP_READ_AHEAD));
      // Inflated bytes: a worker holds zlib's chunks one at a time, never the 6.2 MB member.
      const bigMember = 40 * 19 * 2048 * 4;
      assert.ok(
        pool.deepLargestOutput > 0 &&
          pool.deepLargestOutput <= INFLATE_OUTPUT_CHUNK &&
          INFLATE_OUTPUT_CHUNK < bigMember,
        `largest inflated chunk ${pool.deepLargestOutput}`,
      );
    } finally {
      await pool.close();
    }
    // Chunks of every size, elements straddling them: the scan alone on a Fortran-order float16 array.
    const raw = readFileSync(path.join(dir, 'raw_F_f2.npy'));
    for (const size of [1, 3, 7, 4096]) {
      const scan = new WindowValueScan();
      for (let at = 0; at < raw.length; at += size) scan.push(raw.subarray(at, at + size));
      assert.deepEqual(comparable(scan.finish()), cases['raw_F_f2.npy'], `chunks of ${size}`);
    }
  },
);

test(
  'a deep re-check of an unchanged file inflates nothing; a changed file is inflated again',
  { skip: !numpy && 'python3 with numpy not found' },
  async (t) => {
    const dir = tempDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    runPython(
      numpy!,
      `
import sys, json, numpy as np
w = np.zeros((3, 19, 256), np.float32); w[1, 2, 3] = np.nan
np.savez_compressed(sys.argv[1] + "/x_windows.npz", windows=w, labels=np.zeros((3, 256), np.float32))
print("null")`,
      [dir],
    );
    const file = path.join(dir, 'x_windows.npz');
    const pool = new WorkerPool(1);
    const inspector = new CacheInspector(pool, new FingerprintStore());
    try {
      const first = await inspector.deepWindows(file);
      assert.ok(first?.ok && first.value.nonFinite[0].window === 1);
      const after = { scans: pool.deepScans, inflated: pool.bytesInflated, read: pool.bytesRead };
      assert.equal(after.scans, 1);
      assert.equal(after.inflated, 3 * 19 * 256 * 4 + 128);
      const second = await inspector.deepWindows(file);
      assert.deepEqual(second, first);
      assert.deepEqual(
        { scans: pool.deepScans, inflated: pool.bytesInflated, read: pool.bytesRead },
        after,
        'answered from the fingerprint store',
      );
      const { utimesSync } = await import('node:fs');
      utimesSync(file, new Date(), new Date(Date.now() + 5000));
      await inspector.deepWindows(file);
      assert.equal(pool.deepScans, 2, 'a new mtime is inflated again');
    } finally {
      await pool.close();
    }
  },
);

test(
  'a corrupt or truncated windows member is reported, not thrown',
  { skip: !numpy && 'python3 with numpy not found' },
  async (t) => {
    const dir = tempDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    runPython(
      numpy!,
      `
import sys, numpy as np
d = sys.argv[1]
w = np.random.default_rng(1).standard_normal((4, 19, 512)).astype(np.float32)
np.savez_compressed(d + "/x.npz", windows=w, labels=np.zeros((4, 512), np.float32))
b = bytearray(open(d + "/x.npz", "rb").read())
b[2000:2100] = bytes(100)
open(d + "/corrupt.npz", "wb").write(b)
print("null")`,
      [dir],
    );
    const pool = new WorkerPool(1);
    try {
      const result = await pool.deepWindows(path.join(dir, 'corrupt.npz'));
      assert.equal(result.ok, false);
      assert.match(!result.ok ? result.error : '', /CRC-32|corrupt/);
    } finally {
      await pool.close();
    }
  },
);

test(
  'deep checks wait for a thread largest file first, and one given up while waiting leaves the line',
  { skip: !numpy && 'python3 with numpy not found' },
  async (t) => {
    const dir = tempDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    runPython(
      numpy!,
      `
import sys, numpy as np
for name, n in [("first", 2), ("small", 1), ("large", 8), ("medium", 4), ("dropped", 6)]:
    np.savez_compressed(f"{sys.argv[1]}/{name}.npz", windows=np.random.default_rng(n).standard_normal((n, 19, 256), np.float32), labels=np.zeros((n, 256), np.float32))
print("null")`,
      [dir],
    );
    const opened: string[] = [];
    const pool = new WorkerPool(1, {
      open: (file, size) => (opened.push(path.basename(file, '.npz')), openFileSource(file, size)),
    });
    try {
      const check = (name: string, signal?: AbortSignal) => {
        const file = path.join(dir, `${name}.npz`);
        return pool.deepWindows(file, signal, { size: statSync(file).size });
      };
      const giveUp = new AbortController();
      const running = [
        check('first'),
        check('small'),
        check('large'),
        check('dropped', giveUp.signal),
        check('medium'),
      ];
      giveUp.abort(new Error('given up'));
      const [first, small, large, dropped, medium] = await Promise.allSettled(running);
      assert.equal(dropped.status, 'rejected');
      for (const r of [first, small, large, medium]) assert.ok(r.status === 'fulfilled' && r.value.ok);
      assert.deepEqual(opened, ['first', 'large', 'medium', 'small'], 'the first at once, then largest first');
      assert.equal(pool.deepScans, 4);
      assert.equal(pool.tasksInFlight, 0);
      // The line still works after the one that left it.
      assert.ok((await check('dropped')).ok);
    } finally {
      await pool.close();
    }
  },
);
