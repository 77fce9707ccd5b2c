/**
 * `npm run bench`: NeuroCache against the Python reference and against the hardware bound,
 * measured side by side in one run on generated data (bench/.data/, never committed).
 * Prints medians and ratios. `npm run bench -- --quick` uses smaller data for a smoke run;
 * `--only=build,lesion,recheck,lsp,download,network` picks suites.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { parquetMetadata } from 'hyparquet';
import { COLUMNS } from '../server/src/download/shard';
import { startFakeHub } from '../test/hub/fakeHub';
import { writeArcShards } from '../test/hub/shards';
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { HoverRequest } from 'vscode-languageserver-protocol/node';
import { summarizeNifti } from '../server/src/engine/arc/nifti';
import { memberDataOffset, readZipDirectory } from '../server/src/engine/io/zip';
import { memorySource } from '../server/src/engine/io/source';
import { INFLATE_CHUNK } from '../server/src/engine/io/inflate';
import { LspSession } from '../test/support/lsp';
import { pythonWith } from '../test/support/python';
import { encodeNifti, encodeVoxels } from '../test/writers/nifti';
import { writeNpz } from '../test/writers/npz';
import { npyHeader } from '../test/writers/npy';
import { benchNetwork } from './network';

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

async function timeAsync(run: () => Promise<unknown>, times = repeats): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  return median(samples);
}

function node(args: string[], env: NodeJS.ProcessEnv = {}): string {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 28 });
  if (result.status !== 0 && result.status !== 1) throw new Error(`neurocache ${args.join(' ')} failed: ${result.stderr}`);
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
    execFileSync(numpy, ['-c', `
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
`, dir, String(files), String(windows)]);
  } else {
    for (let f = 0; f < files; f++) {
      const labels = new Float32Array(windows * 15360);
      for (let w = 0; w < windows; w++) labels.fill(1, w * 15360, w * 15360 + ((w * 7919 + f * 31) % 15360));
      const windowsNpy = Buffer.concat([npyHeader('<f4', [windows, 19, 15360]), Buffer.alloc(windows * 19 * 15360 * 4)]);
      const labelsNpy = Buffer.concat([npyHeader('<f4', [windows, 15360]), Buffer.from(labels.buffer)]);
      writeFileSync(path.join(dir, `s${String(f).padStart(4, '0')}_windows.npz`), writeNpz([{ name: 'windows.npy', bytes: windowsNpy }, { name: 'labels.npy', bytes: labelsNpy }], { compress: true }));
    }
  }
  writeFileSync(path.join(dir, '.complete'), '');
  return dir;
}

async function labelsInflateBound(dir: string): Promise<void> {
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.npz'))) {
    const bytes = readFileSync(path.join(dir, name));
    const source = memorySource(bytes);
    const member = (await readZipDirectory(source)).get('labels.npy')!;
    const offset = await memberDataOffset(source, member);
    zlib.inflateRawSync(bytes.subarray(offset, offset + member.compressedSize), { chunkSize: INFLATE_CHUNK });
  }
}

async function benchManifestBuild(): Promise<void> {
  const files = quick ? 8 : 40;
  const dir = eegCache(files, 60);
  const store = path.join(data, 'fingerprints-cold');
  const ours = (jobs: number) => time(() => {
    rmSync(store, { recursive: true, force: true });
    node(['manifest', 'build', dir, '--jobs', String(jobs), '--cache-dir', store]);
  });
  const two = ours(2);
  const one = ours(1);
  // The bound reads whole files from the page cache and inflates only labels, on one thread.
  const bound = await timeAsync(() => labelsInflateBound(dir));
  const startup = time(() => execFileSync(process.execPath, ['-e', '0']));
  rows.push({ task: `manifest build (${files} files × 60 windows)`, subject: 'NeuroCache --jobs 2', median: two, unit: 'ms' });
  rows.push({ task: '', subject: 'node -e 0 (process start-up alone)', median: startup, unit: 'ms' });
  rows.push({ task: '', subject: 'NeuroCache --jobs 1', median: one, unit: 'ms' });
  rows.push({ task: '', subject: 'labels-inflate bound (1 thread, in process)', median: bound, unit: 'ms', ratio: `jobs 2: ${(two / bound).toFixed(2)}× the bound; jobs 1: ${(one / bound).toFixed(2)}×` });
  const reference = (target: string, times = repeats) =>
    time(() => execFileSync(numpy!, [path.join(root, 'test', 'reference', 'build_manifest.py'), target], { stdio: ['ignore', 'ignore', 'ignore'] }), times);
  if (numpy) {
    const python = reference(dir);
    rows.push({ task: '', subject: 'Python reference (np.load labels + mean)', median: python, unit: 'ms', ratio: `NeuroCache --jobs 2 is ${(python / two).toFixed(2)}× faster` });
  } else rows.push({ task: '', subject: 'Python reference', median: NaN, unit: '', note: 'skipped: no python3 with numpy' });
  // The same files four times over (hard links): fixed start-up costs amortise as caches grow.
  const big = path.join(data, `eeg-${files * 4}x60`);
  if (!existsSync(big)) {
    mkdirSync(big, { recursive: true });
    for (let copy = 0; copy < 4; copy++) for (const name of readdirSync(dir).filter((n) => n.endsWith('.npz'))) linkSync(path.join(dir, name), path.join(big, `c${copy}_${name}`));
  }
  const ours4 = time(() => {
    rmSync(store, { recursive: true, force: true });
    node(['manifest', 'build', big, '--jobs', '2', '--cache-dir', store]);
  }, 3);
  rows.push({ task: `manifest build (${files * 4} files × 60 windows)`, subject: 'NeuroCache --jobs 2', median: ours4, unit: 'ms' });
  if (numpy) {
    const python4 = reference(big, 3);
    rows.push({ task: '', subject: 'Python reference', median: python4, unit: 'ms', ratio: `NeuroCache --jobs 2 is ${(python4 / ours4).toFixed(2)}× faster` });
  }
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
  for (let z = 100; z < 140; z++) for (let y = 90; y < 130; y++) for (let x = 80; x < 105; x++) values[x + n * (y + n * z)] = 1;
  writeFileSync(file, encodeNifti({ dims: [n, n, n], datatype, data: encodeVoxels(datatype, values), gzip: true }));
  return file;
}

function peakRssMb(file: string): number {
  const out = execFileSync(process.execPath, [path.join(__dirname, 'bench-count.js'), file], { encoding: 'utf8' });
  return JSON.parse(out).maxRssMb;
}

async function benchLesionVolume(): Promise<void> {
  for (const datatype of [2, 16] as const) {
    const file = maskFile(datatype);
    const bytes = readFileSync(file);
    const label = datatype === 2 ? 'uint8' : 'float32';
    const ours = await timeAsync(() => summarizeNifti(memorySource(bytes), { countVoxels: true }));
    const bound = time(() => zlib.gunzipSync(bytes));
    rows.push({ task: `lesion volume, 256³ ${label} .nii.gz`, subject: 'NeuroCache (streamed)', median: ours, unit: 'ms' });
    rows.push({ task: '', subject: 'gunzip bound (node:zlib, whole file)', median: bound, unit: 'ms', ratio: `${(ours / bound).toFixed(2)}× the bound` });
    if (nibabel) {
      const out = execFileSync(nibabel, ['-c', `
import json, sys, time, numpy as np, nibabel as nib
samples = []
for _ in range(${repeats}):
    t = time.perf_counter(); int((nib.load(sys.argv[1]).get_fdata() > 0).sum()); samples.append((time.perf_counter() - t) * 1000)
print(json.dumps(sorted(samples)[len(samples) // 2]))
`, file], { encoding: 'utf8' });
      const reference = Number(out);
      rows.push({ task: '', subject: 'nibabel get_fdata() > 0', median: reference, unit: 'ms', ratio: `NeuroCache is ${(reference / ours).toFixed(2)}× faster` });
    }
    rows.push({ task: '', subject: 'peak RSS of a process counting it', median: peakRssMb(file), unit: 'MB' });
  }
}

// ---- 3. re-check from fingerprints ----------------------------------------------------------

function bigCache(files: number, windowsPerFile: number): string {
  const dir = path.join(data, `recheck-${files}`);
  if (existsSync(path.join(dir, '.complete'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const samples = 64;
  for (let f = 0; f < files; f++) {
    const labels = new Float32Array(windowsPerFile * samples).fill(1, 0, (f % 5) * 10);
    const npz = writeNpz([
      { name: 'windows.npy', bytes: Buffer.concat([npyHeader('<f4', [windowsPerFile, 19, 4]), Buffer.alloc(windowsPerFile * 19 * 4 * 4)]) },
      { name: 'labels.npy', bytes: Buffer.concat([npyHeader('<f4', [windowsPerFile, samples]), Buffer.from(labels.buffer)]) },
    ], { compress: true });
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
    bytesRead = JSON.parse(node(['check', path.join(dir, 'manifest.json'), '--json', '--cache-dir', store])).io.bytesRead;
  });
  rows.push({ task: `re-check unchanged cache (${files} files, ${files * 30} entries)`, subject: 'neurocache check (new process, warm fingerprints)', median: recheck, unit: 'ms', ratio: `target ≤ 1000 ms; ${bytesRead} bytes of cache content read` });
}

// ---- 4. language server on a 150,000-entry manifest -----------------------------------------

async function benchLanguageServer(): Promise<void> {
  const dir = bigCache(quick ? 500 : 5000, 30);
  const file = path.join(dir, 'manifest.json');
  const text = readFileSync(file, 'utf8');
  const entries = (text.match(/"cache_file"/g) ?? []).length;
  const lsp = new LspSession({ NEUROCACHE_CACHE_DIR: path.join(data, 'fingerprints-warm') });
  try {
    await lsp.initialize(dir);
    const uri = `file://${file}`;
    const opened = performance.now();
    await lsp.open(uri, text);
    await lsp.until(() => lsp.published.has(uri));
    const firstDiagnostics = performance.now() - opened;
    await lsp.settled(uri);
    const fullCheck = performance.now() - opened;
    const hovers: number[] = [];
    for (let i = 0; i < 200; i++) {
      const line = i % 2 ? 1 : 3 + ((i * 7919) % (entries * 4));
      const started = performance.now();
      await lsp.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line, character: 6 } });
      hovers.push(performance.now() - started);
    }
    hovers.sort((a, b) => a - b);
    // An entry hover with its label-trace picture: the first renders in a worker, later ones come from the fingerprint store.
    const pictureHover = async () => {
      const started = performance.now();
      const hover = await lsp.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 4, character: 8 } });
      if (!JSON.stringify(hover).includes('data:image/png')) throw new Error('no picture in the entry hover');
      return performance.now() - started;
    };
    const firstPicture = await pictureHover();
    const cachedPictures: number[] = [];
    for (let i = 0; i < 20; i++) cachedPictures.push(await pictureHover());
    const edited = performance.now();
    await lsp.change(uri, text.replace('"window_idx": 0', '"window_idx": 999'));
    await lsp.settled(uri);
    const rediagnose = performance.now() - edited;
    const rssKb = Number(execFileSync('ps', ['-o', 'rss=', '-p', String(lsp.child.pid)], { encoding: 'utf8' }).trim());
    const task = `language server, ${entries.toLocaleString('en-US')}-entry manifest (${(text.length / 1e6).toFixed(1)} MB)`;
    rows.push({ task, subject: 'first (structural) diagnostics after open', median: firstDiagnostics, unit: 'ms', ratio: 'target ≤ 2000 ms' });
    rows.push({ task: '', subject: 'full content check after open', median: fullCheck, unit: 'ms' });
    rows.push({ task: '', subject: 'hover p50', median: hovers[100], unit: 'ms' });
    rows.push({ task: '', subject: 'hover p95', median: hovers[190], unit: 'ms', ratio: 'target ≤ 50 ms' });
    rows.push({ task: '', subject: 'entry hover with label-trace picture, first', median: firstPicture, unit: 'ms' });
    rows.push({ task: '', subject: 'entry hover with label-trace picture, cached', median: median(cachedPictures), unit: 'ms', ratio: 'target < 100 ms' });
    rows.push({ task: '', subject: 're-diagnose after an edit (incl. 300 ms debounce)', median: rediagnose, unit: 'ms' });
    rows.push({ task: '', subject: 'server RSS', median: rssKb / 1024, unit: 'MB', ratio: 'target ≤ 400 MB' });
  } finally {
    await lsp.close();
  }
}

// ---- 5. download against the fake Hub -------------------------------------------------------

function runAsync(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [cli, ...args], { env: { ...process.env, HF_TOKEN: '', HF_HUB_OFFLINE: '' }, maxBuffer: 1 << 24 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${args.join(' ')}: ${stderr}`)) : resolve(stdout));
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
        if (COLUMNS.includes(column.meta_data!.path_in_schema[0])) needed += Number(column.meta_data!.total_compressed_size);
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
    writeArcShards(repo, { sessions: shardCount * 8, shards: shardCount, dims: [64, 64, 32], fillerBytes: 1 << 20, rowGroupSize: 4 });
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
    rows.push({ task, subject: 'bytes transferred ÷ needed column-chunk bytes', median: parallel.served / needed, unit: '×', ratio: `${(parallel.served / 1e6).toFixed(2)} MB of ${(totalBytes / 1e6).toFixed(0)} MB in the shards (${((100 * parallel.served) / totalBytes).toFixed(1)}%); target ≤ 1.05` });
    rows.push({ task: '', subject: 'wall time, --jobs 8 (default)', median: parallel.ms, unit: 'ms', ratio: `${(serial.ms / parallel.ms).toFixed(2)}× faster than --jobs 1` });
    rows.push({ task: '', subject: 'wall time, --jobs 1', median: serial.ms, unit: 'ms' });
    rows.push({ task: '', subject: 're-run with complete output', median: rerun, unit: 'ms', ratio: `${hub.requests.length} requests, ${hub.bytesServed('cdn')} shard bytes; target ≤ 2000 ms` });
  } finally {
    await hub.close();
  }
}

function printTable(): void {
  const lines = rows.map((r) => [r.task, r.subject, Number.isNaN(r.median) ? '—' : `${r.median.toFixed(r.median < 10 ? 2 : 0)} ${r.unit}`, r.ratio ?? r.note ?? '']);
  const widths = [0, 1, 2].map((i) => Math.max(...lines.map((l) => l[i].length), 4));
  for (const l of lines) process.stdout.write(`${l[0].padEnd(widths[0])}  ${l[1].padEnd(widths[1])}  ${l[2].padStart(widths[2])}  ${l[3]}\n`);
}

async function main(): Promise<void> {
  process.stdout.write(`NeuroCache benchmarks (${quick ? 'quick' : 'full'}; medians of ${repeats}; data in ${path.relative(process.cwd(), data)})\n\n`);
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7);
  const suites: [string, () => Promise<void> | void][] = [
    ['build', benchManifestBuild],
    ['lesion', benchLesionVolume],
    ['recheck', benchRecheck],
    ['lsp', benchLanguageServer],
    ['download', benchDownload],
    ['network', async () => void rows.push(...(await benchNetwork({ data, quick, cli, numpy })))],
  ];
  for (const [name, run] of suites) if (!only || only.split(',').includes(name)) await run();
  printTable();
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exitCode = 1;
});
