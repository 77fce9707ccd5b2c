/**
 * Issue 20: the download on real links, against a fake Hub that behaves like the real one
 * (SPEC 1.4): a throttled CDN, resets, short-lived signatures, the resolvers' RateLimit 429s,
 * shards written like the real ones (one session each, pyarrow-like ~9.2 KB footers,
 * dictionary-encoded binary columns). Time comes from small sizes, short windows and a wait
 * scale (NEUROCACHE_WAIT_SCALE), never from long sleeps.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parquetMetadata } from 'hyparquet';
import { LogMessageNotification } from 'vscode-languageserver-protocol/node';
import { downloadArc, DownloadProgress } from '../../server/src/download/arc';
import { DownloadArcRequest, DownloadProgressNotification } from '../../server/src/protocol';
import { LspSession } from '../support/lsp';
import { RemoteFile } from '../../server/src/download/remoteFile';
import { summarizeNifti } from '../../server/src/engine/arc/nifti';
import { memorySource } from '../../server/src/engine/io/source';
import { tempDir } from '../support/python';
import { startFakeHub } from './fakeHub';
import { assertDownloaded, expected, runDownload as run, servedShards } from './run';
import { NEEDED_COLUMNS, realShardOptions, writeArcShards } from './shards';

const TOKEN = 'hf_linkstestTOKEN0123456789';

/** A temp folder removed when the test ends. */
function scratch(t: { after(fn: () => void): void }): string {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const cdnRanges = (hub: { requests: { server: string; range: string | null; url: string }[] }, sha?: string) =>
  hub.requests.filter((r) => r.server === 'cdn' && (!sha || r.url.includes(sha))).map((r) => r.range!);

test('an idle timeout, not a total one: a body slower than the window in total arrives; a broken range resumes from the bytes received', async (t) => {
  const root = scratch(t);
  const blob = randomBytes(120_000);
  writeFileSync(path.join(root, 'blob.bin'), blob);
  const hub = await startFakeHub({ root });
  t.after(() => hub.close());
  const net = { endpointOrigin: new URL(hub.hubUrl).origin, idleTimeoutMs: 1000, retryBaseMs: 5 };
  // 120 kB at 40 kB/s: 3 s in total, three idle windows, every one of them with data.
  hub.faults.bytesPerSecond = 40_000;
  const slow = new RemoteFile('blob.bin', hub.resolveUrl('blob.bin'), blob.length, net);
  const started = Date.now();
  assert.ok(Buffer.from(await slow.read(0, blob.length)).equals(blob));
  assert.ok(Date.now() - started > 2 * net.idleTimeoutMs, 'the body took longer than the window');
  // A loaded machine may still stall a window: then the read resumed, it never started over.
  const slowStarts = cdnRanges(hub).map((r) => Number(/^bytes=(\d+)-/.exec(r)![1]));
  assert.ok(
    slowStarts.every((start, i) => (i === 0 ? start === 0 : start > slowStarts[i - 1])),
    `${slowStarts}`,
  );

  hub.reset();
  hub.faults.resets = { count: 2, on: 'cdn', afterBytes: 40_000 };
  const flaky = new RemoteFile('blob.bin', hub.resolveUrl('blob.bin'), blob.length, net);
  assert.ok(Buffer.from(await flaky.read(0, blob.length)).equals(blob));
  const starts = cdnRanges(hub).map((r) => Number(/^bytes=(\d+)-/.exec(r)![1]));
  assert.equal(starts.length, 3);
  assert.ok(starts[1] > 0 && starts[2] > starts[1], `each retry starts where the last one broke off: ${starts}`);
  assert.equal(flaky.resolves, 1, 'the signed URL is reused by the retries');
});

test('progress keeps moving on a slow link while a shard is read', async (t) => {
  const { shards, hub } = await servedShards(t, (dir) => writeArcShards(dir, realShardOptions(1)));
  assert.equal(expected(shards.sessions).length, 1);
  hub.faults.bytesPerSecond = 150_000;
  const out = scratch(t);
  const seen: DownloadProgress[] = [];
  const result = await downloadArc(
    {
      out,
      repo: hub.repo,
      revision: 'main',
      endpoint: hub.hubUrl,
      jobs: 1,
      force: false,
      paperParity: false,
      verifyCounts: false,
      includeTse: false,
      requireMask: true,
      offline: undefined,
      retryBaseMs: 5,
      idleTimeoutMs: 1000,
    },
    {
      countLesion: async (file) =>
        (await summarizeNifti(memorySource(readFileSync(file)), { countVoxels: true, name: file })).positiveVoxels ?? 0,
      onProgress: (p) => seen.push(p),
    },
  );
  assert.equal(result.samples, 1);
  const during = new Set(seen.filter((p) => p.shardsDone === 0).map((p) => p.bytes));
  assert.ok(during.size >= 4, `${during.size} distinct byte counts reported before the shard was done`);
  assertDownloaded(out, expected(shards.sessions), assert);
});

test("the resolvers' rate limit: the download waits what RateLimit says (t + 1 s), says so, and resolves each shard once", async (t) => {
  const { shards, hub } = await servedShards(t, (dir) => writeArcShards(dir, { sessions: 6, shards: 6 }));
  // 2 resolves per 130 s window (lasting 0.52 s here); waits scaled alike.
  hub.faults.rateLimit = { limit: 2, windowSeconds: 130, timeScale: 0.004 };
  const result = await run(['--out', scratch(t), '--endpoint', hub.hubUrl, '--json'], {
    NEUROCACHE_WAIT_SCALE: '0.004',
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).samples, expected(shards.sessions).length);
  assert.match(
    result.stderr,
    /GET data\/train-\d+-of-00006\.parquet bytes \d+-\d+: rate limited by the Hub, resuming in (\d m( \d+ s)?|\d+ s)\n/,
  );
  assert.ok(
    hub.requests.some((r) => r.status === 429),
    'the limit was hit',
  );
  const resolves = hub.requests.filter((r) => r.endpoint === 'resolve' && r.status === 302);
  assert.equal(resolves.length, shards.files.length, 'one resolve per shard, reused for all its ranges');
  assert.ok(
    hub.requests.every((r) => r.method === 'GET'),
    "no HEAD: the GET's redirect says where the bytes are",
  );
});

test("the editor's notification and output say the Hub rate-limits and when the download resumes", async (t) => {
  const { shards, hub } = await servedShards(t, (dir) => writeArcShards(dir, { sessions: 4, shards: 4 }));
  hub.faults.rateLimit = { limit: 1, windowSeconds: 130, timeScale: 0.004 };
  const lsp = new LspSession({
    HF_TOKEN: '',
    HF_ENDPOINT: '',
    HF_HOME: scratch(t),
    HF_HUB_OFFLINE: '',
    NEUROCACHE_WAIT_SCALE: '0.004',
  });
  const progress: DownloadProgressNotification.Params[] = [];
  const logged: string[] = [];
  lsp.connection.onNotification(
    DownloadProgressNotification.method,
    (p: DownloadProgressNotification.Params) => void progress.push(p),
  );
  lsp.connection.onNotification(LogMessageNotification.type, (m) => void logged.push(m.message));
  try {
    const out = scratch(t);
    await lsp.initialize(out);
    const result = (await lsp.connection.sendRequest(DownloadArcRequest.method, {
      id: 'r1',
      out,
      endpoint: hub.hubUrl,
    } satisfies DownloadArcRequest.Params)) as DownloadArcRequest.Result;
    assert.equal(result.samples, expected(shards.sessions).length);
    const limited = progress.filter((p) => p.retrying?.rateLimited);
    assert.ok(limited.length > 0, 'a progress notification carries the rate limit');
    assert.ok(
      limited.every((p) => p.retrying!.delayMs <= 131_000 * 0.004 && p.retrying!.reason === 'rate limited by the Hub'),
    );
    assert.ok(
      logged.some((line) =>
        /Download: GET data\/train-\d+-of-00004\.parquet bytes \d+-\d+: rate limited by the Hub, resuming in (\d m( \d+ s)?|\d+ s)$/.test(
          line,
        ),
      ),
      logged.join('\n'),
    );
  } finally {
    await lsp.close();
  }
});

test('a signed URL that expires while its shard is read is resolved again and the read goes on', async (t) => {
  const { shards, hub } = await servedShards(t, (dir) => writeArcShards(dir, realShardOptions(3)));
  // A reset in the middle of each T2w chunk; by the retry the 300 ms signature has expired.
  hub.faults.bytesPerSecond = 400_000;
  hub.faults.signatureTtlMs = 300;
  hub.faults.resets = { count: 100, on: 'cdn', afterBytes: 150_000, minBody: 160_000 };
  const out = scratch(t);
  const result = await run(['--out', out, '--endpoint', hub.hubUrl, '--json']);
  assert.equal(result.code, 0, result.stderr);
  assertDownloaded(out, expected(shards.sessions), assert);
  const expired = hub.requests.filter((r) => r.fault === 'expired').length;
  assert.ok(expired >= 1, 'signatures expired during the run');
  assert.equal(
    hub.requests.filter((r) => r.endpoint === 'resolve').length,
    shards.files.length + expired,
    'one more resolve per refusal',
  );
});

test('only the bytes the kept sessions need: the footer in one request, T2w only for sessions the filters keep (≤ 1.10×)', async (t) => {
  const { shards, hub } = await servedShards(t, (dir) => {
    const written = writeArcShards(dir, realShardOptions(24));
    // What a kept session needs: its shard's footer and its five column chunks.
    const need = new Map<string, number>();
    const footers = new Map<string, number>();
    for (const f of written.files) {
      const bytes = readFileSync(path.join(dir, f.path));
      const metadata = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
      footers.set(f.path, metadata.metadata_length + 8);
      const chunks = metadata.row_groups
        .flatMap((g) => g.columns.map((c) => c.meta_data!))
        .filter((m) => NEEDED_COLUMNS.includes(m.path_in_schema[0]));
      need.set(f.path, metadata.metadata_length + 8 + chunks.reduce((n, m) => n + Number(m.total_compressed_size), 0));
    }
    return { ...written, need, footers };
  });
  const footers = [...shards.footers.values()];
  assert.ok(
    footers.every((n) => n > 8500 && n < 10000),
    `footers like the real ones (~9.2 KB): ${footers}`,
  );
  const result = await run(['--out', scratch(t), '--endpoint', hub.hubUrl, '--json']);
  assert.equal(result.code, 0, result.stderr);
  const keptShards = new Set(expected(shards.sessions).map((s) => s.shard));
  const needed = [...keptShards].reduce((n, s) => n + shards.need.get(s)!, 0);
  const served = hub.bytesServed('cdn');
  const ratio = served / needed;
  process.stdout.write(
    `# bytes: ${served} served for ${needed} needed by ${keptShards.size} kept of ${shards.files.length} sessions: ${ratio.toFixed(3)}×\n`,
  );
  assert.ok(ratio <= 1.1, `${ratio.toFixed(3)}× the bytes the kept sessions need`);
  for (const f of shards.files) {
    const tail = cdnRanges(hub, f.sha256).filter((r) => r.endsWith(`-${f.size - 1}`));
    assert.equal(tail.length, 1, `${f.path}: the footer in one request (${tail})`);
  }
});

test('revisions are URL-encoded in the listing and the resolve (refs/convert/parquet)', async (t) => {
  const { shards, hub } = await servedShards(t, (dir) => writeArcShards(dir, { sessions: 6, shards: 2 }), {
    revision: 'refs/convert/parquet',
  });
  const result = await run([
    '--out',
    scratch(t),
    '--endpoint',
    hub.hubUrl,
    '--revision',
    'refs/convert/parquet',
    '--json',
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).samples, expected(shards.sessions).length);
  assert.ok(hub.requests.filter((r) => r.server === 'hub').every((r) => r.url.includes('/refs%2Fconvert%2Fparquet/')));
});

test('tokens as huggingface_hub finds them: HUGGING_FACE_HUB_TOKEN, the file at HF_TOKEN_PATH, HF_HOME with ~', async (t) => {
  const { hub } = await servedShards(t, (dir) => writeArcShards(dir, { sessions: 6, shards: 2 }), { token: TOKEN });
  const home = scratch(t);
  mkdirSync(path.join(home, 'hf'));
  writeFileSync(path.join(home, 'hf', 'token'), `${TOKEN}\n`);
  writeFileSync(path.join(home, 'elsewhere'), `${TOKEN}\n`);
  for (const env of [
    { HUGGING_FACE_HUB_TOKEN: TOKEN },
    { HF_TOKEN_PATH: path.join(home, 'elsewhere') },
    { HOME: home, HF_HOME: '~/hf' },
  ]) {
    hub.reset();
    const result = await run(['--out', scratch(t), '--endpoint', hub.hubUrl], env);
    assert.equal(result.code, 0, `${JSON.stringify(env)}: ${result.stderr}`);
    assert.ok(hub.requests.filter((r) => r.server === 'hub').every((r) => r.authorization));
  }
});

test('errors name the real cause: no such repo (an anonymous 401), token rejected, gated, revision, rate limited, offline', async (t) => {
  const { hub } = await servedShards(t, (dir) => writeArcShards(dir, { sessions: 6, shards: 2 }), { token: TOKEN });
  const failing = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const result = await run(['--out', scratch(t), '--endpoint', hub.hubUrl, ...args], env);
    assert.equal(result.code, 1, result.stderr);
    assert.ok(!result.stderr.includes(TOKEN));
    return result.stderr;
  };
  assert.match(
    await failing([]),
    /hugging-science\/arc-aphasia-bids \(revision main\) on http:\/\/127\.0\.0\.1:\d+ was not found \(HTTP 401\): check --repo and --revision; the Hub answers 401 to anonymous requests for a repo that does not exist or is private/,
  );
  assert.match(
    await failing(['--token', 'hf_wrongTOKEN']),
    /the Hub rejected the token \(HTTP 401: invalid or expired\)/,
  );
  hub.faults.repoStatus = 403;
  assert.match(
    await failing(['--token', TOKEN]),
    /hugging-science\/arc-aphasia-bids is gated \(HTTP 403\): accept its terms at http:\/\/127\.0\.0\.1:\d+\/datasets\/hugging-science\/arc-aphasia-bids with your Hugging Face account/,
  );
  hub.faults.repoStatus = undefined;
  assert.match(
    await failing(['--token', TOKEN, '--revision', 'nope']),
    /revision "nope" was not found \(HTTP 404\): check --revision/,
  );
  hub.faults.rateLimit = { limit: 0, windowSeconds: 7200, on: 'tree' };
  assert.match(
    await failing(['--token', TOKEN]),
    /rate limited by the Hub.*the server asks to wait 2 h 1 m; try again later/,
  );
  hub.reset();
  assert.match(await failing([], { TRANSFORMERS_OFFLINE: 'yes' }), /TRANSFORMERS_OFFLINE=yes forbids network access/);
  assert.equal(hub.requests.length, 0);
});
