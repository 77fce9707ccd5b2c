/**
 * `neurocache arc download` against the fake Hub (listing with pagination, resolve → CDN on
 * another port with Range support), serving shards written by an independent Parquet writer:
 * files and JSON, bytes transferred, resume, short-circuit, faults, and token hygiene.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { cliPath, tempDir } from '../support/python';
import { startFakeHub } from './fakeHub';
import { ExpectedSession, writeArcShards } from './shards';

const TOKEN = 'hf_testtokenABCDEF0123456789';

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cliPath(), 'arc', 'download', ...args], { env: { ...process.env, HF_TOKEN: '', HF_HOME: tempDir(), HF_ENDPOINT: '', HF_HUB_OFFLINE: '', NEUROCACHE_RETRY_BASE_MS: '5', ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** What the Python download keeps: SPACE 2x / no-accel with a T2w run and (by default) a mask. */
function expected(sessions: ExpectedSession[], options: { includeTse?: boolean; requireMask?: boolean } = {}): ExpectedSession[] {
  return sessions.filter((s) =>
    s.t2wSha256 !== null &&
    (s.acquisition === 'space_2x' || s.acquisition === 'space_no_accel' || (options.includeTse === true && s.acquisition === 'turbo_spin_echo')) &&
    (s.hasMask || options.requireMask === false),
  );
}

test('downloads only the needed columns, writes the NIfTI bytes unchanged and dataset_info.json last', async () => {
  const repoDir = tempDir();
  const shards = writeArcShards(repoDir, { sessions: 24, shards: 3 });
  const hub = await startFakeHub({ root: repoDir, pageSize: 1, token: TOKEN });
  try {
    const out = tempDir();
    const result = await run(['--out', out, '--endpoint', hub.hubUrl, '--json'], { HF_TOKEN: TOKEN });
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    const info = JSON.parse(readFileSync(path.join(out, 'dataset_info.json'), 'utf8'));
    const keep = expected(shards.sessions);
    assert.ok(keep.length >= 8);
    assert.equal(info.num_samples, keep.length);
    assert.deepEqual(info.subject_ids, keep.map((s) => s.subjectId));
    assert.deepEqual(info.acquisition_types, keep.map((s) => s.acquisition));
    assert.deepEqual(info.lesion_volumes, keep.map((s) => s.lesionVolume));
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
  } finally {
    await hub.close();
  }
});

test('an interrupted download leaves no dataset_info.json and resumes without refetching finished shards', async () => {
  const repoDir = tempDir();
  const shards = writeArcShards(repoDir, { sessions: 18, shards: 3 });
  const hub = await startFakeHub({ root: repoDir });
  try {
    const out = tempDir();
    // The last shard keeps failing: the run must fail without a final dataset_info.json.
    hub.faults.statuses = [{ status: 500, count: 1000, on: 'cdn' }];
    const failing = await run(['--out', out, '--endpoint', hub.hubUrl, '--jobs', '1']);
    assert.notEqual(failing.code, 0);
    assert.match(failing.stderr, /HTTP 500/);
    assert.equal(existsSync(path.join(out, 'dataset_info.json')), false);

    hub.faults.statuses = [];
    const first = await run(['--out', out, '--endpoint', hub.hubUrl, '--jobs', '1', '--json']);
    assert.equal(first.code, 0, first.stderr);
    hub.reset();
    // Delete nothing, but force: the journal lets every shard be skipped (verified by size).
    const resumed = await run(['--out', out, '--endpoint', hub.hubUrl, '--force', '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const summary = JSON.parse(resumed.stdout);
    assert.equal(summary.shardsResumed, shards.files.length);
    assert.equal(hub.requests.filter((r) => r.server === 'cdn').length, 0, 'no shard bytes fetched again');
    assert.equal(JSON.parse(readFileSync(path.join(out, 'dataset_info.json'), 'utf8')).num_samples, expected(shards.sessions).length);
  } finally {
    await hub.close();
  }
});

test('network faults are retried; a server that ignores Range is refused; access errors are clear', async () => {
  const repoDir = tempDir();
  const shards = writeArcShards(repoDir, { sessions: 12, shards: 2 });
  const hub = await startFakeHub({ root: repoDir });
  try {
    hub.faults.resets = { count: 2, on: 'cdn' };
    hub.faults.statuses = [{ status: 503, count: 2, on: 'cdn', retryAfter: 0 }, { status: 429, count: 1, on: 'tree' }];
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
  } finally {
    await hub.close();
  }
});

test('filters and count verification follow the Python download', async () => {
  const repoDir = tempDir();
  const shards = writeArcShards(repoDir, { sessions: 24, shards: 2 });
  const hub = await startFakeHub({ root: repoDir });
  try {
    const withTse = await run(['--out', tempDir(), '--endpoint', hub.hubUrl, '--include-tse', '--no-require-mask', '--json']);
    assert.equal(JSON.parse(withTse.stdout).samples, expected(shards.sessions, { includeTse: true, requireMask: false }).length);
    const out = tempDir();
    const parity = await run(['--out', out, '--endpoint', hub.hubUrl, '--paper-parity']);
    assert.equal(parity.code, 1);
    assert.match(parity.stderr, /count verification failed: expected the paper cohort of 223 = 115 space_2x \+ 108 space_no_accel, got \d+ of 24 sessions kept/);
    assert.equal(existsSync(path.join(out, 'dataset_info.json')), false);
    assert.equal((await run(['--out', out, '--endpoint', hub.hubUrl, '--paper-parity', '--no-verify-counts']).then((r) => r.code)), 0);
  } finally {
    await hub.close();
  }
});
