/**
 * The deep check (`neurocache check --deep`) on ≥ 1 GB of realistic caches — float32 z-scored
 * windows clipped to ±10, written by np.savez_compressed (they barely compress) — against:
 * - a numpy loop: per file `np.load(f)["windows"]` once, then per window
 *   `np.isfinite(w).all()` and `np.abs(w).max() > 10` (fairer to numpy than training's
 *   `__getitem__`, which inflates the member again for every window);
 * - the inflate bound: node:zlib inflating the same members, spread over the same number of
 *   threads, checking nothing.
 * Also the header-only check of the same cache (what the deep check pays before inflating)
 * and a deep re-check from warm fingerprints (inflates nothing). Data under bench/.data, reused.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Row } from './network';

const GENERATE = `
import numpy as np, sys
out, files, windows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(19)
for f in range(files):
    w = np.clip(rng.standard_normal((windows, 19, 15360), dtype=np.float32), -10, 10)
    if f == 1:
        w[3, 0, 0] = np.nan
        w[5, 2, 2] = 37.5
    labels = np.zeros((windows, 15360), np.float32)
    labels[: windows // 4, : 5000] = 1
    np.savez_compressed(f"{out}/r{f:03d}_windows.npz", windows=w, labels=labels)
`;

/** The numpy loop the deep check replaces: windows loaded once per file, each window tested. */
const NUMPY_LOOP = `
import numpy as np, sys, pathlib
bad = 0
for p in sorted(pathlib.Path(sys.argv[1]).glob("*.npz")):
    with np.load(p) as z:
        windows = z["windows"]
    for w in windows:
        if not np.isfinite(w).all() or np.abs(w).max() > 10:
            bad += 1
print(bad)
`;

/**
 * Each thread inflates its share of the `windows` members and checks nothing: streamed in 4 MiB
 * reads through node:zlib, output counted and dropped (a one-call inflateRawSync would also pay
 * for concatenating a 70 MB result, which no reader needs).
 */
const INFLATE_WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const zlib = require('node:zlib');
async function inflate({ file, offset, length }) {
  const fd = fs.openSync(file, 'r');
  const inflater = zlib.createInflateRaw({ chunkSize: 1 << 20 });
  let bytes = 0;
  inflater.on('data', (chunk) => (bytes += chunk.length));
  const done = new Promise((resolve, reject) => (inflater.on('end', resolve), inflater.on('error', reject)));
  for (let at = 0; at < length; at += 4 << 20) {
    const chunk = Buffer.allocUnsafe(Math.min(4 << 20, length - at));
    fs.readSync(fd, chunk, 0, chunk.length, offset + at);
    if (!inflater.write(chunk)) await new Promise((resolve) => inflater.once('drain', resolve));
  }
  inflater.end();
  await done;
  fs.closeSync(fd);
  return bytes;
}
(async () => {
  let bytes = 0;
  for (const member of workerData) bytes += await inflate(member);
  parentPort.postMessage(bytes);
})();
`;

interface Member {
  file: string;
  offset: number;
  length: number;
}

/** `windows.npy`'s data span in each file, from Python's zipfile (an independent reader). */
function windowsMembers(python: string, dir: string): Member[] {
  const out = execFileSync(
    python,
    [
      '-c',
      `
import json, sys, zipfile, pathlib, struct
spans = []
for p in sorted(pathlib.Path(sys.argv[1]).glob("*.npz")):
    with zipfile.ZipFile(p) as z:
        info = z.getinfo("windows.npy")
    with open(p, "rb") as f:
        f.seek(info.header_offset)
        head = f.read(30)
        name, extra = struct.unpack("<HH", head[26:30])
    spans.append({"file": str(p), "offset": info.header_offset + 30 + name + extra, "length": info.compress_size})
print(json.dumps(spans))`,
      dir,
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(out);
}

async function inflateBound(members: Member[], threads: number): Promise<number> {
  // Largest first, each to the least loaded thread: as even a split as the files allow.
  const shares: Member[][] = Array.from({ length: threads }, () => []);
  const load = new Array(threads).fill(0);
  for (const m of [...members].sort((a, b) => b.length - a.length)) {
    const k = load.indexOf(Math.min(...load));
    shares[k].push(m);
    load[k] += m.length;
  }
  const started = performance.now();
  await Promise.all(
    shares
      .filter((s) => s.length)
      .map(
        (share) =>
          new Promise<number>((resolve, reject) => {
            const worker = new Worker(INFLATE_WORKER, { eval: true, workerData: share });
            worker.once('message', resolve);
            worker.once('error', reject);
          }),
      ),
  );
  return performance.now() - started;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export async function benchDeepCheck(options: {
  data: string;
  quick: boolean;
  cli: string;
  numpy?: string;
}): Promise<Row[]> {
  const { quick, cli, numpy } = options;
  const task = 'deep check of windows (float32, savez_compressed)';
  if (!numpy)
    return [{ task, subject: 'skipped', median: NaN, unit: '', note: 'no python3 with numpy to write the caches' }];
  const files = quick ? 3 : 16;
  const windows = quick ? 8 : 60;
  const dir = path.join(options.data, `deep-${files}x${windows}`);
  if (!existsSync(path.join(dir, '.complete'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    execFileSync(numpy, ['-c', GENERATE, dir, String(files), String(windows)]);
    writeFileSync(path.join(dir, '.complete'), '');
  }
  const npz = readdirSync(dir).filter((n) => n.endsWith('.npz'));
  const onDisk = npz.reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);
  const store = path.join(options.data, 'fingerprints-deep');
  const threads = availableParallelism();
  const run = (args: string[]) => {
    const result = spawnSync(process.execPath, [cli, ...args, '--cache-dir', store, '--jobs', String(threads)], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    if (result.status !== 0 && result.status !== 1)
      throw new Error(`neurocache ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout;
  };
  rmSync(store, { recursive: true, force: true });
  run(['manifest', 'build', dir]);
  const manifest = path.join(dir, 'manifest.json');
  const repeats = quick ? 2 : 3;
  const timed = (f: () => void) => {
    const samples: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const started = performance.now();
      f();
      samples.push(performance.now() - started);
    }
    return median(samples);
  };
  let inflated = 0;
  const deep = timed(() => {
    rmSync(store, { recursive: true, force: true });
    inflated = JSON.parse(run(['check', manifest, '--deep', '--json'])).io.bytesInflated;
  });
  const headers = timed(() => {
    rmSync(store, { recursive: true, force: true });
    run(['check', manifest, '--json']);
  });
  // Warm fingerprints: the deep results are remembered.
  rmSync(store, { recursive: true, force: true });
  run(['check', manifest, '--deep', '--json']);
  let warmInflated = -1;
  const warm = timed(() => {
    warmInflated = JSON.parse(run(['check', manifest, '--deep', '--json'])).io.bytesInflated;
  });
  const members = windowsMembers(numpy, dir);
  const boundSamples: number[] = [];
  for (let i = 0; i < repeats; i++) boundSamples.push(await inflateBound(members, threads));
  const bound = median(boundSamples);
  const loop = timed(() => execFileSync(numpy, ['-c', NUMPY_LOOP, dir], { stdio: ['ignore', 'ignore', 'inherit'] }));
  rmSync(store, { recursive: true, force: true });
  const gb = (n: number) => `${(n / 1e9).toFixed(2)} GB`;
  const rest = deep - bound;
  return [
    {
      task: `${task}: ${npz.length} files, ${gb(onDisk)} on disk, ${gb(inflated)} inflated`,
      subject: `neurocache check --deep (cold, --jobs ${threads})`,
      median: deep,
      unit: 'ms',
      ratio: `${(inflated / 1e6 / (deep / 1000)).toFixed(0)} MB/s inflated and checked`,
    },
    {
      task: '',
      subject: `inflate bound (node:zlib, same members, ${threads} threads, no checks)`,
      median: bound,
      unit: 'ms',
      ratio: `deep check is ${(deep / bound).toFixed(2)}× the bound (target ≤ 1.3×)`,
    },
    {
      task: '',
      subject: 'numpy loop (np.load windows; isfinite + abs max per window)',
      median: loop,
      unit: 'ms',
      ratio: `deep check is ${(loop / deep).toFixed(2)}× faster (target ≥ 3×)`,
    },
    {
      task: '',
      subject: 'neurocache check, headers and labels only (cold)',
      median: headers,
      unit: 'ms',
      ratio:
        rest > 0
          ? `of the ${rest.toFixed(0)} ms beyond the bound, ${Math.min(headers, rest).toFixed(0)} ms are process start-up, headers and labels (before any windows are inflated); the rest is the scan and the chunk hand-over`
          : 'the deep check is within the bound: start-up, headers and labels overlap the inflating of other files',
    },
    {
      task: '',
      subject: 'neurocache check --deep, unchanged (warm fingerprints)',
      median: warm,
      unit: 'ms',
      ratio: `${warmInflated} bytes inflated`,
    },
  ];
}
