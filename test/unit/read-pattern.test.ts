/**
 * The read pattern that hides network latency, verified by counting, never by timing: how many
 * dependent round trips and bytes an NPZ costs, that re-checks read nothing, and that the pool
 * keeps many files in flight (more than it has threads) within its file and byte limits.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { HEAD_READ, summarizeNpz } from '../../server/src/engine/eeg/npz';
import { ByteSource, memorySource } from '../../server/src/engine/io/source';
import { readZipDirectory, TAIL_READ } from '../../server/src/engine/io/zip';
import { analyzeDocument } from '../../server/src/service/analyze';
import { buildManifestFile } from '../../server/src/service/buildManifest';
import { FingerprintStore } from '../../server/src/service/fingerprints';
import { CacheInspector } from '../../server/src/service/inspector';
import { FileSource } from '../../server/src/workers/fileSource';
import { WorkerPool } from '../../server/src/workers/pool';
import { readRegularBytes } from '../../server/src/service/regularFile';
import { MAX_READS_IN_FLIGHT } from '../../server/src/protocol';
import { eegMembers, eegNpz, writeNpz } from '../writers/npz';
import { encodeNifti } from '../writers/nifti';
import { HEAD_READ as NIFTI_HEAD_READ, summarizeNifti } from '../../server/src/engine/arc/nifti';
import { pythonWith, repoRoot, runPython, tempDir } from '../support/python';

/**
 * A source that answers reads in rounds, as a high-latency volume would: every read issued
 * before the round closes (all that is issued side by side) is answered together. `rounds` is
 * then the number of dependent round trips.
 */
function roundTripSource(bytes: Uint8Array): ByteSource & { rounds: number; reads: number; bytesRead: number } {
  let pending: (() => void)[] = [];
  const source = {
    size: bytes.length,
    rounds: 0,
    reads: 0,
    bytesRead: 0,
    read(offset: number, length: number): Promise<Uint8Array> {
      source.reads++;
      return new Promise((resolve) => {
        if (pending.length === 0) {
          setImmediate(() => {
            const round = pending;
            pending = [];
            source.rounds++;
            round.forEach((answer) => answer());
          });
        }
        pending.push(() => {
          const out = bytes.subarray(offset, Math.min(bytes.length, offset + length));
          source.bytesRead += out.length;
          resolve(out);
        });
      });
    },
  };
  return source;
}

/** Seizure labels as a cache holds them: runs of 0 and 1, so they compress to a few KiB. */
function runLabels(windows: number, samples: number, seed: number): Float32Array {
  const labels = new Float32Array(windows * samples);
  for (let w = 0; w < windows; w++) {
    const kind = (w * 7 + seed) % 10;
    if (kind === 0) labels.fill(1, w * samples, (w + 1) * samples);
    else if (kind < 3) labels.fill(1, w * samples + ((w * 997) % samples) / 2, (w + 1) * samples);
  }
  return labels;
}

/** Labels that do not compress (noise, a quarter of it 0), so the member is larger than the speculative tail. */
function noisyLabels(windows: number, samples: number): Float32Array {
  let state = 12345;
  return Float32Array.from({ length: windows * samples }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state % 4 === 0 ? 0 : state / 2 ** 32;
  });
}

/** Compressed size of the labels member plus its local header, from the file's own directory. */
async function labelsMemberBytes(bytes: Uint8Array): Promise<number> {
  const labels = (await readZipDirectory(memorySource(bytes))).get('labels.npy')!;
  return labels.compressedSize + 30 + 'labels.npy'.length + 20;
}

/** What the speculative reads may add to the bytes a reader needs: the file's start and its tail. */
const SPECULATIVE = HEAD_READ + TAIL_READ;

test('a typical savez_compressed cache costs one round: its first 4 KiB and its last 64 KiB', async () => {
  const members = eegMembers({ windows: 60, channels: 19, samples: 2048, labels: runLabels(60, 2048, 3) }).map((m) => ({
    name: m.name,
    bytes: Buffer.concat([...m.chunks()]),
  }));
  // Also with every ZIP64 structure, as numpy writes caches beyond 4 GiB.
  for (const zip64 of [false, true]) {
    const bytes = writeNpz(members, { compress: true, zip64 });
    assert.ok(bytes.length > 4 * TAIL_READ, 'windows make the file much larger than the tail');
    const source = roundTripSource(bytes);
    const summary = await summarizeNpz(source);
    assert.equal(summary.windowCount, 60);
    assert.deepEqual(
      summary.windowsShape,
      [60, 19, 2048],
      "windows' header comes with np.load's magic check at the start",
    );
    assert.equal(source.rounds, 1, `zip64 ${zip64}: ${source.reads} reads in ${source.rounds} rounds`);
    assert.equal(source.reads, 2);
    assert.ok(source.bytesRead <= SPECULATIVE, `${source.bytesRead} bytes`);
  }
});

test('labels larger than the tail: two rounds, bytes at most the member plus the speculative reads', async () => {
  const bytes = eegNpz({ windows: 40, channels: 4, samples: 4096, labels: noisyLabels(40, 4096), compress: true });
  const member = await labelsMemberBytes(bytes);
  assert.ok(member > 2 * TAIL_READ, `labels member is ${member} bytes`);
  const source = roundTripSource(bytes);
  const summary = await summarizeNpz(source);
  assert.deepEqual(summary.windowsShape, [40, 4, 4096]);
  assert.equal(source.rounds, 2);
  assert.ok(source.bytesRead <= member + SPECULATIVE, `${source.bytesRead} bytes for a ${member}-byte member`);
  // The same counts as a reader that makes no speculative reads.
  assert.deepEqual(summary.positives, (await summarizeNpz(memorySource(bytes))).positives);
});

test('a NIfTI image read for its header costs one round of its first 4 KiB and gzip trailer, not megabytes', async () => {
  // Incompressible voxels: the file is megabytes whatever the compression.
  const data = randomBytes(3 << 20);
  for (const gzip of [true, false]) {
    const bytes = encodeNifti({
      dims: [128, 128, 192],
      datatype: 2,
      data,
      gzip,
      extensions: [{ code: 6, data: new Uint8Array(200) }],
    });
    assert.ok(bytes.length > 3e6);
    const name = gzip ? 'image.nii.gz' : 'image.nii';
    const source = roundTripSource(bytes);
    const summary = await summarizeNifti(source, { countVoxels: false, name });
    assert.deepEqual(summary.shape, [128, 128, 192]);
    // The first round answers everything; the inflate stream may have asked one or two small chunks ahead.
    assert.ok(
      source.bytesRead <= NIFTI_HEAD_READ + 4 + 2 * (16 << 10),
      `${name}: ${source.bytesRead} bytes in ${source.reads} reads`,
    );
    assert.equal(source.reads - (gzip ? 2 : 1) <= 2, true, `${name}: ${source.reads} reads`);
    const counted = roundTripSource(bytes);
    const full = await summarizeNifti(counted, { countVoxels: true, name });
    assert.equal(
      full.positiveVoxels,
      data.reduce((n, b) => n + (b > 0 ? 1 : 0), 0),
    );
    assert.ok(
      counted.bytesRead <= bytes.length + NIFTI_HEAD_READ + 4,
      `counting reads each byte about once (${counted.bytesRead} of ${bytes.length})`,
    );
  }
});

test('files without labels: one round as well (their window count is in the head)', async () => {
  const bytes = eegNpz({ windows: 30, channels: 4, samples: 4096, compress: true });
  const source = roundTripSource(bytes);
  const summary = await summarizeNpz(source);
  assert.equal(summary.hasLabels, false);
  assert.equal(summary.windowCount, 30);
  assert.equal(source.rounds, 1);
});

const numpy = pythonWith('numpy');

test(
  'numpy-written caches: one round when labels fit the tail, two when not; positives equal numpy',
  { skip: !numpy && 'python3 with numpy not found' },
  async () => {
    const dir = tempDir();
    const expected = runPython<Record<string, number[]>>(
      numpy!,
      `
import json, sys, numpy as np
rng = np.random.default_rng(5)
out = {}
for name, noisy in [("runs", False), ("noise", True)]:
    n = 50
    if noisy:
        labels = (rng.random((n, 4096)) < 0.5).astype(np.float32)
    else:
        labels = np.zeros((n, 15360), np.float32)
        for w in range(0, n, 3): labels[w, int(rng.integers(0, 15000)):] = 1
    windows = rng.standard_normal((n, 19, 256)).astype(np.float32)
    np.savez_compressed(f"{sys.argv[1]}/{name}_windows.npz", windows=windows, labels=labels)
    out[name] = [int((labels[w] > 0).sum()) for w in range(n)]
print(json.dumps(out))
`,
      [dir],
    );
    for (const [name, positives] of Object.entries(expected)) {
      const bytes = readFileSync(path.join(dir, `${name}_windows.npz`));
      const source = roundTripSource(bytes);
      const summary = await summarizeNpz(source);
      assert.deepEqual(summary.positives, positives, name);
      const member = await labelsMemberBytes(bytes);
      if (member + 600 <= TAIL_READ) assert.equal(source.rounds, 1, name);
      else assert.equal(source.rounds, 2, name);
      assert.ok(
        source.bytesRead <= member + SPECULATIVE,
        `${name}: ${source.bytesRead} bytes for a ${member}-byte member`,
      );
    }
  },
);

/** In-memory files behind the pool's `open`, with reads held until the test lets them go. */
class HeldFiles {
  readonly files = new Map<string, Uint8Array>();
  private held: (() => void)[] = [];
  private arrivals: (() => void)[] = [];
  inFlight = 0;
  peak = 0;

  open = async (file: string, size?: number): Promise<FileSource> => {
    const bytes = this.files.get(file);
    if (!bytes) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
    let reads = 0;
    let bytesRead = 0;
    return {
      size: size ?? bytes.length,
      get reads() {
        return reads;
      },
      get bytesRead() {
        return bytesRead;
      },
      read: (offset, length) => {
        reads++;
        this.peak = Math.max(this.peak, ++this.inFlight);
        return new Promise((resolve) => {
          this.held.push(() => {
            this.inFlight--;
            const out = new Uint8Array(bytes.subarray(offset, Math.min(bytes.length, offset + length))); // a copy, as a real read
            bytesRead += out.length;
            resolve(out);
          });
          this.arrivals.splice(0).forEach((wake) => wake());
        });
      },
      stamp: async () => ({ size: bytes.length, mtimeMs: 0 }),
      close: async () => undefined,
    };
  };

  get waiting(): number {
    return this.held.length;
  }

  /** Resolves when a read is waiting. */
  nextRead(): Promise<void> {
    return this.held.length ? Promise.resolve() : new Promise((wake) => this.arrivals.push(wake));
  }

  releaseAll(): void {
    this.held.splice(0).forEach((answer) => answer());
  }
}

/** Lets queued callbacks run until `ready()` holds (bounded in steps of the event loop, not in time). */
async function settle(ready: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !ready(); i++) await new Promise((resolve) => setImmediate(resolve));
}

test('the pool reads many files at once, more than it has threads, and never more than readsInFlight', async () => {
  const held = new HeldFiles();
  const names = Array.from({ length: 20 }, (_, i) => `/cache/f${i}_windows.npz`);
  names.forEach((name, i) =>
    held.files.set(
      name,
      eegNpz({ windows: 5, channels: 2, samples: 512, labels: runLabels(5, 512, i), compress: true }),
    ),
  );
  const pool = new WorkerPool(1, { readsInFlight: 8, open: held.open });
  try {
    const results = Promise.all(names.map((name) => pool.npz(name)));
    // Each file needs one read; with reads held, exactly min(8, files left) are in flight.
    for (let left = names.length; left > 0; left -= Math.min(8, left)) {
      await settle(() => held.waiting === Math.min(8, left));
      assert.equal(held.waiting, Math.min(8, left));
      held.releaseAll();
    }
    const out = await results;
    assert.equal(held.peak, 8, 'eight files in flight with one worker thread');
    assert.equal(pool.files.peak, 8);
    assert.equal(pool.readRequests, names.length, 'one read per file');
    for (const [i, result] of out.entries()) {
      const expected = await summarizeNpz(memorySource(held.files.get(names[i])!));
      assert.deepEqual(result.ok && result.value.positives, expected.positives, names[i]);
    }
  } finally {
    await pool.close();
  }
});

test('bytes in flight stay within the byte budget however many files are in flight', async () => {
  const held = new HeldFiles();
  const names = Array.from({ length: 6 }, (_, i) => `/cache/n${i}_windows.npz`);
  names.forEach((name) =>
    held.files.set(
      name,
      eegNpz({ windows: 20, channels: 2, samples: 4096, labels: noisyLabels(20, 4096), compress: true }),
    ),
  );
  const member = await labelsMemberBytes(held.files.get(names[0])!);
  assert.ok(member > 3 * TAIL_READ);
  // Room for two members' reads beyond the tail at a time, not three.
  const budget = 2 * member;
  const pool = new WorkerPool(1, { readsInFlight: 6, bytesInFlight: budget, open: held.open });
  try {
    const results = Promise.all(names.map((name) => pool.npz(name)));
    let finished = false;
    void results.then(() => (finished = true));
    while (!finished) {
      await Promise.race([held.nextRead(), results]);
      held.releaseAll();
    }
    assert.ok((await results).every((r) => r.ok));
    assert.equal(held.peak, 2 * names.length, 'every head and tail read was in flight at once');
    assert.ok(pool.bytes.peak > member && pool.bytes.peak <= budget, `peak ${pool.bytes.peak} of ${budget}`);
  } finally {
    await pool.close();
  }
});

test('a build reads each file once; a re-check of the unchanged cache opens none', async () => {
  const dir = tempDir();
  for (let i = 0; i < 12; i++)
    writeFileSync(
      path.join(dir, `s${i}_windows.npz`),
      eegNpz({ windows: 4, channels: 2, samples: 256, labels: runLabels(4, 256, i), compress: true }),
    );
  const storeDir = tempDir();
  const run = async <T>(use: (inspector: CacheInspector, opens: () => number) => Promise<T>): Promise<T> => {
    let opens = 0;
    const { openFileSource } = await import('../../server/src/workers/fileSource');
    const pool = new WorkerPool(1, { open: (file, size) => (opens++, openFileSource(file, size)) });
    const store = FingerprintStore.inDirectory(storeDir);
    await store.load();
    try {
      return await use(new CacheInspector(pool, store), () => opens);
    } finally {
      await store.save();
      await pool.close();
    }
  };
  await run(async (inspector, opens) => {
    await buildManifestFile(dir, inspector);
    assert.equal(opens(), 12);
    assert.equal(inspector.pool.readRequests, 12, 'one read per file');
  });
  const manifest = path.join(dir, 'manifest.json');
  await run(async (inspector, opens) => {
    const analysis = await analyzeDocument(manifest, readFileSync(manifest, 'utf8'), inspector, {
      content: true,
      cwd: dir,
    });
    assert.equal(analysis.kind, 'seizure-manifest');
    assert.equal(opens(), 0, 'answered from fingerprints (one stat per file, no reads)');
    assert.equal(inspector.pool.bytesRead, 0);
  });
});

test("the editor setting neurocache.io.readsInFlight has the CLI flag's maximum", () => {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8'));
  assert.equal(pkg.contributes.configuration.properties['neurocache.io.readsInFlight'].maximum, MAX_READS_IN_FLIGHT);
});

test('JSON files read by side-by-side chunks come back byte for byte', async () => {
  const dir = tempDir();
  for (const size of [0, 1, 128 << 10, (128 << 10) + 1, (5 << 20) + 7]) {
    const file = path.join(dir, `f${size}`);
    const bytes = randomBytes(size);
    writeFileSync(file, bytes);
    assert.ok((await readRegularBytes(file)).equals(bytes), `${size} bytes`);
  }
});

test('a file that changed while it was read (its stamp after the read differs) is not remembered', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'a_windows.npz');
  writeFileSync(file, eegNpz({ windows: 3, channels: 2, samples: 256, labels: runLabels(3, 256, 1), compress: true }));
  const { openFileSource } = await import('../../server/src/workers/fileSource');
  let opens = 0;
  let changing = true;
  const pool = new WorkerPool(1, {
    open: async (name, size) => {
      opens++;
      const source = await openFileSource(name, size);
      // As if the file were rewritten during the read: the stamp after it shows a new mtime.
      const stamp = () => source.stamp().then((s) => (changing ? { ...s, mtimeMs: s.mtimeMs + 1000 } : s));
      return Object.assign(Object.create(source), { stamp, read: source.read, close: source.close });
    },
  });
  const inspector = new CacheInspector(pool, new FingerprintStore());
  try {
    assert.ok((await inspector.npz(file, true)).summary);
    assert.ok((await inspector.npz(file, true)).summary);
    assert.equal(opens, 2, 'read again: the first result was not remembered');
    changing = false;
    await inspector.npz(file, true);
    await inspector.npz(file, true);
    assert.equal(opens, 3, 'remembered once the file held still');
  } finally {
    await pool.close();
  }
});

test('--reads-in-flight takes a whole number within the bound; a build with one file in flight writes the same manifest', async () => {
  const { spawnSync } = await import('node:child_process');
  const { cliPath } = await import('../support/python');
  const dir = tempDir();
  for (let i = 0; i < 5; i++)
    writeFileSync(
      path.join(dir, `s${i}_windows.npz`),
      eegNpz({ windows: 3, channels: 2, samples: 256, labels: runLabels(3, 256, i), compress: true }),
    );
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [cliPath(), 'manifest', 'build', dir, '--cache-dir', tempDir(), ...args], {
      encoding: 'utf8',
    });
  for (const bad of ['0', '2.5', String(MAX_READS_IN_FLIGHT + 1)]) {
    const refused = run('--reads-in-flight', bad);
    assert.equal(refused.status, 2, bad);
    assert.match(refused.stderr, /--reads-in-flight takes a whole number/);
  }
  assert.equal(run('--reads-in-flight', '64').status, 0);
  const many = readFileSync(path.join(dir, 'manifest.json'), 'utf8');
  assert.equal(run('--reads-in-flight', '1').status, 0);
  assert.equal(readFileSync(path.join(dir, 'manifest.json'), 'utf8'), many);
});
