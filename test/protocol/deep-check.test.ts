/**
 * The deep check over stdio: `neurocache/deepCheck` on an open manifest publishes the bad
 * windows on their entries, reports progress with the request's id, and keeps the findings on
 * the next check (from fingerprints); with `neurocache.deepChecks` every check includes them,
 * and without it none does.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import {
  CancellationTokenSource,
  DidCloseTextDocumentNotification,
  LSPErrorCodes,
  ResponseError,
} from 'vscode-languageserver-protocol/node';
import { DeepCheckProgressNotification, DeepCheckRequest } from '../../server/src/protocol';
import { DEEP_HOLD_VARIABLE } from '../../server/src/service/deepCheck';
import { LspSession } from '../support/lsp';
import { pythonWith, runPython, tempDir } from '../support/python';

const numpy = pythonWith('numpy');

function plant(dir: string): string {
  runPython(
    numpy!,
    `
import sys, numpy as np
d = sys.argv[1]
for name, bad in [("a_windows.npz", True), ("b_windows.npz", False)]:
    w = np.zeros((3, 19, 512), np.float32)
    if bad:
        w[1, 0, 0] = np.nan
        w[2, 3, 4] = 12.0
    l = np.zeros((3, 512), np.float32); l[0, :10] = 1
    np.savez_compressed(f"{d}/{name}", windows=w, labels=l)
print("null")`,
    [dir],
  );
  const entries = ['a_windows.npz', 'b_windows.npz'].flatMap((f) =>
    [0, 1, 2].map((w) => ({ cache_file: f, window_idx: w })),
  );
  const manifest = {
    partial_seizure: entries.filter((e) => e.window_idx === 0),
    full_seizure: [],
    no_seizure: entries.filter((e) => e.window_idx > 0),
  };
  const file = path.join(dir, 'manifest.json');
  writeFileSync(file, JSON.stringify(manifest, null, 2));
  return file;
}

const codes = (lsp: LspSession, uri: string) =>
  (lsp.published.get(uri)?.diagnostics ?? [])
    .map((d) => `${d.code}@${d.range.start.line}`)
    .filter((c) => /windows/.test(c))
    .sort();

test(
  'the deep-check request publishes the bad windows, with progress, and keeps them; the setting does it for every check',
  { skip: !numpy && 'python3 with numpy not found', timeout: 120_000 },
  async (t) => {
    const dir = tempDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = plant(dir);
    const uri = pathToFileURL(file).href;
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    const entryLine = (cache: string, w: number) =>
      lines.findIndex((l, i) => l.includes(`"${cache}"`) && lines[i + 1]?.includes(`"window_idx": ${w}`)) - 1;
    const expected = [
      `non-finite-windows@${entryLine('a_windows.npz', 1)}`,
      `unclipped-windows@${entryLine('a_windows.npz', 2)}`,
    ].sort();

    const lsp = new LspSession();
    const progress: DeepCheckProgressNotification.Params[] = [];
    lsp.onNotification(DeepCheckProgressNotification.type, (p) => void progress.push(p));
    try {
      await lsp.initialize(dir);
      await lsp.open(uri, text);
      await lsp.settled(uri);
      assert.deepEqual(codes(lsp, uri), [], 'no deep findings before the request');
      const result = await lsp.request(DeepCheckRequest.type, { id: 'deep-1', uri });
      assert.deepEqual(
        { files: result.files, nonFinite: result.nonFiniteWindows, unclipped: result.unclippedWindows },
        { files: 2, nonFinite: 1, unclipped: 1 },
      );
      assert.match(
        result.message,
        /^Deep-checked 2 cache files: 1 listed window with NaN\/Inf, 1 listed window beyond ±10/,
      );
      await lsp.until(() => codes(lsp, uri).length === 2);
      assert.deepEqual(codes(lsp, uri), expected);
      assert.ok(progress.length > 0 && progress.every((p) => p.id === 'deep-1'));
      assert.deepEqual(progress[progress.length - 1], { id: 'deep-1', done: 2, total: 2 });
      // An edit re-checks: the deep findings stay (answered from fingerprints).
      await lsp.change(uri, `${text}\n`);
      await lsp.until(() => lsp.documents.get(uri)!.version === 2 && codes(lsp, uri).length === 2);
      assert.deepEqual(codes(lsp, uri), expected);
    } finally {
      await lsp.close();
    }

    const withSetting = new LspSession();
    withSetting.settings = () => ({ deepChecks: true });
    const without = new LspSession();
    try {
      await Promise.all([withSetting.initialize(dir), without.initialize(dir)]);
      await Promise.all([withSetting.open(uri, text), without.open(uri, text)]);
      await withSetting.until(() => codes(withSetting, uri).length === 2);
      assert.deepEqual(codes(withSetting, uri), expected);
      await without.settled(uri);
      assert.deepEqual(codes(without, uri), [], 'off by default');
    } finally {
      await Promise.all([withSetting.close(), without.close()]);
    }
  },
);

test(
  'closing the manifest ends its deep-check request: neither its check from disk nor a reopened editor inflates again',
  { skip: !numpy && 'python3 with numpy not found', timeout: 120_000 },
  async (t) => {
    const dir = tempDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = plant(dir);
    const uri = pathToFileURL(file).href;
    const text = readFileSync(file, 'utf8');
    const lsp = new LspSession();
    try {
      await lsp.initialize(dir);
      await lsp.open(uri, text);
      await lsp.settled(uri);
      await lsp.request(DeepCheckRequest.type, { id: 'deep-1', uri });
      await lsp.until(() => codes(lsp, uri).length === 2);
      // Closed: the server checks the file from disk (it stays in the Problems panel), without the deep check.
      lsp.published.delete(uri);
      lsp.documents.delete(uri);
      await lsp.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
      await lsp.settled(uri); // published again: the closed manifest is still checked
      assert.deepEqual(codes(lsp, uri), [], 'no deep findings once closed');
      // Opened again: a check like any other until the command is run again.
      lsp.published.delete(uri);
      await lsp.open(uri, text);
      await lsp.settled(uri);
      assert.deepEqual(codes(lsp, uri), [], 'the request did not outlive the editor');
    } finally {
      await lsp.close();
    }
  },
);

test(
  'a deep check cancelled midway stops there: its last count was shown, the request ends as cancelled, the next check is an ordinary one',
  { skip: !numpy && 'python3 with numpy not found', timeout: 60_000 },
  async (t) => {
    const dir = tempDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = plant(dir);
    const uri = pathToFileURL(file).href;
    const text = readFileSync(file, 'utf8');
    // One file inflated, then the check holds until cancelled: midway whatever the machine's speed.
    const lsp = new LspSession({ [DEEP_HOLD_VARIABLE]: `1:${dir}` });
    const progress: string[] = [];
    let oneDone = () => {};
    const reachedOne = new Promise<void>((resolve) => (oneDone = resolve));
    lsp.onNotification(DeepCheckProgressNotification.type, (p) => {
      progress.push(`${p.done}/${p.total}`);
      if (p.done === 1) oneDone();
    });
    // Closed however the test ends (a lost count would leave it waiting until its timeout).
    t.after(() => lsp.close());
    await lsp.initialize(dir);
    await lsp.open(uri, text);
    await lsp.settled(uri);
    const cancel = new CancellationTokenSource();
    const request = lsp.connection.sendRequest(DeepCheckRequest.type.method, { id: 'held', uri }, cancel.token);
    // Within the throttle's interval of 0/2, yet shown: the count is held back, not dropped.
    await reachedOne;
    cancel.cancel();
    await assert.rejects(
      request,
      (error: unknown) => error instanceof ResponseError && error.code === LSPErrorCodes.RequestCancelled,
    );
    assert.deepEqual(progress, ['0/2', '1/2']);
    // The request is over: an edit's check is an ordinary one, and it finishes.
    lsp.published.delete(uri);
    await lsp.change(uri, `${text}\n`);
    await lsp.settled(uri);
    assert.deepEqual(codes(lsp, uri), [], 'no deep check after the cancelled one');
    assert.deepEqual(progress, ['0/2', '1/2'], 'nothing more was deep-checked');
  },
);
