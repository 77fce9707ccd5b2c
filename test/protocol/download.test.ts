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
import { MessageType } from 'vscode-languageserver-protocol/node';
import { DownloadArcRequest, DownloadProgressNotification } from '../../server/src/protocol';
import { FakeHub, startFakeHub } from '../hub/fakeHub';
import { writeArcShards } from '../hub/shards';
import { LspSession } from '../support/lsp';
import { cliPath, tempDir } from '../support/python';

const HUB_ENV = {
  HF_TOKEN: '',
  HF_HOME: tempDir(),
  HF_ENDPOINT: '',
  HF_HUB_OFFLINE: '',
  NEUROCACHE_RETRY_BASE_MS: '5',
};

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
    const result = await lsp.request(DownloadArcRequest.type, {
      id: 'one',
      out: 'data/arc',
      endpoint: hub.hubUrl,
      parallel: 1,
    });
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
    assert.deepEqual(
      one.map((o) => o.shard),
      shards.files.map((f) => path.basename(f.path)).sort(),
    );
    assert.ok(
      one.every((o) => o.readsBeforeNext > 0),
      JSON.stringify(one),
    );

    // Unasked, the default parallelism resolves the shards together before reading any: the Hub
    // answers no resolve until all three have arrived (one at a time would wait out the 10 s).
    hub.reset(true);
    hub.faults = { holdResolvesUntil: { count: 3, timeoutMs: 10_000 } };
    await lsp.request(DownloadArcRequest.type, { id: 'two', out: path.join(root, 'again'), endpoint: hub.hubUrl });
    assert.deepEqual(
      shardOrder(hub)
        .map((o) => o.readsBeforeNext)
        .slice(0, 2),
      [0, 0],
    );
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
    await assert.rejects(
      lsp.request(DownloadArcRequest.type, { id: 'x', out: '../escaped', endpoint: hub.hubUrl }),
      /outside the workspace folders/,
    );
    assert.equal(existsSync(path.join(parent, 'escaped')), false);
    await untrusted.initialize(root, { initializationOptions: { trusted: false } });
    await assert.rejects(
      untrusted.request(DownloadArcRequest.type, { id: 'y', out: 'data/arc', endpoint: hub.hubUrl }),
      /restricted/,
    );
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
    const run = (...args: string[]) =>
      new Promise<{ status: number | null; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [cliPath(), 'arc', 'download', '--endpoint', hub.hubUrl, ...args],
          { env: { ...process.env, ...HUB_ENV } },
          (error, _stdout, stderr) => resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stderr }),
        );
      });
    const sequential = await run('--out', tempDir(), '--parallel', '1');
    assert.equal(sequential.status, 0, sequential.stderr);
    assert.ok(
      shardOrder(hub).every((o) => o.readsBeforeNext > 0),
      JSON.stringify(shardOrder(hub)),
    );
    hub.reset(true);
    assert.equal((await run('--out', tempDir(), '--parallel', '3')).status, 0);
    assert.deepEqual(
      shardOrder(hub).map((o) => o.readsBeforeNext),
      [0, 0, shardOrder(hub)[2].readsBeforeNext],
    );
    const bad = spawnSync(process.execPath, [cliPath(), 'arc', 'download', '--parallel', '0'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--parallel takes a whole number from 1 to 64, not "0"/);
  } finally {
    await hub.close();
  }
});

test('retries reach the progress notifications; a refused download fails with its HTTP status; the token never reaches the log', async () => {
  const repo = tempDir();
  const shards = writeArcShards(repo, { sessions: 12, shards: 2 });
  const RIGHT = 'hf_rightTokenForTheFakeHub0123456789';
  const WRONG = 'hf_wrongSecretThatMustNeverBeLogged42';
  // The listing fails twice with 503 (retried), then the Hub refuses the wrong token (not retried).
  const hub = await startFakeHub({
    root: repo,
    token: RIGHT,
    faults: { statuses: [{ status: 503, count: 2, on: 'tree' }] },
  });
  const root = tempDir();
  const lsp = new LspSession({ ...HUB_ENV }, { cwd: tempDir() });
  const progress: DownloadProgressNotification.Params[] = [];
  lsp.onNotification(DownloadProgressNotification.type, (p) => void progress.push(p));
  try {
    await lsp.initialize(root, { initializationOptions: { logLevel: 'debug' } });
    const refused = await lsp
      .request(DownloadArcRequest.type, { id: 'wrong', out: 'data/arc', endpoint: hub.hubUrl, token: WRONG })
      .then(
        () => assert.fail('the download succeeded with the wrong token'),
        (error: { message: string; data?: DownloadArcRequest.ErrorData }) => error,
      );
    assert.match(
      refused.message,
      /the Hub rejected the token \(HTTP 401: invalid or expired\).*give a valid token \("NeuroCache: Set Hugging Face Token", HF_TOKEN, HUGGING_FACE_HUB_TOKEN or the token file at HF_TOKEN_PATH \(default \$HF_HOME\/token\)\)$/,
    );
    assert.deepEqual(refused.data, { httpStatus: 401 });
    const retries = progress.filter((p) => p.id === 'wrong' && p.retrying).map((p) => p.retrying!);
    assert.deepEqual(
      retries.map((r) => [r.attempt, r.attempts, r.reason]),
      [
        [2, 6, 'HTTP 503 Service Unavailable'],
        [3, 6, 'HTTP 503 Service Unavailable'],
      ],
    );
    assert.ok(retries.every((r) => r.delayMs >= 0));
    assert.ok(
      progress.every((p) => p.shards === 0),
      'the shards were never listed',
    );

    // With the right token it downloads; the message says what the filters kept and left out.
    hub.reset();
    const result = await lsp.request(DownloadArcRequest.type, {
      id: 'right',
      out: 'data/arc',
      endpoint: hub.hubUrl,
      token: RIGHT,
    });
    const kept = shards.sessions.filter(
      (s) => s.t2wSha256 !== null && (s.acquisition === 'space_2x' || s.acquisition === 'space_no_accel') && s.hasMask,
    );
    assert.equal(result.status, 'downloaded');
    assert.equal(result.samples, kept.length);
    const count = (acquisition: string) => kept.filter((s) => s.acquisition === acquisition).length;
    assert.match(
      result.message,
      new RegExp(
        `^Downloaded ${kept.length} samples from 2 shards \\(${count('space_2x')} space_2x \\+ ${count('space_no_accel')} space_no_accel; [\\d.]+ [kM]?B\\)\\. ` +
          `The filters left out ${shards.sessions.length - kept.length} of ${shards.sessions.length} sessions: `,
      ),
    );
    // Each reason the shards hold is named, with its count.
    const noT2w = shards.sessions.filter((s) => s.t2wSha256 === null).length;
    const tse = shards.sessions.filter((s) => s.t2wSha256 !== null && s.acquisition === 'turbo_spin_echo').length;
    assert.ok(noT2w > 0 && tse > 0, 'the shards have sessions of both kinds');
    assert.match(result.message, new RegExp(`\\b${noT2w} without a T2w image\\b`));
    assert.match(result.message, new RegExp(`\\b${tse} turbo spin echo\\b`));
    const again = await lsp.request(DownloadArcRequest.type, {
      id: 'again',
      out: 'data/arc',
      endpoint: hub.hubUrl,
      token: RIGHT,
    });
    assert.equal(again.status, 'up-to-date');
    assert.match(
      again.message,
      /is already complete \(\d+ samples\); Force Re-download ARC dataset downloads it again\.$/,
    );

    const log = lsp.logs.map((l) => l.message);
    assert.ok(
      log.some((l) => /^Download ARC dataset: .* token from the editor's secret storage;/.test(l)),
      log.join('\n'),
    );
    assert.ok(
      lsp.logs.some(
        (l) =>
          l.type === MessageType.Warning &&
          /^Download: retrying GET .*\/tree\/.* in [\d.]+ s \(attempt 2 of 6\): HTTP 503 Service Unavailable$/.test(
            l.message,
          ),
      ),
      log.join('\n'),
    );
    assert.ok(
      lsp.logs.some(
        (l) => l.type === MessageType.Error && /^Download failed after [\d.]+ s: .*HTTP 401/.test(l.message),
      ),
      log.join('\n'),
    );
    assert.ok(
      log.some((l) => /^Download finished in [\d.]+ s: Downloaded \d+ samples/.test(l)),
      log.join('\n'),
    );
    // Neither token, in any log line, progress notification or error, at the most verbose level.
    const everything = JSON.stringify([lsp.logs, progress, refused]);
    assert.ok(!everything.includes(WRONG) && !everything.includes(RIGHT), 'a token was logged or sent back');
  } finally {
    await lsp.close();
    await hub.close();
  }
});

test('without a token from the editor, HF_TOKEN is used and the log names only its source', async () => {
  const repo = tempDir();
  writeArcShards(repo, { sessions: 4, shards: 1 });
  const TOKEN = 'hf_fromTheEnvironmentNeverLogged77';
  const hub = await startFakeHub({ root: repo, token: TOKEN });
  const lsp = new LspSession({ ...HUB_ENV, HF_TOKEN: TOKEN }, { cwd: tempDir() });
  try {
    await lsp.initialize(tempDir(), { initializationOptions: { logLevel: 'debug' } });
    const result = await lsp.request(DownloadArcRequest.type, { id: 'env', out: 'data/arc', endpoint: hub.hubUrl });
    assert.equal(result.status, 'downloaded');
    assert.ok(lsp.logs.some((l) => /token from HF_TOKEN;/.test(l.message)));
    assert.ok(!JSON.stringify(lsp.logs).includes(TOKEN));
  } finally {
    await lsp.close();
    await hub.close();
  }
});
