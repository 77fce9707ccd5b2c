/**
 * The download test kit checks itself: the ARC shard writer (hyparquet-writer) produces what
 * hyparquet reads back, and the fake Hub/CDN pair behaves like the real endpoints the download uses (docs/cli.md, `arc download`),
 * fault injection included. All on 127.0.0.1; no timing assertions.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { asyncBufferFromUrl, parquetMetadataAsync, parquetReadObjects, type ColumnMetaData } from 'hyparquet';
import { startFakeHub, type FakeHub } from './fakeHub';
import { NEEDED_COLUMNS, writeArcShards, type ArcShards } from './shards';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let dir: string;
let shards: ArcShards;
let hub: FakeHub;
const TOKEN = 'hf_testtoken';
const auth = { Authorization: `Bearer ${TOKEN}` };

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'fake-hub-'));
  shards = writeArcShards(dir, { sessions: 12, shards: 2, seed: 7 });
  hub = await startFakeHub({ root: dir, token: TOKEN, pageSize: 2 });
});
after(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Resolves a repo file to its signed CDN URL (one hub request, redirect not followed). */
async function cdnLocation(file: string): Promise<{ url: string; size: number }> {
  const res = await fetch(hub.resolveUrl(file), { headers: auth, redirect: 'manual' });
  assert.equal(res.status, 302);
  return { url: res.headers.get('location')!, size: Number(res.headers.get('x-linked-size')) };
}

describe('ARC shards', () => {
  test('cover every case and are deterministic per seed', () => {
    const s = shards.sessions;
    assert.equal(s.length, 12);
    assert.deepEqual(
      new Set(s.map((x) => x.acquisition)),
      new Set(['space_2x', 'space_no_accel', 'turbo_spin_echo', null]),
    );
    assert.ok(s.some((x) => !x.hasMask) && s.some((x) => x.t2wRuns === 2) && s.some((x) => x.t2wRuns === 0));
    const other = mkdtempSync(path.join(tmpdir(), 'fake-hub-'));
    const again = writeArcShards(other, { sessions: 12, shards: 2, seed: 7 });
    rmSync(other, { recursive: true, force: true });
    assert.deepEqual(
      again.files.map((f) => f.sha256),
      shards.files.map((f) => f.sha256),
    );
  });

  test('nested levels are what Dremel prescribes (counts from the writer, not the reader)', async () => {
    // hyparquet-writer borrows hyparquet's schema helpers, so check its own per-chunk counts:
    // a list leaf has one slot per element, or one for an empty list; a null struct is a null leaf.
    const chunks: ColumnMetaData[] = [];
    for (const f of shards.files) {
      const { url, size } = await cdnLocation(f.path);
      const metadata = await parquetMetadataAsync(await asyncBufferFromUrl({ url, byteLength: size }));
      chunks.push(...metadata.row_groups.flatMap((g) => g.columns.map((c) => c.meta_data!)));
    }
    const sum = (col: string, key: 'num_values' | 'null_count') =>
      chunks
        .filter((c) => c.path_in_schema.join('.') === col)
        .reduce((a, c) => a + Number((key === 'num_values' ? c.num_values : c.statistics?.null_count) ?? NaN), 0);
    const all = shards.sessions;
    assert.equal(
      sum('t2w.list.element.bytes', 'num_values'),
      all.reduce((a, x) => a + Math.max(1, x.t2wRuns), 0),
    );
    assert.equal(sum('t2w.list.element.bytes', 'null_count'), all.filter((x) => x.t2wRuns === 0).length);
    assert.equal(sum('lesion.bytes', 'null_count'), all.filter((x) => !x.hasMask).length);
    assert.equal(sum('t2w_acquisition', 'null_count'), all.filter((x) => x.acquisition === null).length);
  });

  test('masks hold the recorded number of voxels > 0', async () => {
    // Decoded independently of the project's reader: gunzip, skip the 352-byte NIfTI-1 prefix.
    const { url, size } = await cdnLocation(shards.files[0].path);
    const rows = await parquetReadObjects({
      file: await asyncBufferFromUrl({ url, byteLength: size }),
      columns: ['lesion'],
      utf8: false,
    });
    const expected = shards.sessions.filter((x) => x.shard === shards.files[0].path);
    rows.forEach((row, i) => {
      if (!expected[i].hasMask) return assert.equal(row.lesion ?? null, null);
      const voxels = gunzipSync(row.lesion.bytes).subarray(352);
      assert.equal(voxels.filter((v) => v > 0).length, expected[i].lesionVolume);
    });
  });
});

describe('fake hub', () => {
  test('tree listing pages through absolute Link headers', async () => {
    hub.reset();
    type Entry = { type: string; path: string; size: number; oid: string; lfs?: { oid: string; size: number } };
    const entries: Entry[] = [];
    let pages = 0;
    for (let url: string | undefined = hub.treeUrl(); url; pages++) {
      const res = await fetch(url, { headers: auth });
      assert.equal(res.status, 200);
      entries.push(...((await res.json()) as Entry[]));
      url = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
      if (url) assert.ok(url.startsWith(hub.hubUrl + '/api/datasets/'), url);
    }
    assert.equal(pages, 2); // data/ + 2 shards, 2 per page
    assert.deepEqual(
      entries.filter((e) => e.type === 'directory').map((e) => [e.path, e.size]),
      [['data', 0]],
    );
    for (const f of shards.files) {
      const e = entries.find((x) => x.path === f.path);
      assert.equal(e?.type, 'file');
      assert.deepEqual([e.size, e.lfs?.oid, e.lfs?.size], [f.size, f.sha256, f.size]);
    }
    const top = await (await fetch(hub.treeUrl('', false), { headers: auth })).json();
    assert.deepEqual(top, [entries[0]]); // non-recursive: only the data/ directory
    const sub = await fetch(hub.treeUrl('data'), { headers: auth });
    assert.equal(((await sub.json()) as Entry[]).length, 2);
    assert.equal((await fetch(hub.treeUrl('nope'), { headers: auth })).status, 404);
  });

  test('resolve redirects to a signed URL on the CDN, which serves the bytes', async () => {
    const f = shards.files[0];
    for (const method of ['GET', 'HEAD']) {
      const res = await fetch(hub.resolveUrl(f.path), { method, headers: auth, redirect: 'manual' });
      assert.equal(res.status, 302);
      const loc = new URL(res.headers.get('location')!);
      assert.equal(loc.origin, hub.cdnUrl);
      assert.notEqual(loc.origin, hub.hubUrl);
      assert.ok(loc.searchParams.get('X-Amz-Signature'));
      assert.equal(res.headers.get('x-linked-etag'), `"${f.sha256}"`);
    }
    const { url, size } = await cdnLocation(f.path);
    assert.equal(size, f.size);
    const body = new Uint8Array(await (await fetch(url)).arrayBuffer());
    assert.equal(sha256(body), f.sha256);
    const head = await fetch(url, { method: 'HEAD' });
    assert.deepEqual(
      [head.status, head.headers.get('content-length'), head.headers.get('accept-ranges')],
      [200, String(f.size), 'bytes'],
    );
    // The signature matters: tampered or rotated URLs are refused.
    assert.equal((await fetch(url.replace(/X-Amz-Signature=[0-9a-f]/, 'X-Amz-Signature=z'))).status, 403);
    hub.rotateSigningKey();
    assert.equal((await fetch(url)).status, 403);
    assert.equal((await fetch(hub.resolveUrl(f.path, hub.commit), { headers: auth, redirect: 'manual' })).status, 302);
    assert.equal((await fetch(hub.resolveUrl(f.path, 'v9'), { headers: auth, redirect: 'manual' })).status, 404);
  });

  test('the CDN answers Range requests with 206, and 416 past the end', async () => {
    const f = shards.files[1];
    const { url } = await cdnLocation(f.path);
    const whole = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const cases: [string, number, number][] = [
      ['bytes=0-99', 0, 99],
      ['bytes=100-', 100, f.size - 1],
      ['bytes=-8', f.size - 8, f.size - 1],
      [`bytes=10-${f.size + 50}`, 10, f.size - 1],
    ];
    for (const [range, start, end] of cases) {
      const res = await fetch(url, { headers: { Range: range } });
      assert.equal(res.status, 206, range);
      assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/${f.size}`);
      assert.equal(res.headers.get('content-length'), String(end - start + 1));
      assert.deepEqual(new Uint8Array(await res.arrayBuffer()), whole.subarray(start, end + 1));
    }
    const head = await fetch(url, { method: 'HEAD', headers: { Range: 'bytes=0-9' } });
    assert.deepEqual([head.status, head.headers.get('content-length')], [206, '10']);
    const bad = await fetch(url, { headers: { Range: `bytes=${f.size}-` } });
    assert.deepEqual([bad.status, bad.headers.get('content-range')], [416, `bytes */${f.size}`]);
    await bad.arrayBuffer();
  });

  test('the token is required by the hub and never reaches the CDN', async () => {
    hub.reset();
    const file = shards.files[0].path;
    assert.equal((await fetch(hub.treeUrl())).status, 401);
    assert.equal((await fetch(hub.resolveUrl(file), { redirect: 'manual' })).status, 401);
    assert.equal(
      (await fetch(hub.resolveUrl(file), { headers: { Authorization: 'Bearer hf_wrong' }, redirect: 'manual' })).status,
      401,
    );
    // fetch drops Authorization on a cross-origin redirect (ports differ), so following is safe.
    const followed = await fetch(hub.resolveUrl(file), { headers: auth });
    assert.equal(followed.status, 200);
    assert.equal(sha256(new Uint8Array(await followed.arrayBuffer())), shards.files[0].sha256);
    // A client that forwards it anyway is refused, as S3 refuses a second auth mechanism.
    const { url } = await cdnLocation(file);
    assert.equal((await fetch(url, { headers: auth })).status, 400);
    const cdn = hub.requests.filter((r) => r.server === 'cdn');
    assert.deepEqual(
      cdn.map((r) => [r.authorization, r.status]),
      [
        [false, 200],
        [true, 400],
      ],
    );
    assert.ok(cdn.every((r) => r.host === new URL(hub.cdnUrl).host));
    assert.deepEqual(
      hub.requests.filter((r) => r.server === 'hub').map((r) => r.authorization),
      [false, false, true, true, true],
    );
  });

  test('fault: connection reset mid-body, counted and consumed', async () => {
    const f = shards.files[0];
    const { url } = await cdnLocation(f.path);
    hub.reset();
    hub.faults.resets = { count: 2, afterBytes: 1000 };
    for (let i = 0; i < 2; i++) {
      const res = await fetch(url, { headers: { Range: 'bytes=0-4999' } });
      assert.equal(res.status, 206);
      await assert.rejects(res.arrayBuffer());
    }
    const ok = await fetch(url, { headers: { Range: 'bytes=0-4999' } });
    assert.equal((await ok.arrayBuffer()).byteLength, 5000);
    assert.deepEqual(
      hub.requests.map((r) => [r.fault, r.bytes]),
      [
        ['reset', 1000],
        ['reset', 1000],
        [undefined, 5000],
      ],
    );
    assert.equal(hub.bytesServed(), 7000);
  });

  test('fault: 429 / 500 / 503 with Retry-After, on chosen endpoints', async () => {
    const { url } = await cdnLocation(shards.files[0].path);
    hub.reset();
    hub.faults.statuses = [
      { status: 429, count: 1, on: 'tree', retryAfter: 2 },
      { status: 503, count: 2, on: 'cdn' },
      { status: 500, count: 1, on: 'resolve' },
    ];
    const tree = await fetch(hub.treeUrl(), { headers: auth });
    assert.deepEqual([tree.status, tree.headers.get('retry-after')], [429, '2']);
    assert.equal((await fetch(hub.treeUrl(), { headers: auth })).status, 200);
    assert.equal(
      (await fetch(hub.resolveUrl(shards.files[0].path), { headers: auth, redirect: 'manual' })).status,
      500,
    );
    assert.deepEqual(
      [(await fetch(url)).status, (await fetch(url)).status, (await fetch(url)).status],
      [503, 503, 200],
    );
    assert.equal(hub.requests.filter((r) => r.fault).length, 4);
  });

  test('fault: latency and bandwidth cap still deliver the right bytes', async () => {
    const f = shards.files[0];
    const { url } = await cdnLocation(f.path);
    hub.reset();
    hub.faults.latencyMs = 20;
    hub.faults.bytesPerSecond = 400_000;
    const res = await fetch(url, { headers: { Range: 'bytes=0-49999' } });
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()).length, 50_000);
    assert.equal(hub.bytesServed(), 50_000);
  });

  test('fault: a CDN that ignores Range answers 200 with the whole file', async () => {
    const f = shards.files[0];
    const { url } = await cdnLocation(f.path);
    hub.reset();
    hub.faults.ignoreRange = true;
    const res = await fetch(url, { headers: { Range: 'bytes=0-9' } });
    assert.equal(res.status, 200);
    assert.equal((await res.arrayBuffer()).byteLength, f.size);
    assert.equal(hub.bytesServed(), f.size);
    // hyparquet copes by silently buffering the whole shard: only the 200 tells (NOTES.md).
    hub.reset(true);
    const file = await asyncBufferFromUrl({ url, byteLength: f.size });
    await parquetReadObjects({ file, columns: ['subject_id'], utf8: false });
    assert.equal(hub.bytesServed(), f.size);
    assert.deepEqual(
      hub.requests.map((r) => r.status),
      [200],
    );
  });

  test('fault: 403 / 404 for the repo', async () => {
    for (const status of [403, 404] as const) {
      hub.reset();
      hub.faults.repoStatus = status;
      assert.equal((await fetch(hub.treeUrl(), { headers: auth })).status, status);
      assert.equal(
        (await fetch(hub.resolveUrl(shards.files[0].path), { headers: auth, redirect: 'manual' })).status,
        status,
      );
    }
    hub.reset();
    const other = await fetch(hub.treeUrl().replace('arc-aphasia-bids', 'other'), { headers: auth });
    assert.deepEqual([other.status, other.headers.get('x-error-code')], [404, 'RepoNotFound']);
  });
});

describe('hyparquet through the fake CDN', () => {
  test('a projection of the needed columns reads little and decodes the NIfTI bytes intact', async (t) => {
    hub.reset();
    for (const f of shards.files) {
      const { url, size } = await cdnLocation(f.path);
      const before = hub.bytesServed();
      const file = await asyncBufferFromUrl({ url, byteLength: size });
      const metadata = await parquetMetadataAsync(file, { initialFetchSize: 8192 });
      const rows = await parquetReadObjects({ file, metadata, columns: NEEDED_COLUMNS, utf8: false });
      const read = hub.bytesServed() - before;
      t.diagnostic(`${f.path}: ${read} of ${f.size} bytes read (${((100 * read) / f.size).toFixed(1)}%)`);
      assert.ok(read < f.size / 4, `projection read ${read} of ${f.size}`);

      const expected = shards.sessions.filter((s) => s.shard === f.path);
      assert.equal(rows.length, expected.length);
      rows.forEach((row, i) => {
        const e = expected[i];
        assert.deepEqual(Object.keys(row), NEEDED_COLUMNS);
        assert.deepEqual(
          [row.subject_id, row.session_id, row.t2w_acquisition],
          [e.subjectId, e.sessionId, e.acquisition],
        );
        assert.equal(row.t2w.length, e.t2wRuns);
        assert.deepEqual(
          row.t2w.map((r: { bytes: Uint8Array }) => sha256(r.bytes)),
          e.t2wRunSha256,
        );
        if (e.t2wRuns) assert.equal(row.t2w[0].path, e.t2wPath);
        // hyparquet gives `undefined` (not null) for a null struct.
        assert.equal(row.lesion ? sha256(row.lesion.bytes) : null, e.lesionSha256);
      });
    }
    const cdn = hub.requests.filter((r) => r.server === 'cdn');
    assert.ok(
      cdn.every((r) => r.status === 206 && !r.authorization),
      'every CDN read was a range read without a token',
    );
    t.diagnostic(`CDN requests: ${cdn.length}`);
  });
});
