/**
 * The fingerprint store stays bounded (issue 10 item 7): per-window results are kept compactly,
 * a result over the record bound is not kept, the oldest files go beyond the total bound, and
 * a damaged, foreign, oversized or non-regular store file is ignored without being loaded.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { FingerprintStore, MAX_RECORD_BYTES, MAX_STORE_BYTES } from '../../server/src/service/fingerprints';
import { tempDir } from '../support/python';

const noFifo = spawnSync('mkfifo', ['--version'], { stdio: 'ignore' }).status !== 0 && 'mkfifo not available';
const stat = (size: number, mtimeMs = 1000) => ({ size, mtimeMs }) as import('node:fs').Stats;

function summary(positives: number[]) {
  return {
    ok: true,
    value: { windowCount: positives.length, hasLabels: true, positives, samplesPerWindow: 15360, notes: [] },
  };
}

test('per-window positives round-trip through a save, folded where they repeat', async () => {
  const dir = tempDir();
  const store = FingerprintStore.inDirectory(dir);
  const quiet = summary(new Array(600).fill(0));
  const mixed = summary(Array.from({ length: 600 }, (_, w) => (w % 7 === 0 ? 15360 : w % 5 === 0 ? w : 0)));
  const distinct = summary(Array.from({ length: 40 }, (_, w) => w * 3));
  store.set('/c/quiet.npz', stat(1), 'npz', quiet);
  store.set('/c/mixed.npz', stat(2), 'npz', mixed);
  store.set('/c/distinct.npz', stat(3), 'npz', distinct);
  await store.save();
  const saved = readFileSync(store.file!, 'utf8');
  assert.ok(saved.length < 4000, `${saved.length} bytes`);
  assert.ok(Math.abs(saved.length - store.sizeInBytes) < 400, `estimate ${store.sizeInBytes} vs ${saved.length}`);
  const again = FingerprintStore.inDirectory(dir);
  await again.load();
  assert.deepEqual(again.get('/c/quiet.npz', stat(1), 'npz'), quiet);
  assert.deepEqual(again.get('/c/mixed.npz', stat(2), 'npz'), mixed);
  assert.deepEqual(again.get('/c/distinct.npz', stat(3), 'npz'), distinct);
  assert.equal(again.get('/c/quiet.npz', stat(1, 2000), 'npz'), undefined, 'a new mtime misses');
});

test('saves asked for while one is under way follow it: a record set while one writes is saved by the next, nothing written twice', async () => {
  const dir = tempDir();
  const store = FingerprintStore.inDirectory(dir);
  store.set('/c/a.npz', stat(1), 'npz', summary([0, 15360]));
  // The first temp file's open held until released: that save has taken its snapshot by then.
  const promises = fs.promises as unknown as { open: (...args: unknown[]) => Promise<unknown> };
  const open = promises.open;
  let release = () => {};
  let opened = () => {};
  const held = new Promise<void>((resolve) => (opened = resolve));
  let opens = 0;
  promises.open = (...args) => {
    if (!String(args[0]).endsWith('.tmp') || opens++ > 0) return open(...args);
    opened();
    return new Promise<void>((resolve) => (release = resolve)).then(() => open(...args));
  };
  try {
    const first = store.save();
    await held;
    store.set('/c/b.npz', stat(2), 'npz', summary([1])); // after the first's snapshot
    const second = store.save();
    const third = store.save(); // asked for before the second started: the same save
    release();
    assert.equal(third, second);
    await Promise.all([first, second, third]);
    assert.equal(opens, 2, 'the first and the second wrote, the third did not');
    const again = FingerprintStore.inDirectory(dir);
    await again.load();
    assert.deepEqual(again.get('/c/a.npz', stat(1), 'npz'), summary([0, 15360]));
    assert.deepEqual(again.get('/c/b.npz', stat(2), 'npz'), summary([1]), 'b, set while the first wrote, saved');
  } finally {
    promises.open = open;
  }
});

test('a store larger than a piece of its text is saved piece by piece as the same JSON, and loads back', async () => {
  const dir = tempDir();
  const store = FingerprintStore.inDirectory(dir);
  const files = 6000; // ~2.4 MB of JSON: three pieces
  const value = (i: number) => summary(Array.from({ length: 40 }, (_, w) => (w * 7919 + i) % 15361));
  for (let i = 0; i < files; i++) store.set(`/c/s${i}_windows.npz`, stat(i + 1), 'npz', value(i));
  await store.save();
  const text = readFileSync(store.file!, 'utf8');
  assert.ok(text.length > 2 << 20, `${text.length} characters`);
  // Exactly what JSON.stringify writes for the parsed object: no whitespace, no key twice, in order.
  const parsed = JSON.parse(text) as { format: number; records: Record<string, unknown[]> };
  assert.equal(JSON.stringify(parsed), text);
  assert.equal(Object.keys(parsed.records).length, files);
  const again = FingerprintStore.inDirectory(dir);
  await again.load();
  for (const i of [0, 1, 2999, files - 1])
    assert.deepEqual(again.get(`/c/s${i}_windows.npz`, stat(i + 1), 'npz'), value(i));
});

test('a result over the record bound is not kept; beyond the total bound the oldest files go', () => {
  assert.ok(MAX_RECORD_BYTES * 64 <= MAX_STORE_BYTES, 'many large records fit in the store');
  const store = new FingerprintStore(undefined, { recordBytes: 1000, storeBytes: 10_000 });
  const big = summary(Array.from({ length: 500 }, (_, w) => w));
  store.set('/c/big.npz', stat(1), 'npz', big);
  assert.equal(store.get('/c/big.npz', stat(1), 'npz'), undefined);
  assert.equal(store.sizeInBytes, 0);
  for (let i = 0; i < 100; i++) store.set(`/c/f${i}.npz`, stat(i), 'npz', summary([i, i + 1, 0]));
  assert.ok(store.sizeInBytes <= 10_000, `${store.sizeInBytes}`);
  assert.equal(store.get('/c/f0.npz', stat(0), 'npz'), undefined, 'the oldest went first');
  assert.deepEqual(store.get('/c/f99.npz', stat(99), 'npz'), summary([99, 100, 0]));
  // A new kind for a file makes it the newest.
  const kept = Array.from({ length: 100 }, (_, i) => i).filter((i) => store.get(`/c/f${i}.npz`, stat(i), 'npz'));
  store.set(`/c/f${kept[0]}.npz`, stat(kept[0]), 'nifti-header', { ok: false, error: 'x' });
  for (let i = 100; i < 100 + kept.length - 1; i++) store.set(`/c/f${i}.npz`, stat(i), 'npz', summary([i, 0, 0]));
  assert.deepEqual(store.get(`/c/f${kept[0]}.npz`, stat(kept[0]), 'npz'), summary([kept[0], kept[0] + 1, 0]));
});

test('damaged, foreign and oversized store files are ignored, never loaded into memory', async () => {
  const write = (text: string) => {
    const dir = tempDir();
    const store = FingerprintStore.inDirectory(dir);
    writeFileSync(store.file!, text);
    return store;
  };
  for (const text of [
    '',
    '{"format": 2, "records": ',
    'null',
    '{"format": 1, "records": {"/a": []}}',
    '{"format": 2, "records": [1, 2]}',
  ]) {
    const store = write(text);
    await store.load();
    assert.equal(store.sizeInBytes, 0, text);
  }
  // Bad records are dropped one by one; good ones stay.
  const mixed = write(
    JSON.stringify({
      format: 2,
      records: {
        '/a.npz': [
          { size: 1, mtimeMs: 1000, kind: 'npz', value: '{"ok":true,"value":3}' },
          { size: 'x', kind: 'npz', value: '1' },
        ],
        '/b.npz': 'nope',
        '/c.npz': [{ size: 1, mtimeMs: 1000, kind: 'npz', value: '{"ok":true,"value":{"$runs":[0,1000000000000]}}' }],
        '/d.npz': [{ size: 1, mtimeMs: 1000, kind: 'npz', value: '{"ok":tr' }],
      },
    }),
  );
  await mixed.load();
  assert.deepEqual(mixed.get('/a.npz', stat(1), 'npz'), { ok: true, value: 3 });
  const before = process.memoryUsage().heapUsed;
  assert.equal(mixed.get('/c.npz', stat(1), 'npz'), undefined, 'a run claiming 10^12 numbers is refused');
  assert.ok(process.memoryUsage().heapUsed - before < 256 << 20);
  assert.equal(mixed.get('/d.npz', stat(1), 'npz'), undefined);
  // An oversized store (sparse: no disk used) is not read at all.
  const huge = write('{"format": 2, "records": {');
  truncateSync(huge.file!, MAX_STORE_BYTES * 2);
  const rss = process.memoryUsage().rss;
  await huge.load();
  assert.equal(huge.sizeInBytes, 0);
  assert.ok(process.memoryUsage().rss - rss < 64 << 20);
  // Saving replaces it with a bounded one.
  huge.set('/e.npz', stat(1), 'npz', summary([0, 0, 1]));
  await huge.save();
  assert.ok(statSync(huge.file!).size < 1000);
});

test('a FIFO in place of the store file is ignored, not waited on', { skip: noFifo }, async () => {
  const dir = tempDir();
  mkdirSync(dir, { recursive: true });
  const store = FingerprintStore.inDirectory(dir);
  execFileSync('mkfifo', [store.file!]);
  await store.load();
  assert.equal(store.sizeInBytes, 0);
  store.set('/a.npz', stat(1), 'npz', summary([1]));
  await store.save(); // replaced atomically by a regular file
  assert.ok(statSync(path.join(dir, path.basename(store.file!))).isFile());
});

/** What the store gave before values were unfolded after parsing: JSON.parse with a reviver. */
function reviverModel(text: string): unknown {
  let unfolded = 0;
  try {
    return JSON.parse(text, (_key, item: unknown) => {
      const runs = (item as { $runs?: unknown } | null)?.$runs;
      if (!Array.isArray(runs)) return item;
      const out: number[] = [];
      for (let i = 0; i + 1 < runs.length; i += 2) {
        const [value, count] = [runs[i], runs[i + 1]];
        unfolded += count;
        if (typeof value !== 'number' || !Number.isSafeInteger(count) || count < 0 || unfolded > 1 << 22)
          throw new Error('corrupt');
        for (let k = 0; k < count; k++) out.push(value);
      }
      return out;
    });
  } catch {
    return undefined;
  }
}

test('stored values read back as a JSON.parse reviver unfolded them, damaged and odd ones included', async () => {
  const values = [
    '{"ok":true,"value":{"positives":{"$runs":[0,30]},"shape":[30,19,64]}}',
    '{"a":{"$runs":[1,2,0,3]},"b":[{"$runs":[5,1]},{"c":{"$runs":[]}}]}',
    '{"$runs":[7,2],"ignored":{"$runs":[1,1]}}',
    '{"__proto__":{"$runs":[1,2]},"x":1}',
    '{"a":{"$runs":[{"$runs":[1,1]},1]}}',
    '{"a":{"$runs":[1,-1]}}',
    '{"a":{"$runs":[1,1.5]}}',
    '{"a":{"$runs":["x",1]}}',
    '{"a":{"$runs":[1,4194304]},"b":{"$runs":[1,1]}}',
    '{"a":{"$runs":[1]},"b":{"$runs":"no"}}',
    '[{"$runs":[2,3]},null,"$runs",{"$runs":[0,2,1]}]',
  ];
  const dir = tempDir();
  const records = Object.fromEntries(
    values.map((value, i) => [`/c/${i}.npz`, [{ size: i, mtimeMs: 1, kind: 'npz-v3', value }]]),
  );
  writeFileSync(path.join(dir, 'fingerprints-v2.json'), JSON.stringify({ format: 2, records }));
  const store = FingerprintStore.inDirectory(dir);
  await store.load();
  values.forEach((value, i) => {
    const got = store.get(`/c/${i}.npz`, stat(i, 1), 'npz-v3');
    assert.deepEqual(got, reviverModel(value), value);
    const model = reviverModel(value);
    if (model && typeof model === 'object' && Object.hasOwn(model, '__proto__')) {
      assert.ok(Object.hasOwn(got as object, '__proto__'), 'an own "__proto__" property, not a prototype');
      assert.equal(Object.getPrototypeOf(got), Object.prototype);
    }
  });
});

test('a record read is held as its result, and saved again as the same compact JSON', async () => {
  const dir = tempDir();
  const first = FingerprintStore.inDirectory(dir);
  const quiet = summary(new Array(600).fill(0));
  first.set('/c/quiet.npz', stat(1), 'npz', quiet);
  first.set('/c/other.npz', stat(2), 'npz', summary([1, 2, 3]));
  await first.save();
  const text = readFileSync(first.file!, 'utf8');
  const store = FingerprintStore.inDirectory(dir);
  await store.load();
  const size = store.sizeInBytes;
  const read = store.get('/c/quiet.npz', stat(1), 'npz');
  assert.deepEqual(read, quiet);
  // The result itself from then on (its text let go), the bounds counted as before.
  assert.equal(store.get('/c/quiet.npz', stat(1), 'npz'), read);
  assert.equal(store.sizeInBytes, size);
  // Written again (one record changed): the one read is saved as it was loaded.
  store.set('/c/third.npz', stat(3), 'npz', summary([0]));
  await store.save();
  const records = (file: string) => JSON.parse(readFileSync(file, 'utf8')).records;
  const resaved = records(path.join(dir, 'fingerprints-v2.json'));
  assert.deepEqual(resaved['/c/quiet.npz'], JSON.parse(text).records['/c/quiet.npz']);
  assert.deepEqual(resaved['/c/other.npz'], JSON.parse(text).records['/c/other.npz']);
  const again = FingerprintStore.inDirectory(dir);
  await again.load();
  assert.deepEqual(again.get('/c/third.npz', stat(3), 'npz'), summary([0]));
});
