/**
 * The server's `neurocache/downloadArc` request over stdio, against the fake Hub: a relative
 * output folder lands inside the workspace folder (not the server's working directory), one
 * that escapes it is refused with nothing written, progress notifications carry the request's
 * id, and the parallelism the client sends is the one used (as the CLI's --parallel is).
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { DownloadArcRequest, DownloadProgressNotification } from '../../server/src/protocol';
import { FakeHub, startFakeHub } from '../hub/fakeHub';
import { writeArcShards } from '../hub/shards';
import { LspSession } from '../support/lsp';
import { cliPath, tempDir } from '../support/python';

const HUB_ENV = { HF_TOKEN: '', HF_HOME: tempDir(), HF_ENDPOINT: '', HF_HUB_OFFLINE: '', NEUROCACHE_RETRY_BASE_MS: '5' };

/** Shard paths in the order their resolve requests reached the Hub, each with the CDN reads before the next one. */
function shardOrder(hub: FakeHub): { shard: string; readsBeforeNext: number }[] {
  const order: { shard: string; readsBeforeNext: number }[] = [];
  for (const request of hub.requests) {
    if (request.endpoint === 'resolve') order.push({ shard: request.url.split('/').pop()!, readsBeforeNext: 0 });
    else if (request.endpoint === 'cdn' && order.length) order[order.length - 1].readsBeforeNext++;
  }
  return order;
}

test('the download request resolves a relative folder in the workspace, reports progress and honours its parallelism', async () => {
  const repo = tempDir();
  const shards = writeArcShards(repo, { sessions: 12, shards: 3 });
  // Latency makes parallel fetching visible in the order requests arrive.
  const hub = await startFakeHub({ root: repo, faults: { latencyMs: 20 } });
  const root = tempDir();
  // The server runs from another directory: a relative folder must not land there.
  const serverCwd = tempDir();
  const lsp = new LspSession({ ...HUB_ENV }, { cwd: serverCwd });
  const progress: DownloadProgressNotification.Params[] = [];
  lsp.onNotification(DownloadProgressNotification.type, (p) => void progress.push(p));
  try {
    await lsp.initialize(root);
    const result = await lsp.request(DownloadArcRequest.type, { id: 'one', out: 'data/arc', endpoint: hub.hubUrl, parallel: 1 });
    const info = path.join(root, 'data', 'arc', 'dataset_info.json');
    assert.equal(result.datasetInfo, info);
    assert.equal(existsSync(path.join(serverCwd, 'data')), false);
    assert.match(result.message, /^Downloaded \d+ samples from 3 shards/);
    const written = JSON.parse(readFileSync(info, 'utf8'));
    assert.equal(written.num_samples, result.samples);
    assert.ok(result.samples > 0 && result.samples < shards.sessions.length);
    for (const image of written.image_paths) assert.ok(existsSync(path.join(root, 'data', 'arc', image)), image);
    assert.ok(progress.length > 0 && progress.every((p) => p.id === 'one'));
    assert.equal(progress[progress.length - 1].shardsDone, 3);
    // One shard at a time: every shard's reads happen before the next shard is resolved.
    const one = shardOrder(hub);
    assert.deepEqual(one.map((o) => o.shard), shards.files.map((f) => path.basename(f.path)).sort());
    assert.ok(one.every((o) => o.readsBeforeNext > 0), JSON.stringify(one));

    // Unasked, the default parallelism resolves the shards together before reading any.
    hub.reset(true);
    await lsp.request(DownloadArcRequest.type, { id: 'two', out: path.join(root, 'again'), endpoint: hub.hubUrl });
    assert.deepEqual(shardOrder(hub).map((o) => o.readsBeforeNext).slice(0, 2), [0, 0]);
  } finally {
    await lsp.close();
    await hub.close();
  }
});

test('a download folder outside the workspace, or any download in restricted mode, is refused and writes nothing', async () => {
  const repo = tempDir();
  writeArcShards(repo, { sessions: 4, shards: 1 });
  const hub = await startFakeHub({ root: repo });
  const parent = tempDir();
  const root = path.join(parent, 'workspace');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(root);
  // Run from a scratch directory: even a broken resolution must not write next to the tests.
  const lsp = new LspSession({ ...HUB_ENV }, { cwd: tempDir() });
  const untrusted = new LspSession({ ...HUB_ENV }, { cwd: tempDir() });
  try {
    await lsp.initialize(root);
    await assert.rejects(lsp.request(DownloadArcRequest.type, { id: 'x', out: '../escaped', endpoint: hub.hubUrl }), /outside the workspace folders/);
    assert.equal(existsSync(path.join(parent, 'escaped')), false);
    await untrusted.initialize(root, { initializationOptions: { trusted: false } });
    await assert.rejects(untrusted.request(DownloadArcRequest.type, { id: 'y', out: 'data/arc', endpoint: hub.hubUrl }), /restricted/);
    assert.equal(existsSync(path.join(root, 'data')), false);
    assert.equal(hub.requests.length, 0, 'the Hub was never asked');
  } finally {
    await lsp.close();
    await untrusted.close();
    await hub.close();
  }
});

test('arc download --parallel sets how many shards are fetched at once', async () => {
  const repo = tempDir();
  writeArcShards(repo, { sessions: 8, shards: 3 });
  const hub = await startFakeHub({ root: repo, faults: { latencyMs: 20 } });
  try {
    const run = (...args: string[]) => new Promise<{ status: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, [cliPath(), 'arc', 'download', '--endpoint', hub.hubUrl, ...args], { env: { ...process.env, ...HUB_ENV } }, (error, _stdout, stderr) =>
        resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stderr }));
    });
    const sequential = await run('--out', tempDir(), '--parallel', '1');
    assert.equal(sequential.status, 0, sequential.stderr);
    assert.ok(shardOrder(hub).every((o) => o.readsBeforeNext > 0), JSON.stringify(shardOrder(hub)));
    hub.reset(true);
    assert.equal((await run('--out', tempDir(), '--parallel', '3')).status, 0);
    assert.deepEqual(shardOrder(hub).map((o) => o.readsBeforeNext), [0, 0, shardOrder(hub)[2].readsBeforeNext]);
    const bad = spawnSync(process.execPath, [cliPath(), 'arc', 'download', '--parallel', '0'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--parallel takes a whole number from 1 to 64, not "0"/);
  } finally {
    await hub.close();
  }
});
