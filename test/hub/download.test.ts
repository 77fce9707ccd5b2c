/**
 * `neurocache arc download` against the fake Hub (listing with pagination, resolve → CDN on
 * another port with Range support), serving shards written by an independent Parquet writer:
 * files and JSON, bytes transferred, resume, short-circuit, faults, and token hygiene.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fsPromises, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { writeFileAtomic } from '../../server/src/service/atomic';
import { tempDir } from '../support/python';
import type { FakeHub } from './fakeHub';
import { assertDownloaded, expected, filesUnder, runDownload as run, servedShards, sha256File as sha256 } from './run';
import { writeArcShards, type ArcShardFile } from './shards';

const TOKEN = 'hf_testtokenABCDEF0123456789';

/** Corrupts a file in place, keeping its size (what a size check cannot see). */
function flipByte(file: string): void {
  const bytes = readFileSync(file);
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(file, bytes);
}

/** The shards whose bytes were read from the CDN since the last reset, in shard order. */
function shardsFetched(hub: FakeHub, files: ArcShardFile[]): string[] {
  const urls = hub.requests.filter((r) => r.server === 'cdn').map((r) => r.url);
  return files.filter((f) => urls.some((u) => u.includes(f.sha256))).map((f) => f.path);
}

test('downloads only the needed columns, writes the NIfTI bytes unchanged and dataset_info.json last', async (t) => {
  const { shards, hub } = await servedShards(t, (dir) => writeArcShards(dir, { sessions: 24, shards: 3 }), {
    pageSize: 1,
    token: TOKEN,
  });
  const out = tempDir();
  const result = await run(['--out', out, '--endpoint', hub.hubUrl, '--json'], { HF_TOKEN: TOKEN });
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout);
  const info = JSON.parse(readFileSync(path.join(out, 'dataset_info.json'), 'utf8'));
  const keep = expected(shards.sessions);
  assert.ok(keep.length >= 8);
  assert.equal(info.num_samples, keep.length);
  assert.deepEqual(
    info.subject_ids,
    keep.map((s) => s.subjectId),
  );
  assert.deepEqual(
    info.acquisition_types,
    keep.map((s) => s.acquisition),
  );
  assert.deepEqual(
    info.lesion_volumes,
    keep.map((s) => s.lesionVolume),
  );
  keep.forEach((s, i) => {
    assert.equal(info.image_paths[i], `cache/nifti_cache/${s.subjectId}_${s.sessionId}_t2w.nii.gz`);
    assert.equal(sha256(path.join(out, info.image_paths[i])), s.t2wSha256, 'first T2w run, byte for byte');
    assert.equal(sha256(path.join(out, info.mask_paths[i])), s.lesionSha256);
  });
  // Only column chunks crossed the wire: a small fraction of the shards.
  const total = shards.files.reduce((n, f) => n + f.size, 0);
  const served = hub.bytesServed('cdn');
  assert.equal(summary.bytesTransferred, served);
  assert.ok(served < total * 0.15, `read ${served} of ${total} shard bytes`);
  process.stdout.write(`# download: ${served} of ${total} shard bytes (${((100 * served) / total).toFixed(1)}%)\n`);
  // Token hygiene: every hub request carried it, no CDN request did, and it was never printed.
  assert.ok(hub.requests.filter((r) => r.server === 'hub').every((r) => r.authorization));
  assert.ok(hub.requests.filter((r) => r.server === 'cdn').every((r) => !r.authorization));
  assert.ok(hub.requests.filter((r) => r.server === 'cdn').every((r) => r.status === 206));
  assert.ok(!result.stdout.includes(TOKEN) && !result.stderr.includes(TOKEN));
  assert.ok(hub.requests.filter((r) => r.endpoint === 'tree').length >= 3, 'listing followed the Link pages');

  // A re-run with complete output: no network at all.
  hub.reset(true);
  const again = await run(['--out', out, '--endpoint', hub.hubUrl, '--json'], { HF_TOKEN: TOKEN });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).status, 'up-to-date');
  assert.equal(hub.requests.length, 0);
  // Offline mode is fine when nothing needs downloading.
  assert.equal((await run(['--out', out, '--endpoint', hub.hubUrl], { HF_HUB_OFFLINE: '1' })).code, 0);
});

test('an interrupted download leaves no dataset_info.json; a resume trusts only files whose SHA-256 still matches', async (t) => {
  const { shards, hub } = await servedShards(t, (dir) => writeArcShards(dir, { sessions: 18, shards: 3 }));
  const out = tempDir();
  // Every shard keeps failing: the run must fail without a final dataset_info.json.
  hub.faults.statuses = [{ status: 500, count: 1000, on: 'cdn' }];
  const failing = await run(['--out', out, '--endpoint', hub.hubUrl, '--jobs', '1']);
  assert.notEqual(failing.code, 0);
  assert.match(failing.stderr, /HTTP 500/);
  assert.equal(existsSync(path.join(out, 'dataset_info.json')), false);

  hub.faults.statuses = [];
  const first = await run(['--out', out, '--endpoint', hub.hubUrl, '--jobs', '1', '--json']);
  assert.equal(first.code, 0, first.stderr);
  assertDownloaded(out, expected(shards.sessions), assert);
  const info = readFileSync(path.join(out, 'dataset_info.json'), 'utf8');

  // dataset_info.json gone, files intact: every shard resumes from the journal, no shard bytes fetched.
  rmSync(path.join(out, 'dataset_info.json'));
  hub.reset();
  const resumed = await run(['--out', out, '--endpoint', hub.hubUrl, '--json']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(JSON.parse(resumed.stdout).shardsResumed, shards.files.length);
  assert.equal(hub.requests.filter((r) => r.server === 'cdn').length, 0, 'no shard bytes fetched again');
  assert.equal(readFileSync(path.join(out, 'dataset_info.json'), 'utf8'), info);

  // One image corrupted in place at its size: only its shard is fetched again, and the file is repaired.
  const victim = expected(shards.sessions).find((s) => s.shard === shards.files[1].path)!;
  const image = path.join(out, 'cache', 'nifti_cache', `${victim.subjectId}_${victim.sessionId}_t2w.nii.gz`);
  flipByte(image);
  rmSync(path.join(out, 'dataset_info.json'));
  hub.reset();
  const repaired = await run(['--out', out, '--endpoint', hub.hubUrl, '--json']);
  assert.equal(repaired.code, 0, repaired.stderr);
  assert.equal(JSON.parse(repaired.stdout).shardsResumed, shards.files.length - 1);
  assert.deepEqual(shardsFetched(hub, shards.files), [shards.files[1].path]);
  assertDownloaded(out, expected(shards.sessions), assert);
  assert.equal(readFileSync(path.join(out, 'dataset_info.json'), 'utf8'), info);
});

test('--force downloads and rewrites every file, with or without a journal', async (t) => {
  const { shards, hub } = await servedShards(t, (dir) => writeArcShards(dir, { sessions: 12, shards: 2 }));
  const out = tempDir();
  assert.equal((await run(['--out', out, '--endpoint', hub.hubUrl])).code, 0);
  const keep = expected(shards.sessions);
  const nifti = path.join(out, 'cache', 'nifti_cache');
  const mask = path.join(nifti, `${keep[0].subjectId}_${keep[0].sessionId}_lesion.nii.gz`);
  flipByte(mask);
  // Without --force a complete dataset_info.json is trusted as it is (no network, files only checked to exist).
  hub.reset();
  assert.match((await run(['--out', out, '--endpoint', hub.hubUrl])).stdout, /is complete .*use --force/);
  assert.equal(hub.requests.length, 0);

  const inodes = new Map(filesUnder(out).map((f) => [f, statSync(path.join(out, f)).ino]));
  const forced = await run(['--out', out, '--endpoint', hub.hubUrl, '--force', '--json']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(JSON.parse(forced.stdout).shardsResumed, 0);
  assert.deepEqual(
    shardsFetched(hub, shards.files),
    shards.files.map((f) => f.path),
  );
  assertDownloaded(out, keep, assert);
  for (const file of filesUnder(nifti)) {
    assert.notEqual(
      statSync(path.join(nifti, file)).ino,
      inodes.get(path.join('cache', 'nifti_cache', file)),
      `${file} rewritten`,
    );
  }

  // No journal (a folder from an older version or another tool): same-size files are not trusted either.
  flipByte(mask);
  rmSync(path.join(out, '.neurocache'), { recursive: true });
  rmSync(path.join(out, 'dataset_info.json'));
  hub.reset();
  const again = await run(['--out', out, '--endpoint', hub.hubUrl, '--json']);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(
    shardsFetched(hub, shards.files),
    shards.files.map((f) => f.path),
  );
  assertDownloaded(out, keep, assert);
});

test('network faults are retried; a server that ignores Range is refused; access errors are clear', async (t) => {
  const { shards, hub } = await servedShards(t, (dir) => writeArcShards(dir, { sessions: 12, shards: 2 }));
  hub.faults.resets = { count: 2, on: 'cdn' };
  hub.faults.statuses = [
    { status: 503, count: 2, on: 'cdn', retryAfter: 0 },
    { status: 429, count: 1, on: 'tree' },
  ];
  const flaky = await run(['--out', tempDir(), '--endpoint', hub.hubUrl, '--json']);
  assert.equal(flaky.code, 0, flaky.stderr);
  assert.equal(JSON.parse(flaky.stdout).samples, expected(shards.sessions).length);
  assert.match(flaky.stderr, /retrying/);

  hub.reset();
  hub.faults.ignoreRange = true;
  const noRange = await run(['--out', tempDir(), '--endpoint', hub.hubUrl]);
  assert.equal(noRange.code, 1);
  assert.match(noRange.stderr, /ignored the Range header/);
  assert.ok(hub.bytesServed('cdn') < shards.files[0].size * 2, 'stopped instead of downloading whole shards');

  for (const status of [401, 403, 404] as const) {
    hub.reset();
    hub.faults.repoStatus = status;
    const refused = await run(['--out', tempDir(), '--endpoint', hub.hubUrl, '--token', TOKEN]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`hugging-science/arc-aphasia-bids.*HTTP ${status}`));
    assert.match(refused.stderr, status === 404 ? /--repo/ : /token/);
    assert.ok(!refused.stderr.includes(TOKEN));
  }
  hub.reset();
  const offline = await run(['--out', tempDir(), '--endpoint', hub.hubUrl], { HF_HUB_OFFLINE: '1' });
  assert.equal(offline.code, 1);
  assert.match(offline.stderr, /HF_HUB_OFFLINE/);
  assert.equal(hub.requests.length, 0);
});

test('filters and count verification follow the Python download', async (t) => {
  const { shards, hub } = await servedShards(t, (dir) => writeArcShards(dir, { sessions: 24, shards: 2 }));
  const withTse = await run([
    '--out',
    tempDir(),
    '--endpoint',
    hub.hubUrl,
    '--include-tse',
    '--no-require-mask',
    '--json',
  ]);
  assert.equal(
    JSON.parse(withTse.stdout).samples,
    expected(shards.sessions, { includeTse: true, requireMask: false }).length,
  );
  const out = tempDir();
  const parity = await run(['--out', out, '--endpoint', hub.hubUrl, '--paper-parity']);
  assert.equal(parity.code, 1);
  assert.match(
    parity.stderr,
    /count verification failed: expected the paper cohort of 223 = 115 space_2x \+ 108 space_no_accel, got \d+ of 24 sessions kept/,
  );
  assert.equal(existsSync(path.join(out, 'dataset_info.json')), false);
  assert.equal(
    await run(['--out', out, '--endpoint', hub.hubUrl, '--paper-parity', '--no-verify-counts']).then((r) => r.code),
    0,
  );
});

/**
 * Leaves the temp files writeFileAtomic makes, as a process killed between write and rename
 * would: the names come from the real writer, not from a copy of its pattern.
 */
async function interruptedWrites(targets: string[]): Promise<void> {
  const { rename, rm } = fsPromises;
  fsPromises.rename = async () => {
    throw new Error('killed');
  };
  fsPromises.rm = async () => undefined;
  try {
    for (const target of targets) {
      mkdirSync(path.dirname(target), { recursive: true });
      await writeFileAtomic(target, 'partial').catch(() => undefined);
    }
  } finally {
    Object.assign(fsPromises, { rename, rm });
  }
}

test('temp files of an interrupted download are removed on the next run, and only those', async (t) => {
  const { shards, hub } = await servedShards(t, (dir) => writeArcShards(dir, { sessions: 12, shards: 2 }));
  const out = tempDir();
  const nifti = path.join(out, 'cache', 'nifti_cache');
  const plant = async () => {
    await interruptedWrites([
      path.join(out, 'dataset_info.json'),
      path.join(nifti, 'sub-M2001_ses-1_t2w.nii.gz'),
      path.join(out, '.neurocache', 'download-journal.json'),
    ]);
    writeFileSync(path.join(nifti, '.sub-M2001_ses-1_lesion.nii.gz.4242.1763900000000.tmp'), 'older version'); // pid.ms names
  };
  const others = [
    'notes.tmp',
    '.notes.txt.0123456789abcdef.tmp',
    'cache/nifti_cache/.x.nii.gz.tmp',
    'cache/nifti_cache/readme.txt',
  ];
  for (const f of others) {
    mkdirSync(path.dirname(path.join(out, f)), { recursive: true });
    writeFileSync(path.join(out, f), 'not ours');
  }
  await plant();
  const temps = () =>
    filesUnder(out).filter((f) => /\.[0-9a-f]{16}\.tmp$|\.\d+\.\d+\.tmp$/.test(f) && !others.includes(f));
  assert.equal(temps().length, 4, 'fixture: four leftovers');

  const first = await run(['--out', out, '--endpoint', hub.hubUrl, '--json']);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(JSON.parse(first.stdout).tempFilesRemoved, 4);
  assert.match(first.stderr, /removed 4 temp files left by an interrupted download/);
  assert.deepEqual(temps(), []);
  for (const f of others) assert.equal(readFileSync(path.join(out, f), 'utf8'), 'not ours', f);

  // An interrupted --force run leaves a complete dataset_info.json: the up-to-date run cleans too.
  await plant();
  hub.reset();
  const upToDate = await run(['--out', out, '--endpoint', hub.hubUrl, '--json']);
  assert.deepEqual(
    [JSON.parse(upToDate.stdout).status, JSON.parse(upToDate.stdout).tempFilesRemoved],
    ['up-to-date', 4],
  );
  assert.equal(hub.requests.length, 0);
  assert.deepEqual(temps(), []);
  for (const f of others) rmSync(path.join(out, f));
  assertDownloaded(out, expected(shards.sessions), assert);
});

test("one download per folder: a running one is refused, a dead one's lock is taken over", async (t) => {
  const { shards, hub } = await servedShards(t, (dir) => writeArcShards(dir, { sessions: 12, shards: 2 }));
  const out = tempDir();
  const lock = path.join(out, '.neurocache', 'download.lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname() })); // this test process: alive
  const refused = await run(['--out', out, '--endpoint', hub.hubUrl]);
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    new RegExp(
      `another download into .* is running \\(process ${process.pid} on .*\\); if it is not, delete .*download\\.lock`,
    ),
  );
  assert.equal(hub.requests.filter((r) => r.server === 'cdn').length, 0);
  assert.ok(existsSync(lock), "the other download's lock is left alone");

  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  writeFileSync(lock, JSON.stringify({ pid: dead, host: hostname() }));
  const taken = await run(['--out', out, '--endpoint', hub.hubUrl]);
  assert.equal(taken.code, 0, taken.stderr);
  assertDownloaded(out, expected(shards.sessions), assert);
  assert.equal(existsSync(lock), false, 'released');
});
