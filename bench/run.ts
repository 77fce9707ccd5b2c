/**
 * `npm run bench`: NeuroCache against the Python reference and against the hardware bound,
 * measured side by side in one run on generated data (bench/.data/, never committed).
 * Prints medians and ratios. `npm run bench -- --quick` uses smaller data for a smoke run;
 * `--only=startup,build,lesion,recheck,preprocessing,lsp,download,network,deep` picks suites.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { parquetMetadata } from 'hyparquet';
import { COLUMNS } from '../server/src/download/shard';
import { startFakeHub } from '../test/hub/fakeHub';
import { expected } from '../test/hub/run';
import { realShardOptions, writeArcShards } from '../test/hub/shards';
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { HoverRequest } from 'vscode-languageserver-protocol/node';
import { summarizeNifti } from '../server/src/engine/arc/nifti';
import { inflateRawPieces } from '../server/src/engine/io/inflate';
import { memberDataOffset, readZipDirectory } from '../server/src/engine/io/zip';
import { memorySource } from '../server/src/engine/io/source';
import { LspSession } from '../test/support/lsp';
import { EDIT_DEBOUNCE_MS } from '../server/src/handlers/diagnostics';
import { pythonWith } from '../test/support/python';
import { mulberry32 } from '../test/support/arcSamples';
import { encodeNifti, encodeVoxels } from '../test/writers/nifti';
import { writeNpz } from '../test/writers/npz';
import { npyHeader } from '../test/writers/npy';
import { benchNetwork } from './network';
import { benchDeepCheck } from './deep';
import { peakRssOf } from './peakRss';

const quick = process.argv.includes('--quick');
const root = path.resolve(__dirname, '..');
const data = path.join(root, 'bench', '.data', quick ? 'quick' : 'full');
const cli = path.join(__dirname, 'cli.js');
const repeats = quick ? 3 : 5;
const rows: { task: string; subject: string; median: number; unit: string; ratio?: string; note?: string }[] = [];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function time(run: () => void, times = repeats): number {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    run();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

/**
 * Runs `a` and `b` in turn (A B A B …): their medians, and the median of the pairwise ratios
 * a / (b + extra), so a change in the machine's load during the run hits both sides alike.
 */
function interleaved(
  a: () => void,
  b: () => void,
  extra = 0,
  times = repeats,
): { a: number; b: number; ratio: number } {
  const as: number[] = [];
  const bs: number[] = [];
  for (let i = 0; i < times; i++) {
    as.push(time(a, 1));
    bs.push(time(b, 1));
  }
  return { a: median(as), b: median(bs), ratio: median(as.map((x, i) => x / (bs[i] + extra))) };
}

function node(args: string[], env: NodeJS.ProcessEnv = {}): string {
  const result = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 1 << 28,
  });
  if (result.status !== 0 && result.status !== 1)
    throw new Error(`neurocache ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

// ---- 1. manifest build ---------------------------------------------------------------------

const numpy = pythonWith('numpy');

/** EEG caches written by numpy's own savez_compressed (windows nearly constant so writing is quick; readers never inflate them). */
function eegCache(files: number, windows: number): string {
  const dir = path.join(data, `eeg-${files}x${windows}`);
  if (existsSync(path.join(dir, '.complete'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  if (numpy) {
    execFileSync(numpy, [
      '-c',
      `
import numpy as np, sys
out, files, windows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
for f in range(files):
    labels = np.zeros((windows, 15360), np.float32)
    for w in range(windows):
        start = int(rng.integers(0, 15360)); length = int(rng.integers(0, 15360))
        labels[w, start:start + length] = 1
    win = np.zeros((windows, 19, 15360), np.float32)
    win[:, :, ::97] = rng.standard_normal((windows, 19, (15360 + 96) // 97)).astype(np.float32)
    np.savez_compressed(f"{out}/s{f:04d}_windows.npz", windows=win, labels=labels)
`,
      dir,
      String(files),
      String(windows),
    ]);
  } else {
    for (let f = 0; f < files; f++) {
      const labels = new Float32Array(windows * 15360);
      for (let w = 0; w < windows; w++) labels.fill(1, w * 15360, w * 15360 + ((w * 7919 + f * 31) % 15360));
      const windowsNpy = Buffer.concat([
        npyHeader('<f4', [windows, 19, 15360]),
        Buffer.alloc(windows * 19 * 15360 * 4),
      ]);
      const labelsNpy = Buffer.concat([npyHeader('<f4', [windows, 15360]), Buffer.from(labels.buffer)]);
      writeFileSync(
        path.join(dir, `s${String(f).padStart(4, '0')}_windows.npz`),
        writeNpz(
          [
            { name: 'windows.npy', bytes: windowsNpy },
            { name: 'labels.npy', bytes: labelsNpy },
          ],
          { compress: true },
        ),
      );
    }
  }
  writeFileSync(path.join(dir, '.complete'), '');
  return dir;
}

/** CPU milliseconds `run` costs this process (all its threads), median of `times` after one untimed warm-up run (compiled code on both sides). */
async function cpuAsync(run: () => Promise<unknown>, times = repeats, warmUps = 1): Promise<number> {
  return median((await cpuInterleaved([run], times, warmUps))[0]);
}

/**
 * CPU times of several runs measured in turn (a, b, c, a, b, c, ...), each run's samples in
 * round order: a drift of the machine over the measurement (another process, a clock change)
 * then weighs on each alike, where measured one block after another it moved a ratio of
 * millisecond-scale runs by 1.3-2x between bench runs.
 */
async function cpuInterleaved(runs: (() => Promise<unknown>)[], rounds: number, warmUps = 1): Promise<number[][]> {
  for (const run of runs) for (let i = 0; i < warmUps; i++) await run();
  const samples = runs.map((): number[] => []);
  for (let round = 0; round < rounds; round++)
    for (const [k, run] of runs.entries()) {
      const started = process.cpuUsage();
      await run();
      const used = process.cpuUsage(started);
      samples[k].push((used.user + used.system) / 1000);
    }
  return samples;
}

/** Inflates a raw-deflate or gzip buffer as a stream of 1 MiB chunks that are dropped at once: no whole-output allocation. */
function streamedInflate(compressed: Uint8Array, format: 'raw' | 'gzip'): Promise<number> {
  return new Promise((resolve, reject) => {
    const inflater =
      format === 'raw' ? zlib.createInflateRaw({ chunkSize: 1 << 20 }) : zlib.createGunzip({ chunkSize: 1 << 20 });
    let produced = 0;
    inflater.on('data', (chunk: Buffer) => (produced += chunk.length));
    inflater.on('end', () => resolve(produced));
    inflater.on('error', reject);
    inflater.end(compressed);
  });
}

/** Where a gzip member's deflate data begins (RFC 1952: fixed header, then the optional fields its flags announce). */
function gzipBodyOffset(bytes: Uint8Array): number {
  const flags = bytes[3];
  let at = 10;
  if (flags & 4) at += 2 + (bytes[at] | (bytes[at + 1] << 8)); // FEXTRA
  for (const flag of [8, 16]) if (flags & flag) while (bytes[at++] !== 0); // FNAME, FCOMMENT
  if (flags & 2) at += 2; // FHCRC
  return at;
}

/** Inflates synchronously into one reused buffer (the engine's piece inflater, nothing checked or counted). */
function piecewiseInflate(compressed: Uint8Array, format: 'raw' | 'gzip'): number {
  const body = format === 'raw' ? compressed : compressed.subarray(gzipBodyOffset(compressed));
  let produced = 0;
  const pieces = inflateRawPieces(body, Number.MAX_SAFE_INTEGER);
  // The gzip trailer (CRC, size) follows the deflate data, so the generator's "ended at the input's end" is false there.
  for (let next = pieces.next(); !next.done; next = pieces.next()) produced += next.value.length;
  return produced;
}

/**
 * The inflate bound's CPU time: the faster of the two ways of inflating without keeping the
 * output, a stream of dropped 1 MiB chunks and the synchronous piece inflater (which avoids the
 * stream's per-chunk hand-offs; the stream alone let the lesion count come out at 0.6× "the bound").
 */
async function inflateBoundCpu(members: Uint8Array[], format: 'raw' | 'gzip'): Promise<number> {
  const streamed = await cpuAsync(() => Promise.all(members.map((m) => streamedInflate(m, format))));
  const pieces = await cpuAsync(async () => members.map((m) => piecewiseInflate(m, format)));
  return Math.min(streamed, pieces);
}

/** The `labels` members' compressed bytes, cut out of the files beforehand (the bound reads nothing else). */
async function labelsMembers(dir: string): Promise<Uint8Array[]> {
  const members: Uint8Array[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.npz'))) {
    const bytes = readFileSync(path.join(dir, name));
    const source = memorySource(bytes);
    const member = (await readZipDirectory(source)).get('labels.npy')!;
    const offset = await memberDataOffset(source, member);
    members.push(bytes.subarray(offset, offset + member.compressedSize));
  }
  return members;
}

/** Ours next to its bound: "1.23× the bound (target ≤ 1.5×)". */
function versusBound(ours: number, bound: number, target: number): string {
  return `${(ours / bound).toFixed(2)}× the bound (target ≤ ${target}×)`;
}

/** The minimal numpy program for the same manifest: np.load, one vectorised mean per file, json.dump. */
const MINIMAL_NUMPY = `
import json, sys, numpy as np
from pathlib import Path
manifest = {"partial_seizure": [], "full_seizure": [], "no_seizure": []}
for f in sorted(Path(sys.argv[1]).glob("*.npz")):
    with np.load(f) as data:
        ratios = (data["labels"] > 0).mean(axis=1)
    for w, r in enumerate(ratios.tolist()):
        key = "no_seizure" if r == 0 else "full_seizure" if r == 1 else "partial_seizure"
        manifest[key].append({"cache_file": str(f), "window_idx": w})
json.dump(manifest, open(Path(sys.argv[1]) / "manifest-minimal.json", "w"))
`;

async function benchManifestBuild(): Promise<void> {
  const files = quick ? 8 : 40;
  const dir = eegCache(files, 60);
  const store = path.join(data, 'fingerprints-cold');
  const ours = (target: string, jobs?: number) => () => {
    rmSync(store, { recursive: true, force: true });
    node(['manifest', 'build', target, ...(jobs ? ['--jobs', String(jobs)] : []), '--cache-dir', store]);
  };
  const bare = () => execFileSync(process.execPath, ['-e', '0']);
  const cores = Math.min(2, availableParallelism());
  // The bound: a bare node start plus inflating every labels member (CPU time, output dropped) spread
  // over the cores; each NeuroCache run is paired with a bare start run right after it.
  const members = await labelsMembers(dir);
  const inflateCpu = await inflateBoundCpu(members, 'raw');
  // As users run it (the main thread counts, and helps cores − 1 threads), and with a thread per core.
  const { a: asRun, b: startup, ratio: asRunRatio } = interleaved(ours(dir), bare, inflateCpu / cores);
  const { a: perCore, ratio: perCoreRatio } = interleaved(ours(dir, cores), bare, inflateCpu / cores);
  const bound = startup + inflateCpu / cores;
  rows.push({
    task: `manifest build (${files} files × 60 windows, local disk, page cache warm)`,
    subject: 'NeuroCache (default threads)',
    median: asRun,
    unit: 'ms',
    ratio: `${asRunRatio.toFixed(2)}× the bound (target ≤ 1.5×; median of ${repeats} interleaved pairs)`,
  });
  rows.push({
    task: '',
    subject: `NeuroCache --jobs ${cores}`,
    median: perCore,
    unit: 'ms',
    ratio: `${perCoreRatio.toFixed(2)}× the bound`,
  });
  rows.push({
    task: '',
    subject: `bound: node -e 0 + labels inflate CPU ÷ ${cores} cores`,
    median: bound,
    unit: 'ms',
    note: `${startup.toFixed(0)} ms start-up + ${inflateCpu.toFixed(1)} ms ÷ ${cores} (the faster of a streamed and a piecewise raw inflate of the ${members.length} labels members, output dropped)`,
  });
  const python = (script: string[], target: string, times = repeats) =>
    time(() => execFileSync(numpy!, [...script, target], { stdio: ['ignore', 'ignore', 'ignore'] }), times);
  const upstream = [path.join(root, 'bench', 'scan_existing_cache.py')];
  const minimal = ['-c', MINIMAL_NUMPY];
  if (numpy) {
    const scan = python(upstream, dir);
    const plain = python(minimal, dir);
    rows.push({
      task: '',
      subject: 'upstream scan_existing_cache (bench/scan_existing_cache.py)',
      median: scan,
      unit: 'ms',
      ratio: `NeuroCache is ${(scan / asRun).toFixed(2)}× faster`,
    });
    rows.push({
      task: '',
      subject: 'minimal numpy program (np.load + vectorised mean)',
      median: plain,
      unit: 'ms',
      ratio: `NeuroCache is ${(plain / asRun).toFixed(2)}× faster`,
    });
  } else
    rows.push({ task: '', subject: 'Python baselines', median: NaN, unit: '', note: 'skipped: no python3 with numpy' });
  // The same files four times over (hard links): fixed start-up costs amortise as caches grow.
  const big = path.join(data, `eeg-${files * 4}x60`);
  if (!existsSync(big)) {
    mkdirSync(big, { recursive: true });
    for (let copy = 0; copy < 4; copy++)
      for (const name of readdirSync(dir).filter((n) => n.endsWith('.npz')))
        linkSync(path.join(dir, name), path.join(big, `c${copy}_${name}`));
  }
  const { a: ours4, b: startup4, ratio: ratio4 } = interleaved(ours(big), bare, (4 * inflateCpu) / cores, 3);
  const bound4 = startup4 + (4 * inflateCpu) / cores;
  rows.push({
    task: `manifest build (${files * 4} files × 60 windows)`,
    subject: 'NeuroCache (default threads)',
    median: ours4,
    unit: 'ms',
    ratio: `${ratio4.toFixed(2)}× the bound (target ≤ 1.5×; 3 interleaved pairs), bound ${bound4.toFixed(0)} ms`,
  });
  if (numpy) {
    const scan4 = python(upstream, big, 3);
    const plain4 = python(minimal, big, 3);
    rows.push({
      task: '',
      subject: 'upstream scan_existing_cache',
      median: scan4,
      unit: 'ms',
      ratio: `NeuroCache is ${(scan4 / ours4).toFixed(2)}× faster`,
    });
    rows.push({
      task: '',
      subject: 'minimal numpy program',
      median: plain4,
      unit: 'ms',
      ratio: `NeuroCache is ${(plain4 / ours4).toFixed(2)}× faster`,
    });
  }
  for (const target of [dir, big]) rmSync(path.join(target, 'manifest-minimal.json'), { force: true });
}

// ---- 2. lesion volume --------------------------------------------------------------------

const nibabel = pythonWith('nibabel', 'numpy');

function maskFile(datatype: 2 | 16): string {
  const file = path.join(data, `mask-256-${datatype === 2 ? 'uint8' : 'float32'}.nii.gz`);
  if (existsSync(file)) return file;
  mkdirSync(data, { recursive: true });
  const n = 256;
  const values = datatype === 2 ? new Uint8Array(n ** 3) : new Float32Array(n ** 3);
  // A blob-shaped lesion of ~40,000 voxels.
  for (let z = 100; z < 140; z++)
    for (let y = 90; y < 130; y++) for (let x = 80; x < 105; x++) values[x + n * (y + n * z)] = 1;
  writeFileSync(file, encodeNifti({ dims: [n, n, n], datatype, data: encodeVoxels(datatype, values), gzip: true }));
  return file;
}

function peakRssMb(file: string): number {
  const out = execFileSync(process.execPath, [path.join(__dirname, 'bench-count.js'), file], { encoding: 'utf8' });
  return JSON.parse(out).maxRssMb;
}

/** Calls of the count before the steady-state one is measured, and counts per sample. */
const LESION_WARM_UPS = 5;
const LESION_BATCH = 10;

async function benchLesionVolume(): Promise<void> {
  for (const datatype of [2, 16] as const) {
    const file = maskFile(datatype);
    const bytes = readFileSync(file);
    const label = datatype === 2 ? 'uint8' : 'float32';
    // Both in this process, CPU time of all its threads (zlib's stream inflates on libuv's pool).
    // Steady state, as a pool worker counting a cohort's masks runs: V8 optimises the counting
    // loops during the first few calls (on a background thread, whose CPU time counts here).
    // The first call, cold, is its own row; the whole-process row below holds start-up too.
    const count = () => summarizeNifti(memorySource(bytes), { countVoxels: true });
    const cold = await cpuAsync(count, 1, 0);
    // A count takes a few ms: each sample is LESION_BATCH of them (and the bound LESION_BATCH
    // inflates), so one stray garbage collection or context switch cannot make the median.
    const batch = async () => {
      for (let i = 0; i < LESION_BATCH; i++) await count();
    };
    // Ours and the bound's two inflaters in turn (cpuInterleaved), so their ratio is of the same moments.
    const members = Array<Uint8Array>(LESION_BATCH).fill(bytes);
    const [oursBatches, streamedBatches, piecesBatches] = await cpuInterleaved(
      [
        batch,
        () => Promise.all(members.map((m) => streamedInflate(m, 'gzip'))),
        async () => members.map((m) => piecewiseInflate(m, 'gzip')),
      ],
      3 * repeats,
      LESION_WARM_UPS,
    );
    const ours = median(oursBatches) / LESION_BATCH;
    const bound = Math.min(median(streamedBatches), median(piecesBatches)) / LESION_BATCH;
    // Each round's own ratio (ours against the faster bound of that round), then their median:
    // the medians' ratio moved 1.46-1.78x between two quiet runs of one day, as the machine's
    // speed drifted under the three medians differently.
    const paired = median(oursBatches.map((o, i) => o / Math.min(streamedBatches[i], piecesBatches[i])));
    rows.push({
      task: `lesion volume, 256³ ${label} .nii.gz (${(bytes.length / 1000).toFixed(0)} kB)`,
      subject: `NeuroCache count (in process, CPU, after ${LESION_WARM_UPS} calls; mean of ${LESION_BATCH}; median of ${3 * repeats} interleaved with the bound)`,
      median: ours,
      unit: 'ms',
      ratio: `${paired.toFixed(2)}× the bound, median of the ${3 * repeats} rounds' ratios (target ≤ 1.5×; the medians' ratio ${(ours / bound).toFixed(2)}×)`,
    });
    rows.push({ task: '', subject: 'NeuroCache count, first call (cold)', median: cold, unit: 'ms' });
    rows.push({
      task: '',
      subject: 'bound: gunzip, output dropped (faster of streamed, piecewise; CPU)',
      median: bound,
      unit: 'ms',
    });
    // Whole processes: a worker's work from start-up to result, against start-up plus the bound.
    const whole = time(() => execFileSync(process.execPath, [path.join(__dirname, 'bench-count.js'), file]));
    const startup = time(() => execFileSync(process.execPath, ['-e', '0']));
    rows.push({
      task: '',
      subject: 'a process counting it (start to result)',
      median: whole,
      unit: 'ms',
      ratio: versusBound(whole, startup + bound, 1.5) + ` (node -e 0 ${startup.toFixed(0)} ms + bound)`,
    });
    if (nibabel) {
      const out = execFileSync(
        nibabel,
        [
          '-c',
          `
import json, sys, time, numpy as np, nibabel as nib
samples = []
for _ in range(${repeats}):
    t = time.perf_counter(); int((nib.load(sys.argv[1]).get_fdata() > 0).sum()); samples.append((time.perf_counter() - t) * 1000)
print(json.dumps(sorted(samples)[len(samples) // 2]))
`,
          file,
        ],
        { encoding: 'utf8' },
      );
      const reference = Number(out);
      rows.push({
        task: '',
        subject: 'nibabel get_fdata() > 0 (in process, wall)',
        median: reference,
        unit: 'ms',
        ratio: `NeuroCache's CPU time is ${(reference / ours).toFixed(2)}× less`,
      });
    }
    rows.push({ task: '', subject: 'peak RSS of a process counting it', median: peakRssMb(file), unit: 'MB' });
  }
}

// ---- start-up ------------------------------------------------------------------------------

function benchStartup(): void {
  const times = repeats * 2;
  const {
    a: version,
    b: bare,
    ratio,
  } = interleaved(
    () => execFileSync(process.execPath, [cli, '--version']),
    () => execFileSync(process.execPath, ['-e', '0']),
    0,
    times,
  );
  rows.push({
    task: 'start-up',
    subject: 'neurocache --version',
    median: version,
    unit: 'ms',
    ratio: `${ratio.toFixed(2)}× node -e 0 (target ≤ 1.2×; median of ${times} interleaved pairs)`,
  });
  rows.push({ task: '', subject: 'node -e 0', median: bare, unit: 'ms' });
}

// ---- 3. re-check from fingerprints ----------------------------------------------------------

/** Healthy caches (windows and labels agree on the sample count: no finding on any entry). */
function bigCache(files: number, windowsPerFile: number): string {
  const samples = 64;
  const dir = path.join(data, `recheck-${files}x${samples}`);
  if (existsSync(path.join(dir, '.complete'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (let f = 0; f < files; f++) {
    const labels = new Float32Array(windowsPerFile * samples).fill(1, 0, (f % 5) * 10);
    const npz = writeNpz(
      [
        {
          name: 'windows.npy',
          bytes: Buffer.concat([
            npyHeader('<f4', [windowsPerFile, 19, samples]),
            Buffer.alloc(windowsPerFile * 19 * samples * 4),
          ]),
        },
        {
          name: 'labels.npy',
          bytes: Buffer.concat([npyHeader('<f4', [windowsPerFile, samples]), Buffer.from(labels.buffer)]),
        },
      ],
      { compress: true },
    );
    writeFileSync(path.join(dir, `sub-${String(f).padStart(5, '0')}_windows.npz`), npz);
  }
  writeFileSync(path.join(dir, '.complete'), '');
  return dir;
}

function benchRecheck(): void {
  const files = quick ? 500 : 5000;
  const dir = bigCache(files, 30);
  const store = path.join(data, 'fingerprints-warm');
  node(['manifest', 'build', dir, '--cache-dir', store]);
  node(['check', path.join(dir, 'manifest.json'), '--cache-dir', store]);
  let bytesRead = -1;
  const recheck = time(() => {
    bytesRead = JSON.parse(node(['check', path.join(dir, 'manifest.json'), '--json', '--cache-dir', store])).io
      .bytesRead;
  });
  rows.push({
    task: `re-check unchanged cache (${files} files, ${files * 30} entries)`,
    subject: 'neurocache check (new process, warm fingerprints)',
    median: recheck,
    unit: 'ms',
    ratio: `target ≤ 1000 ms; ${bytesRead} bytes of cache content read`,
  });
}

// ---- 3b. preprocessing model on an ARC-shaped cohort ------------------------------------------

/**
 * A cohort shaped like the paper's 223 samples: T2w-sized grids (about 176 × 240–256 × 240–256 at
 * ~1 mm, zero voxels, so the files stay small) and masks with one blob lesion of 5k–150k voxels.
 */
function arcCohort(samples: number): string {
  const dir = path.join(data, `arc-cohort-${samples}`);
  if (existsSync(path.join(dir, '.complete'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  const nifti = path.join(dir, 'cache', 'nifti_cache');
  mkdirSync(nifti, { recursive: true });
  const rand = mulberry32(223);
  const images: string[] = [];
  const masks: string[] = [];
  for (let k = 0; k < samples; k++) {
    const dims = [160 + Math.floor(rand() * 32), 240 + Math.floor(rand() * 17), 240 + Math.floor(rand() * 17)];
    const pixdims = [1, 0.9375 + rand() * 0.0625, 0.9375 + rand() * 0.0625];
    const voxels = dims[0] * dims[1] * dims[2];
    images.push(`cache/nifti_cache/sub-${k}_T2w.nii.gz`);
    masks.push(`cache/nifti_cache/sub-${k}_lesion.nii.gz`);
    writeFileSync(
      path.join(dir, images[k]),
      encodeNifti({ dims, pixdims, datatype: 4, data: new Uint8Array(voxels * 2), gzip: true }),
    );
    const values = new Uint8Array(voxels);
    const radius = [8 + rand() * 16, 8 + rand() * 20, 8 + rand() * 20];
    const centre = dims.map((n, a) => radius[a] + rand() * (n - 2 * radius[a]));
    for (let z = 0; z < dims[2]; z++)
      for (let y = 0; y < dims[1]; y++)
        for (let x = 0; x < dims[0]; x++) {
          const d =
            ((x - centre[0]) / radius[0]) ** 2 +
            ((y - centre[1]) / radius[1]) ** 2 +
            ((z - centre[2]) / radius[2]) ** 2;
          if (d <= 1) values[x + dims[0] * (y + dims[1] * z)] = 1;
        }
    writeFileSync(path.join(dir, masks[k]), encodeNifti({ dims, pixdims, datatype: 2, data: values, gzip: true }));
  }
  writeFileSync(
    path.join(dir, 'dataset_info.json'),
    JSON.stringify({ num_samples: samples, image_paths: images, mask_paths: masks }, null, 2),
  );
  writeFileSync(path.join(dir, '.complete'), '');
  return dir;
}

function benchPreprocessing(): void {
  const samples = quick ? 12 : 223;
  const dir = arcCohort(samples);
  const info = path.join(dir, 'dataset_info.json');
  let run = 0;
  // A fresh fingerprint store each time: every mask is read and modelled.
  const cold = time(
    () =>
      void node([
        'stats',
        info,
        '--preprocessing',
        '--json',
        '--cache-dir',
        path.join(data, `preprocessing-cold-${run++}`),
      ]),
    quick ? 2 : 3,
  );
  const perSample = cold / samples;
  rows.push({
    task: `preprocessing model, ${samples}-sample ARC-shaped cohort`,
    subject: 'neurocache stats --preprocessing (both methods, cold)',
    median: cold,
    unit: 'ms',
    ratio: `${perSample.toFixed(0)} ms per sample`,
  });
  const warm = path.join(data, 'preprocessing-warm');
  node(['check', info, '--cache-dir', warm]);
  let bytesRead = -1;
  const recheck = time(() => {
    bytesRead = JSON.parse(node(['check', info, '--json', '--cache-dir', warm])).io.bytesRead;
  });
  rows.push({
    task: '',
    subject: 're-check unchanged cohort (warm fingerprints)',
    median: recheck,
    unit: 'ms',
    ratio: `${bytesRead} bytes of voxels read`,
  });
  const python = pythonWith('nibabel', 'scipy', 'numpy');
  if (!python) {
    rows.push({
      task: '',
      subject: 'Python preprocess_volume',
      median: NaN,
      unit: '',
      note: 'skipped: no python3 with nibabel and scipy',
    });
    return;
  }
  // preprocess_volume takes seconds per sample: timed on a few samples, scaled to the cohort.
  const timed = quick ? 2 : 6;
  const pairs = Array.from({ length: timed }, (_, k) =>
    [`cache/nifti_cache/sub-${k}_T2w.nii.gz`, `cache/nifti_cache/sub-${k}_lesion.nii.gz`].map((p) => path.join(dir, p)),
  ).flat();
  const secondsPerSample = Number(
    execFileSync(python, [path.join(root, 'bench', 'preprocess_volume.py'), ...pairs], { encoding: 'utf8' }),
  );
  const cohort = secondsPerSample * 1000 * samples;
  rows.push({
    task: '',
    subject: `Python preprocess_volume, both methods (median of ${timed} samples × ${samples})`,
    median: cohort,
    unit: 'ms',
    ratio: `NeuroCache is ${(cohort / cold).toFixed(1)}× faster (${(secondsPerSample * 1000).toFixed(0)} vs ${perSample.toFixed(0)} ms per sample)`,
  });
}

// ---- 4. language server on a 150,000-entry manifest -----------------------------------------
// ---- 4. language server on 150,000- and ~1,000,000-entry manifests ---------------------------

/** The re-check cache seven times over (hard links): ~1.05 M entries, with its manifest built by NeuroCache. */
function hugeCache(base: string, copies: number): string {
  const dir = `${base}-x${copies}`;
  if (existsSync(path.join(dir, 'manifest.json'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (let copy = 0; copy < copies; copy++)
    for (const name of readdirSync(base).filter((n) => n.endsWith('.npz')))
      linkSync(path.join(base, name), path.join(dir, `c${copy}_${name}`));
  node(['manifest', 'build', dir, '--cache-dir', path.join(data, 'fingerprints-warm')]);
  return dir;
}

/** The most memory the process has held (VmHWM), in MB. */
async function benchLanguageServer(): Promise<void> {
  const base = bigCache(quick ? 500 : 5000, 30);
  // Its manifest and warm fingerprints, as the re-check suite leaves them (--only=lsp runs alone).
  if (!existsSync(path.join(base, 'manifest.json')))
    node(['manifest', 'build', base, '--cache-dir', path.join(data, 'fingerprints-warm')]);
  const huge = hugeCache(base, 7);
  const store = firstSessionStoreText();
  for (const dir of [base, huge]) await benchLanguageServerOn(dir, store);
}

const STORE_FILE = 'fingerprints-v2.json';

/**
 * The fingerprints a first editor session finds after `neurocache manifest build`: the build's
 * counts and no pictures, taken from the warm store (format 2: records by file, each with its
 * kind), as the store file's text. Run on the warm store itself, the server found the pictures
 * earlier runs had rendered: no worker started, nothing new to save, and its peak RSS was a later
 * session's (392 MB at 1M entries, against 501 MB for the first).
 */
function firstSessionStoreText(): string {
  const warm = JSON.parse(readFileSync(path.join(data, 'fingerprints-warm', STORE_FILE), 'utf8')) as {
    records: Record<string, { kind: string }[]>;
  };
  for (const [cache, records] of Object.entries(warm.records))
    warm.records[cache] = records.filter((r) => r.kind !== 'label-trace');
  return JSON.stringify(warm);
}

/** A fresh store folder holding `text` for one server (each saves the pictures it renders into its own). */
function freshStore(text: string): string {
  const dir = path.join(data, 'fingerprints-first-session');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, STORE_FILE), text);
  return dir;
}

async function benchLanguageServerOn(dir: string, store: string): Promise<void> {
  const file = path.join(dir, 'manifest.json');
  const text = readFileSync(file, 'utf8');
  const entries = (text.match(/"cache_file"/g) ?? []).length;
  // NEUROCACHE_BENCH_PROFILE=<script>: preloaded into the server (e.g. one that starts the inspector's CPU profiler).
  const profile = process.env.NEUROCACHE_BENCH_PROFILE;
  const lsp = new LspSession({
    NEUROCACHE_CACHE_DIR: freshStore(store),
    ...(profile && { NODE_OPTIONS: `--require ${path.resolve(profile)}` }),
  });
  try {
    await lsp.initialize(dir);
    const uri = `file://${file}`;
    const opened = performance.now();
    await lsp.open(uri, text);
    await lsp.until(() => lsp.published.has(uri));
    const firstDiagnostics = performance.now() - opened;
    await lsp.settled(uri);
    const fullCheck = performance.now() - opened;
    const hoverAt = async (line: number) => {
      const started = performance.now();
      await lsp.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line, character: 6 } });
      return performance.now() - started;
    };
    // An entry hover with its label-trace picture: the first renders in a worker, later ones come from the fingerprint store.
    const pictureHover = async () => {
      const started = performance.now();
      const hover = await lsp.connection.sendRequest(HoverRequest.type, {
        textDocument: { uri },
        position: { line: 4, character: 8 },
      });
      if (!JSON.stringify(hover).includes('data:image/png')) throw new Error('no picture in the entry hover');
      return performance.now() - started;
    };
    const firstPicture = await pictureHover();
    const hovers: number[] = [];
    for (let i = 0; i < 200; i++) hovers.push(await hoverAt(i % 2 ? 1 : 3 + ((i * 7919) % (entries * 4))));
    hovers.sort((a, b) => a - b);
    const cachedPictures: number[] = [];
    for (let i = 0; i < 20; i++) cachedPictures.push(await pictureHover());
    // Edits as an editor sends them (a range and its new text), each left to settle: the time
    // past the debounce is the re-check's own. Timed from the moment the edit is sent: before
    // sending, this test client updates its own copy of the text, which in its library flattens
    // the whole text and shifts every line offset (at 1M entries 0.7 s for the first edit, which
    // computes the offsets, ~70 ms for later ones, measured quiet); an editor's model changes only
    // the edited line.
    const target = '"window_idx": 0';
    const rediagnoses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const at = lsp.documents.get(uri)!.getText().indexOf(target);
      await lsp.changeRange(uri, at, at + target.length, `"window_idx": ${900 + i}`);
      const edited = performance.now();
      await lsp.settled(uri);
      rediagnoses.push(performance.now() - edited - EDIT_DEBOUNCE_MS);
    }
    // Typing: a keystroke every 50 ms (each restarts the debounce) with a hover between
    // keystrokes; a digit typed and erased in turn, at a place found once as an editor knows its
    // cursor, sent without copying the client's 88 MB text per keystroke (see sendRangeChange:
    // that copy's garbage collections were timed as the server's hover latency). 200 hovers, so
    // the p95 is not the second-slowest of a few.
    const typingHovers: number[] = [];
    const document = lsp.documents.get(uri)!;
    const typedAt = document.positionAt(document.getText().indexOf('"window_idx": 9') + 14);
    const typed = { start: typedAt, end: { line: typedAt.line, character: typedAt.character + 1 } };
    for (let i = 0; i < 200; i++) {
      if (i % 2 === 0) await lsp.sendRangeChange(uri, { start: typedAt, end: typedAt }, String((i / 2) % 10));
      else await lsp.sendRangeChange(uri, typed, '');
      typingHovers.push(await hoverAt(3 + ((i * 7919) % (entries * 4))));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await lsp.settled(uri);
    typingHovers.sort((a, b) => a - b);
    const peak = peakRssOf(lsp.child.pid!);
    const task = `language server, ${entries.toLocaleString('en-US')}-entry manifest (${(text.length / 1e6).toFixed(1)} MB)`;
    rows.push({
      task,
      subject: 'first (structural) diagnostics after open',
      median: firstDiagnostics,
      unit: 'ms',
      ratio: 'target ≤ 2000 ms',
    });
    rows.push({ task: '', subject: 'full content check after open', median: fullCheck, unit: 'ms' });
    rows.push({ task: '', subject: 'hover p50 (idle)', median: hovers[100], unit: 'ms' });
    rows.push({ task: '', subject: 'hover p95 (idle)', median: hovers[190], unit: 'ms', ratio: 'target ≤ 10 ms' });
    rows.push({
      task: '',
      subject: 'hover p95 while typing (edit every 50 ms)',
      median: typingHovers[Math.floor(typingHovers.length * 0.95)],
      unit: 'ms',
      ratio: 'target ≤ 10 ms',
    });
    rows.push({ task: '', subject: 'entry hover with label-trace picture, first', median: firstPicture, unit: 'ms' });
    rows.push({
      task: '',
      subject: 'entry hover with label-trace picture, cached',
      median: median(cachedPictures),
      unit: 'ms',
      ratio: 'target < 100 ms',
    });
    rows.push({
      task: '',
      subject: `diagnostics after a range edit, past the ${EDIT_DEBOUNCE_MS} ms debounce (median of 3)`,
      median: median(rediagnoses),
      unit: 'ms',
      ratio: 'target ≤ 300 ms',
    });
    rows.push({ task: '', subject: 'server peak RSS (VmHWM)', median: peak, unit: 'MB', ratio: 'target ≤ 400 MB' });
  } finally {
    await lsp.close();
  }
}

// ---- 5. download against the fake Hub -------------------------------------------------------

function runAsync(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { env: { ...process.env, HF_TOKEN: '', HF_HUB_OFFLINE: '' }, maxBuffer: 1 << 24 },
      (error, stdout, stderr) => (error ? reject(new Error(`${args.join(' ')}: ${stderr}`)) : resolve(stdout)),
    );
  });
}

/** Bytes a perfect reader needs: the five columns' chunks plus each shard's footer. */
function neededBytes(files: string[]): number {
  let needed = 0;
  for (const file of files) {
    const bytes = readFileSync(file);
    const metadata = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    needed += bytes.readUInt32LE(bytes.length - 8) + 8;
    for (const group of metadata.row_groups) {
      for (const column of group.columns) {
        if (COLUMNS.includes(column.meta_data!.path_in_schema[0]))
          needed += Number(column.meta_data!.total_compressed_size);
      }
    }
  }
  return needed;
}

async function benchDownload(): Promise<void> {
  const repo = path.join(data, 'hub');
  const shardCount = quick ? 4 : 16;
  if (!existsSync(path.join(repo, '.complete'))) {
    rmSync(repo, { recursive: true, force: true });
    writeArcShards(repo, {
      sessions: shardCount * 8,
      shards: shardCount,
      dims: [64, 64, 32],
      fillerBytes: 1 << 20,
      rowGroupSize: 4,
    });
    writeFileSync(path.join(repo, '.complete'), '');
  }
  const files = readdirSync(path.join(repo, 'data')).map((f) => path.join(repo, 'data', f));
  const totalBytes = files.reduce((n, f) => n + readFileSync(f).length, 0);
  const needed = neededBytes(files);
  const hub = await startFakeHub({ root: repo, faults: { latencyMs: 50, bytesPerSecond: 50e6 } });
  try {
    const wall = async (jobs: number) => {
      const out = path.join(data, `download-out-${jobs}`);
      rmSync(out, { recursive: true, force: true });
      hub.reset(true);
      const started = performance.now();
      await runAsync(['arc', 'download', '--out', out, '--endpoint', hub.hubUrl, '--jobs', String(jobs), '--json']);
      return { ms: performance.now() - started, served: hub.bytesServed('cdn'), out };
    };
    const parallel = await wall(8);
    const serial = await wall(1);
    hub.reset(true);
    const started = performance.now();
    await runAsync(['arc', 'download', '--out', parallel.out, '--endpoint', hub.hubUrl, '--json']);
    const rerun = performance.now() - started;
    const task = `ARC download, ${files.length} shards (${(totalBytes / 1e6).toFixed(0)} MB), 50 ms latency, 50 MB/s`;
    rows.push({
      task,
      subject: 'bytes transferred ÷ needed column-chunk bytes',
      median: parallel.served / needed,
      unit: '×',
      ratio: `${(parallel.served / 1e6).toFixed(2)} MB of ${(totalBytes / 1e6).toFixed(0)} MB in the shards (${((100 * parallel.served) / totalBytes).toFixed(1)}%); target ≤ 1.05`,
    });
    rows.push({
      task: '',
      subject: 'wall time, --jobs 8 (default)',
      median: parallel.ms,
      unit: 'ms',
      ratio: `${(serial.ms / parallel.ms).toFixed(2)}× faster than --jobs 1`,
    });
    rows.push({ task: '', subject: 'wall time, --jobs 1', median: serial.ms, unit: 'ms' });
    rows.push({
      task: '',
      subject: 're-run with complete output',
      median: rerun,
      unit: 'ms',
      ratio: `${hub.requests.length} requests, ${hub.bytesServed('cdn')} shard bytes; target ≤ 2000 ms`,
    });
  } finally {
    await hub.close();
  }
  await benchDownloadAsWritten();
}

/**
 * The dataset as written (one session per shard, pyarrow-like ~9.2 KB footers, about half the
 * sessions dropped by the filters): bytes transferred over what the KEPT sessions need.
 */
async function benchDownloadAsWritten(): Promise<void> {
  const repo = path.join(data, 'hub-as-written');
  const sessions = quick ? 12 : 48;
  if (!existsSync(path.join(repo, '.complete'))) {
    rmSync(repo, { recursive: true, force: true });
    writeFileSync(
      path.join(data, 'hub-as-written.json'),
      JSON.stringify(writeArcShards(repo, realShardOptions(sessions)).sessions),
    );
    writeFileSync(path.join(repo, '.complete'), '');
  }
  const kept = new Set(
    expected(JSON.parse(readFileSync(path.join(data, 'hub-as-written.json'), 'utf8'))).map((s) => s.shard),
  );
  const needed = neededBytes([...kept].map((shard) => path.join(repo, shard)));
  const hub = await startFakeHub({ root: repo, faults: { latencyMs: 50, bytesPerSecond: 50e6 } });
  try {
    const out = path.join(data, 'download-out-as-written');
    rmSync(out, { recursive: true, force: true });
    await runAsync(['arc', 'download', '--out', out, '--endpoint', hub.hubUrl, '--json']);
    const served = hub.bytesServed('cdn');
    const requests = hub.requests.filter((r) => r.server === 'cdn').length;
    rows.push({
      task: `ARC download as written: ${sessions} one-session shards, ${kept.size} kept`,
      subject: 'bytes transferred ÷ bytes the kept sessions need',
      median: served / needed,
      unit: '×',
      ratio: `${(served / 1e6).toFixed(2)} MB for ${(needed / 1e6).toFixed(2)} MB; ${(requests / sessions).toFixed(1)} CDN requests per shard; target ≤ 1.10`,
    });
  } finally {
    await hub.close();
  }
}

/** What the figures depend on: cores, how loaded the machine is, and the versions compared. */
function conditions(): string {
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const pythons = [...new Set([numpy, nibabel].filter((p): p is string => p !== undefined))].map((python) =>
    execFileSync(
      python,
      [
        '-c',
        'import sys, numpy\ntry:\n import nibabel; n = nibabel.__version__\nexcept ImportError: n = "absent"\nprint(f"{sys.executable}: python {sys.version.split()[0]}, numpy {numpy.__version__}, nibabel {n}")',
      ],
      { encoding: 'utf8' },
    ).trim(),
  );
  return `conditions: ${availableParallelism()} cores, load average ${load} (1/5/15 min); node ${process.versions.node}\n${pythons.join('\n') || 'no python3 with numpy'}`;
}

function printTable(): void {
  const lines = rows.map((r) => [
    r.task,
    r.subject,
    Number.isNaN(r.median) ? '—' : `${r.median.toFixed(r.median < 10 ? 2 : 0)} ${r.unit}`,
    r.ratio ?? r.note ?? '',
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(...lines.map((l) => l[i].length), 4));
  for (const l of lines)
    process.stdout.write(
      `${l[0].padEnd(widths[0])}  ${l[1].padEnd(widths[1])}  ${l[2].padStart(widths[2])}  ${l[3]}\n`,
    );
}

async function main(): Promise<void> {
  process.stdout.write(
    `NeuroCache benchmarks (${quick ? 'quick' : 'full'}; medians of ${repeats}; data in ${path.relative(process.cwd(), data)})\n`,
  );
  process.stdout.write(`${conditions()}\n\n`);
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
  const suites: [string, () => Promise<void> | void][] = [
    ['startup', benchStartup],
    ['build', benchManifestBuild],
    ['lesion', benchLesionVolume],
    ['recheck', benchRecheck],
    ['preprocessing', benchPreprocessing],
    ['lsp', benchLanguageServer],
    ['download', benchDownload],
    ['network', async () => void rows.push(...(await benchNetwork({ data, quick, cli, numpy })))],
    ['deep', async () => void rows.push(...(await benchDeepCheck({ data, quick, cli, numpy })))],
  ];
  for (const [name, run] of suites) if (!only || only.split(',').includes(name)) await run();
  printTable();
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exitCode = 1;
});
