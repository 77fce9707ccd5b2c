/**
 * The deep check (`neurocache check --deep`) on ≥ 1 GB of realistic caches — float32 z-scored
 * windows clipped to ±10, written by np.savez_compressed (they barely compress) — against:
 * - a numpy loop: per file `np.load(f)["windows"]` once, then per window
 *   `np.isfinite(w).all()` and `np.abs(w).max() > 10` (fairer to numpy than training's
 *   `__getitem__`, which inflates the member again for every window);
 * - the inflate bound: a node process whose threads inflate the same members with node:zlib,
 *   streamed from the file in the deep check's read and output chunk sizes, largest member
 *   first to whichever thread is free, checking nothing.
 * All three are whole processes timed the same way (start-up counted for each), run in turn in
 * every round, so the ratios compare runs made under the same load; each ratio is the median of
 * the rounds' own ratios. CPU time (the children's user + system, from /proc) is shown beside
 * the wall time: on a loaded machine it is the steadier figure.
 * Then where the deep check's time goes (the pool's own account, in this process, per part
 * summed over files), the header-only check (what the deep check pays before inflating) and a
 * deep re-check from warm fingerprints (inflates nothing). Data under bench/.data, reused.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import * as path from 'node:path';
import { INFLATE_OUTPUT_CHUNK } from '../server/src/workers/deepWindows';
import { DEEP_READ_CHUNK, WorkerPool } from '../server/src/workers/pool';
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
 * The bound as a process: `threads` threads, each taking the largest member left when it is
 * free, reading it in `readChunk` pieces and inflating it through node:zlib in `outputChunk`
 * pieces that are counted and dropped. Prints the inflated bytes.
 */
const BOUND_PROCESS = `
const { Worker } = require('node:worker_threads');
const [members, threads, readChunk, outputChunk] = [JSON.parse(process.argv[1]), +process.argv[2], +process.argv[3], +process.argv[4]];
const THREAD = \`
const { parentPort, workerData: { readChunk, outputChunk } } = require('node:worker_threads');
const fs = require('node:fs');
const zlib = require('node:zlib');
parentPort.on('message', async ({ file, offset, length }) => {
  const fd = fs.openSync(file, 'r');
  const inflater = zlib.createInflateRaw({ chunkSize: outputChunk });
  let bytes = 0;
  inflater.on('data', (chunk) => (bytes += chunk.length));
  const done = new Promise((resolve, reject) => (inflater.on('end', resolve), inflater.on('error', reject)));
  for (let at = 0; at < length; at += readChunk) {
    const chunk = Buffer.allocUnsafeSlow(Math.min(readChunk, length - at));
    fs.readSync(fd, chunk, 0, chunk.length, offset + at);
    if (!inflater.write(chunk)) await new Promise((resolve) => inflater.once('drain', resolve));
  }
  inflater.end();
  await done;
  fs.closeSync(fd);
  parentPort.postMessage(bytes);
});
\`;
const queue = [...members].sort((a, b) => b.length - a.length);
let total = 0;
const runThread = () => new Promise((resolve, reject) => {
  const worker = new Worker(THREAD, { eval: true, workerData: { readChunk, outputChunk } });
  worker.on('error', reject);
  const next = () => {
    const member = queue.shift();
    if (member) worker.postMessage(member);
    else worker.terminate().then(resolve);
  };
  worker.on('message', (bytes) => ((total += bytes), next()));
  next();
});
Promise.all(Array.from({ length: Math.min(threads, members.length) }, runThread)).then(() => console.log(total));
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

/** CPU seconds of this process's finished children (user + system), from /proc; undefined off Linux. */
function childrenCpuMs(): number | undefined {
  try {
    // Fields after the parenthesised command name; cutime and cstime are the 14th and 15th of them.
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
  } catch {
    return 100;
  }
})();

/** Wall and CPU milliseconds of a child process run to its end (`run` waits for it). */
function measured(run: () => void): { wall: number; cpu: number } {
  const cpuBefore = childrenCpuMs();
  const started = performance.now();
  run();
  const wall = performance.now() - started;
  const cpuAfter = childrenCpuMs();
  return { wall, cpu: cpuBefore === undefined || cpuAfter === undefined ? NaN : cpuAfter - cpuBefore };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const loadNow = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

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
  const npz = readdirSync(dir)
    .filter((n) => n.endsWith('.npz'))
    .map((n) => path.join(dir, n));
  const onDisk = npz.reduce((n, f) => n + statSync(f).size, 0);
  const store = path.join(options.data, 'fingerprints-deep');
  const threads = availableParallelism();
  const cliRun = (args: string[]) => {
    const result = spawnSync(process.execPath, [cli, ...args, '--cache-dir', store, '--jobs', String(threads)], {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    if (result.status !== 0 && result.status !== 1)
      throw new Error(`neurocache ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout;
  };
  rmSync(store, { recursive: true, force: true });
  cliRun(['manifest', 'build', dir]);
  const manifest = path.join(dir, 'manifest.json');
  const members = windowsMembers(numpy, dir);
  const rounds = quick ? 2 : 3;
  const loadBefore = loadNow();

  // The three contenders in turn, round after round.
  let inflated = 0;
  let boundInflated = 0;
  const deep: { wall: number; cpu: number }[] = [];
  const bound: typeof deep = [];
  const loop: typeof deep = [];
  for (let round = 0; round < rounds; round++) {
    rmSync(store, { recursive: true, force: true });
    deep.push(
      measured(() => (inflated = JSON.parse(cliRun(['check', manifest, '--deep', '--json'])).io.bytesInflated)),
    );
    bound.push(
      measured(() => {
        const args = [JSON.stringify(members), threads, DEEP_READ_CHUNK, INFLATE_OUTPUT_CHUNK].map(String);
        boundInflated = Number(execFileSync(process.execPath, ['-e', BOUND_PROCESS, ...args], { encoding: 'utf8' }));
      }),
    );
    loop.push(measured(() => execFileSync(numpy, ['-c', NUMPY_LOOP, dir], { stdio: ['ignore', 'ignore', 'inherit'] })));
  }
  if (boundInflated !== inflated)
    throw new Error(`the bound inflated ${boundInflated} bytes, the deep check ${inflated}`);
  const paired = (a: typeof deep, b: typeof deep, key: 'wall' | 'cpu') => median(a.map((x, i) => x[key] / b[i][key]));
  const ms = (samples: typeof deep) =>
    `${median(samples.map((s) => s.wall)).toFixed(0)} ms wall, ${median(samples.map((s) => s.cpu)).toFixed(0)} ms CPU`;

  // Where the time goes: the pool's own account of the same deep check, run in this process.
  const pool = new WorkerPool(threads);
  const started = performance.now();
  try {
    const results = await Promise.all(npz.map((f) => pool.deepWindows(f, undefined, { size: statSync(f).size })));
    if (results.some((r) => !r.ok)) throw new Error('the deep check failed on a bench file');
  } finally {
    await pool.close();
  }
  const poolWall = performance.now() - started;
  const t = pool.deepTime;
  const threadMs = poolWall * threads;
  const share = (x: number) => `${x.toFixed(0)} ms (${((100 * x) / threadMs).toFixed(0)}%)`;
  const account =
    `in-process pool, ${poolWall.toFixed(0)} ms wall × ${threads} threads = ${threadMs.toFixed(0)} thread-ms: ` +
    `inflating ${share(t.inflateMs)}, beside it on the workers' own threads the value scan ${share(t.checkMs)} and CRC-32 ${share(t.crcMs)}, ` +
    `waiting for reads ${share(t.starvedMs)}; main thread's reads ${t.readMs.toFixed(0)} ms (overlapped), ` +
    `files waiting for a thread ${t.queuedMs.toFixed(0)} ms (summed); largest inflated chunk a worker held ${(pool.deepLargestOutput / 2 ** 20).toFixed(0)} MiB`;

  const headers = median(
    Array.from({ length: rounds }, () => {
      rmSync(store, { recursive: true, force: true });
      return measured(() => cliRun(['check', manifest, '--json'])).wall;
    }),
  );
  const startup = median(Array.from({ length: rounds }, () => measured(() => cliRun(['--version'])).wall));
  // Warm fingerprints: the deep results are remembered.
  rmSync(store, { recursive: true, force: true });
  cliRun(['check', manifest, '--deep', '--json']);
  let warmInflated = -1;
  const warm = median(
    Array.from(
      { length: rounds },
      () =>
        measured(() => (warmInflated = JSON.parse(cliRun(['check', manifest, '--deep', '--json'])).io.bytesInflated))
          .wall,
    ),
  );
  rmSync(store, { recursive: true, force: true });
  const gb = (n: number) => `${(n / 1e9).toFixed(2)} GB`;
  const conditions =
    `${rounds} rounds of deep, bound, numpy in turn; ${threads} threads (${availableParallelism()} cores); ` +
    `every contender a whole process (start-up counted); reads of ${DEEP_READ_CHUNK >> 20} MiB, zlib output chunks of ${INFLATE_OUTPUT_CHUNK >> 20} MiB; ` +
    `page cache warm; load average ${loadBefore} before, ${loadNow()} after`;
  return [
    {
      task: `${task}: ${npz.length} files, ${gb(onDisk)} on disk, ${gb(inflated)} inflated`,
      subject: `neurocache check --deep (cold, --jobs ${threads})`,
      median: median(deep.map((s) => s.wall)),
      unit: 'ms',
      ratio: `${ms(deep)}; ${(inflated / 1e6 / (median(deep.map((s) => s.wall)) / 1000)).toFixed(0)} MB/s inflated and checked`,
    },
    {
      task: '',
      subject: `inflate bound (node:zlib process, same members, ${threads} threads, no checks)`,
      median: median(bound.map((s) => s.wall)),
      unit: 'ms',
      ratio: `${ms(bound)}; deep check is ${paired(deep, bound, 'wall').toFixed(2)}× the bound (target ≤ 1.3×; CPU ${paired(deep, bound, 'cpu').toFixed(2)}×)`,
    },
    {
      task: '',
      subject: 'numpy loop (np.load windows; isfinite + abs max per window)',
      median: median(loop.map((s) => s.wall)),
      unit: 'ms',
      ratio:
        `${ms(loop)}; deep check is ${paired(loop, deep, 'wall').toFixed(2)}× faster (target ≥ 3×); ` +
        `the bound itself is ${paired(loop, bound, 'wall').toFixed(2)}× faster (numpy's CPU ${paired(loop, bound, 'cpu').toFixed(2)}× the bound's: ` +
        `on ${threads} threads nothing that inflates with node:zlib gets past ${(threads * paired(loop, bound, 'cpu')).toFixed(1)}×)`,
    },
    { task: '', subject: 'where the deep check’s time goes', median: NaN, unit: '', note: account },
    {
      task: '',
      subject: 'neurocache check, headers and labels only (cold)',
      median: headers,
      unit: 'ms',
      ratio: `what the deep check pays before and beside inflating; of it ${startup.toFixed(0)} ms are process start-up (--version)`,
    },
    {
      task: '',
      subject: 'neurocache check --deep, unchanged (warm fingerprints)',
      median: warm,
      unit: 'ms',
      ratio: `${warmInflated} bytes inflated`,
    },
    { task: '', subject: 'conditions', median: NaN, unit: '', note: conditions },
  ];
}
