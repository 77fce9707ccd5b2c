/**
 * The request chain on network storage, counted (never timed): every file-system request the
 * build and the re-check make goes through a layer that answers them in rounds, as a
 * high-latency volume would (all requests issued before a round closes are answered together;
 * requests issued meanwhile wait for the next round). `rounds` is then the number of serial round
 * trips, and the log says which request each file got, in order.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { analyzeDocument } from '../../server/src/service/analyze';
import { buildManifestFile } from '../../server/src/service/buildManifest';
import { FingerprintStore } from '../../server/src/service/fingerprints';
import { readRegularBytes } from '../../server/src/service/regularFile';
import { decodedJson, readJsonFile } from '../../server/src/service/readJson';
import { main as buildMain } from '../../server/src/cli/buildMain';
import { startCheckReads } from '../../server/src/cli/earlyReads';
import { ProjectConfigs } from '../../server/src/service/projectConfig';
import { PROJECT_FILE } from '../../server/src/service/projectFile';
import { CacheInspector } from '../../server/src/service/inspector';
import { WorkerPool } from '../../server/src/workers/pool';
import { eegNpz } from '../writers/npz';
import { tempDir } from '../support/python';

interface Request {
  round: number;
  op: string;
  file: string;
}

/** Installs the round-answering layer over node:fs's promise API and file handles; `restore` removes it. */
async function roundLayer() {
  const log: Request[] = [];
  let rounds = 0;
  let queue: (() => Promise<unknown>)[] = [];
  let running = false;
  const schedule = () => {
    if (running || queue.length === 0) return;
    running = true;
    setImmediate(async () => {
      const round = queue;
      queue = [];
      rounds++;
      await Promise.all(round.map((start) => start()));
      running = false;
      schedule();
    });
  };
  const counted = <A extends unknown[], R>(
    op: string,
    original: (...args: A) => Promise<R>,
    file: (...args: A) => string,
  ) =>
    function (this: unknown, ...args: A): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        queue.push(() => {
          log.push({ round: rounds, op, file: file.apply(this, args) });
          return original.apply(this, args).then(resolve, reject);
        });
        schedule();
      });
    };
  const promises = fs.promises as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const saved = new Map<string, unknown>();
  const byPath = (target: unknown) => path.resolve(String(target));
  for (const op of ['open', 'stat', 'lstat', 'readdir', 'realpath', 'rename', 'rm', 'readlink']) {
    saved.set(op, promises[op]);
    promises[op] = counted(op, promises[op], byPath);
  }
  const probe = await fs.promises.open(__filename);
  const handleProto = Object.getPrototypeOf(probe) as Record<string, (...args: unknown[]) => Promise<unknown>>;
  await probe.close();
  const handlePaths = new WeakMap<object, string>();
  const openCounted = promises.open;
  promises.open = async (...args: unknown[]) => {
    const handle = (await openCounted(...args)) as object;
    handlePaths.set(handle, byPath(args[0]));
    return handle;
  };
  const handleOps = ['stat', 'read', 'writeFile', 'sync', 'chmod'];
  log.length = 0; // the probe's open
  rounds = 0;
  for (const op of handleOps) {
    saved.set(`handle.${op}`, handleProto[op]);
    handleProto[op] = counted(`f${op}`, handleProto[op], function (this: unknown) {
      return handlePaths.get(this as object) ?? '?';
    });
  }
  return {
    log,
    get rounds() {
      return rounds;
    },
    restore() {
      for (const op of ['open', 'stat', 'lstat', 'readdir', 'realpath', 'rename', 'rm', 'readlink'])
        promises[op] = saved.get(op) as (...args: unknown[]) => Promise<unknown>;
      for (const op of handleOps)
        handleProto[op] = saved.get(`handle.${op}`) as (...args: unknown[]) => Promise<unknown>;
    },
  };
}

/** The log as [round, op, file name] triples, for a failure message. */
const described = (layer: { log: Request[] }) =>
  JSON.stringify(layer.log.map((r) => [r.round, r.op, path.basename(r.file)]));

const FILES = 12;

function cacheFolder(): string {
  const dir = tempDir();
  for (let i = 0; i < FILES; i++)
    fs.writeFileSync(
      path.join(dir, `s${String(i).padStart(2, '0')}_windows.npz`),
      eegNpz({
        windows: 4,
        channels: 2,
        samples: 256,
        labels: new Float32Array(1024).fill(1, 0, 100 * i),
        compress: true,
      }),
    );
  return dir;
}

test('a build opens each cache file without a stat before it: open and stat side by side, one round of reads, fstat; the whole build in a bounded number of rounds', async () => {
  const dir = cacheFolder();
  const pool = new WorkerPool(1, { readsInFlight: FILES });
  const layer = await roundLayer();
  try {
    const result = await buildManifestFile(dir, new CacheInspector(pool, new FingerprintStore()));
    const rounds = layer.rounds;
    layer.restore();
    assert.equal(result.files, FILES);
    for (let i = 0; i < FILES; i++) {
      const file = path.join(dir, `s${String(i).padStart(2, '0')}_windows.npz`);
      const requests = layer.log.filter((r) => r.file === file);
      const ops = requests.map((r) => r.op);
      const named = `${path.basename(file)}: ${ops.join(', ')}`;
      // A path stat (a lookup and a getattr on network storage) before the open is a round trip
      // wasted; one alongside it gives the size the reads need.
      assert.equal(ops[0], 'open', named);
      const open = requests[0];
      assert.ok(
        requests.every((r) => r.round >= open.round),
        `nothing before the open: ${named}`,
      );
      assert.deepEqual(
        requests.filter((r) => r.op === 'stat' || r.op === 'lstat').map((r) => r.round),
        [open.round],
        `one path stat, alongside the open: ${named}`,
      );
      assert.deepEqual(
        ops.filter((op) => op !== 'fread'),
        ['open', 'stat', 'fstat'],
        named,
      );
      // Its reads (the whole small file, or head and tail) in one round, then the fstat that
      // tells a file changed while read: three serial round trips per file.
      const reads = requests.filter((r) => r.op === 'fread');
      assert.ok(reads.length >= 1, named);
      assert.equal(new Set(reads.map((r) => r.round)).size, 1, `reads side by side: ${named}`);
      assert.equal(new Set(requests.map((r) => r.round)).size, 3, named);
    }
    // Every file side by side: the files' requests share their rounds.
    const fileRounds = new Set(layer.log.filter((r) => r.file.endsWith('.npz')).map((r) => r.round));
    assert.equal(fileRounds.size, 3, `files' rounds: ${[...fileRounds].join(', ')}`);
    // The write is made ready while the files are read: its realpath (judged again when writing),
    // the manifest's lstat with the temp file's open, all within the files' rounds.
    const last = Math.max(...fileRounds);
    for (const op of ['lstat', 'open'])
      assert.ok(
        layer.log.some((r) => r.op === op && !r.file.endsWith('.npz') && r.round < last),
        `${op} of the write within the files' rounds`,
      );
    // The listing with the folder's realpath 1, the files 3, then the write 4: the content, sync,
    // fstat with the realpath and the lstats of the temp file and the manifest, rename. Old temp
    // files are tidied from the build's own listing.
    assert.equal(layer.log.filter((r) => r.op === 'readdir').length, 1, 'one listing');
    assert.ok(rounds <= 8, `${rounds} rounds: ${described(layer)}`);
  } finally {
    layer.restore();
    await pool.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A cache folder built once, its fingerprint store saved: what a re-check starts from. */
async function builtCache() {
  const dir = cacheFolder();
  const storeDir = tempDir();
  const pool = new WorkerPool(1, { readsInFlight: FILES });
  const store = FingerprintStore.inDirectory(storeDir);
  await buildManifestFile(dir, new CacheInspector(pool, store));
  await store.save();
  return {
    dir,
    pool,
    manifest: path.join(dir, 'manifest.json'),
    storeDir,
    warm: FingerprintStore.inDirectory(storeDir),
    async close() {
      await pool.close();
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

test('a re-check of an unchanged cache: its folder listed and every file stat-ed side by side with the manifest read, nothing opened', async () => {
  const { dir, pool, manifest, warm, close } = await builtCache();
  try {
    const layer = await roundLayer();
    let rounds: number;
    try {
      const readBefore = pool.bytesRead;
      const inspector = new CacheInspector(pool, warm, warm.load());
      inspector.prefetchNpzStats(dir);
      const text = await fs.promises.readFile(manifest, 'utf8');
      const analysis = await analyzeDocument(manifest, text, inspector, { content: true, cwd: dir });
      rounds = layer.rounds;
      assert.equal(analysis.kind, 'seizure-manifest');
      assert.equal(inspector.pool.bytesRead - readBefore, 0);
    } finally {
      layer.restore();
    }
    const npz = layer.log.filter((r) => r.file.endsWith('.npz'));
    assert.deepEqual([...new Set(npz.map((r) => r.op))], ['stat'], 'stats only: no open, no read');
    assert.equal(npz.length, FILES, 'one stat per file');
    assert.equal(layer.log.filter((r) => r.op === 'readdir').length, 1, 'one listing');
    // The store's load goes through the same layer here (open and stat, then fstat and read): the
    // listing comes first, then every stat in one round, two rounds however many files.
    assert.deepEqual([...new Set(npz.map((r) => r.round))], [2]);
    assert.ok(rounds <= 2, `${rounds} rounds: ${described(layer)}`);
  } finally {
    await close();
  }
});

test('a re-check with its fingerprint store loaded: the listing and the manifest opened, then the stats and the manifest read, two rounds in all', async () => {
  const { dir, pool, manifest, warm, close } = await builtCache();
  try {
    // Loaded before the layer goes in: a store on local disk loads in a fraction of one network round trip.
    await warm.load();
    const layer = await roundLayer();
    let rounds: number;
    try {
      const inspector = new CacheInspector(pool, warm);
      inspector.prefetchNpzStats(dir);
      const text = (await readRegularBytes(manifest)).toString('utf8');
      const analysis = await analyzeDocument(manifest, text, inspector, { content: true, cwd: dir });
      rounds = layer.rounds;
      assert.equal(analysis.kind, 'seizure-manifest');
    } finally {
      layer.restore();
    }
    const npz = layer.log.filter((r) => r.file.endsWith('.npz'));
    assert.equal(npz.length, FILES, 'one stat per file');
    // The stats in the round after the listing, with the manifest's reads.
    assert.deepEqual([...new Set(npz.map((r) => `${r.round} ${r.op}`))], ['2 stat']);
    assert.deepEqual(
      layer.log.filter((r) => r.file === manifest).map((r) => `${r.round} ${r.op}`),
      ['1 stat', '1 open', '2 fstat', '2 fread', '2 fread'],
      'the manifest: open and stat, then its reads with the fstat',
    );
    assert.ok(rounds <= 2, `${rounds} rounds: ${described(layer)}`);
  } finally {
    await close();
  }
});

test('looking for project files up the tree: one open per folder, no stat beside it (a missing name is one lookup)', async () => {
  const root = tempDir();
  const inner = path.join(root, 'a', 'b');
  fs.mkdirSync(inner, { recursive: true });
  fs.writeFileSync(path.join(root, PROJECT_FILE), '{"diagnostics": {"severity": {"legacy-path": "error"}}}');
  const layer = await roundLayer();
  let found;
  try {
    found = await new ProjectConfigs().for(path.join(inner, 'manifest.json'), root);
  } finally {
    layer.restore();
  }
  assert.equal(found.file, path.join(root, PROJECT_FILE));
  assert.deepEqual(found.problems, []);
  assert.equal(found.severity['legacy-path'], 'error');
  assert.deepEqual(
    layer.log.map((r) => `${r.op} ${path.relative(root, r.file)}`),
    [
      `open ${path.join('a', 'b', PROJECT_FILE)}`,
      `open ${path.join('a', PROJECT_FILE)}`,
      `open ${PROJECT_FILE}`,
      `fstat ${PROJECT_FILE}`,
      `fread ${PROJECT_FILE}`,
      `fread ${PROJECT_FILE}`,
    ],
  );
});

test("a CLI build looks for project files in every folder above the cache folder at once (its own from its listing), and saves its fingerprints beside the manifest's write", async () => {
  const dir = cacheFolder();
  const deep = path.join(dir, 'a', 'b', 'eeg');
  fs.mkdirSync(deep, { recursive: true });
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.npz')))
    fs.renameSync(path.join(dir, name), path.join(deep, name));
  // Two levels up: its exclusion applies to the build below it.
  fs.writeFileSync(
    path.join(dir, 'a', PROJECT_FILE),
    JSON.stringify({ build: { exclude: ['b/eeg/s00_windows.npz'] } }),
  );
  const storeDir = tempDir();
  const output: string[] = [];
  const io = { stdout: { write: (s: string) => output.push(s) }, stderr: { write: (s: string) => output.push(s) } };
  const layer = await roundLayer();
  let code;
  try {
    code = await buildMain(['manifest', 'build', deep, '--cache-dir', storeDir, '--json'], io as never);
  } finally {
    layer.restore();
    fs.rmSync(storeDir, { recursive: true, force: true });
  }
  try {
    assert.equal(code, 0, output.join(''));
    const result = JSON.parse(output.join(''));
    assert.equal(result.files, FILES - 1, 'the exclusion two folders up applied');
    const lookups = layer.log.filter((r) => path.basename(r.file) === PROJECT_FILE && r.op === 'open');
    const folders = lookups.map((r) => path.dirname(r.file));
    const above: string[] = [];
    for (let d = path.dirname(deep); ; d = path.dirname(d)) {
      above.push(d);
      if (path.dirname(d) === d) break;
    }
    assert.deepEqual(
      folders.sort(),
      above.sort(),
      `every folder above, the cache folder from its listing: ${described(layer)}`,
    );
    assert.equal(new Set(lookups.map((r) => r.round)).size, 1, `in one round: ${described(layer)}`);
    // The fingerprints are saved once everything is counted, beside the manifest's write, not after it.
    const round = (test: (r: Request) => boolean) => layer.log.find(test)?.round ?? NaN;
    const manifestRename = round((r) => r.op === 'rename' && path.basename(r.file).startsWith('.manifest.json'));
    const storeOpen = round((r) => r.op === 'open' && r.file.startsWith(storeDir) && r.file.endsWith('.tmp'));
    assert.ok(
      storeOpen < manifestRename,
      `store written from round ${storeOpen}, manifest renamed in ${manifestRename}`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a JSON file read with the stat its caller made: that stat is the one beside the open, no second lookup of the name', async () => {
  const { manifest, close } = await builtCache();
  try {
    const layer = await roundLayer();
    let read;
    try {
      const stat = fs.promises.stat(manifest);
      read = await readJsonFile(manifest, { statted: stat });
      assert.ok((await stat).isFile());
    } finally {
      layer.restore();
    }
    assert.equal(read.text, fs.readFileSync(manifest, 'utf8'));
    assert.deepEqual(
      layer.log.map((r) => `${r.round} ${r.op}`),
      ['1 stat', '1 open', '2 fstat', '2 fread', '2 fread'],
      described(layer),
    );
  } finally {
    await close();
  }
});

test("a check's reads started before the CLI proper loads (earlyReads.ts): used as they are, nothing asked twice, the same findings", async () => {
  const { dir, pool, manifest, storeDir, close } = await builtCache();
  const argv = [manifest, '--cache-dir', storeDir, '--json'];
  /** `check`'s start as main.ts makes it, from the early reads or from its own. */
  const checked = async (early: boolean) => {
    const store = FingerprintStore.inDirectory(storeDir);
    await store.load(); // local disk: a fraction of one network round trip
    const layer = await roundLayer();
    try {
      const started = early ? startCheckReads(argv) : undefined;
      const inspector = new CacheInspector(pool, store);
      inspector.prefetchNpzStats(dir, started?.folders.get(dir));
      const file = started?.files.get(manifest);
      const stat = file?.stat ?? fs.promises.stat(manifest);
      const project = new ProjectConfigs(started?.projectFiles).for(manifest, dir);
      const { text } = await (file ? decodedJson(file.bytes) : readJsonFile(manifest, { statted: stat }));
      assert.ok((await stat).isFile());
      assert.equal((await project).file, undefined);
      const analysis = await analyzeDocument(manifest, text, inspector, { content: true, cwd: dir });
      return { analysis, rounds: layer.rounds, layer };
    } finally {
      layer.restore();
    }
  };
  try {
    const own = await checked(false);
    const early = await checked(true);
    assert.deepEqual(early.analysis.diagnostics, own.analysis.diagnostics);
    assert.equal(early.analysis.kind, 'seizure-manifest');
    for (const run of [own, early]) {
      const ops = (file: string) => run.layer.log.filter((r) => r.file === file).map((r) => `${r.round} ${r.op}`);
      assert.deepEqual(ops(manifest), ['1 stat', '1 open', '2 fstat', '2 fread', '2 fread'], described(run.layer));
      assert.deepEqual(ops(dir), ['1 readdir'], described(run.layer));
      // The early reads answer the listed folder's project file from its listing (on FUSE a
      // missing name's lookup holds the folder's lock, which the listing waits for) and look in
      // the folders above it at once, in round 1.
      assert.deepEqual(ops(path.join(dir, PROJECT_FILE)), run === own ? ['1 open'] : [], described(run.layer));
      if (run === early)
        assert.deepEqual(
          [
            ...new Set(
              run.layer.log.filter((r) => path.basename(r.file) === PROJECT_FILE).map((r) => `${r.round} ${r.op}`),
            ),
          ],
          ['1 open'],
          described(run.layer),
        );
      const npz = run.layer.log.filter((r) => r.file.endsWith('.npz'));
      assert.equal(npz.length, FILES, `one stat per file: ${described(run.layer)}`);
      assert.deepEqual([...new Set(npz.map((r) => `${r.round} ${r.op}`))], ['2 stat']);
      assert.ok(run.rounds <= 2, `${run.rounds} rounds: ${described(run.layer)}`);
    }
  } finally {
    await close();
  }
});

test('the early reads find a project file in the listed folder, the one above when there is none, and read a name that could be it on a case-insensitive volume', async () => {
  const root = tempDir();
  const dir = path.join(root, 'eeg');
  fs.mkdirSync(dir);
  const manifest = path.join(dir, 'manifest.json');
  fs.writeFileSync(manifest, '[]');
  const severity = (level: string) => JSON.stringify({ diagnostics: { severity: { 'legacy-path': level } } });
  fs.writeFileSync(path.join(root, PROJECT_FILE), severity('error'));
  const found = async () => {
    const layer = await roundLayer();
    try {
      const started = startCheckReads([manifest]);
      const config = await new ProjectConfigs(started.projectFiles).for(manifest, root);
      await started.files.get(manifest)!.bytes;
      return { config, opens: layer.log.filter((r) => r.file === path.join(dir, PROJECT_FILE) && r.op === 'open') };
    } finally {
      layer.restore();
    }
  };
  try {
    const above = await found();
    assert.equal(above.config.file, path.join(root, PROJECT_FILE));
    assert.equal(above.config.severity['legacy-path'], 'error');
    assert.equal(above.opens.length, 0, 'none listed in eeg/: not looked up there');
    // Another case of the name: opened by its own name, as before (ENOENT on a case-sensitive volume).
    fs.writeFileSync(path.join(dir, PROJECT_FILE.toUpperCase()), severity('hint'));
    const otherCase = await found();
    assert.equal(otherCase.opens.length, 1);
    assert.equal(
      otherCase.config.file,
      fs.existsSync(path.join(dir, PROJECT_FILE)) ? path.join(dir, PROJECT_FILE) : path.join(root, PROJECT_FILE),
    );
    fs.rmSync(path.join(dir, PROJECT_FILE.toUpperCase()));
    fs.writeFileSync(path.join(dir, PROJECT_FILE), severity('warning'));
    const nearest = await found();
    assert.equal(nearest.config.file, path.join(dir, PROJECT_FILE));
    assert.equal(nearest.config.severity['legacy-path'], 'warning');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
