/**
 * The built server as a child process (`neurocache lsp --stdio`), driven over real JSON-RPC:
 * diagnostics appear for planted problems, hovers carry the numbers, and an unrelated
 * manifest.json (a browser extension's) gets nothing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  createProtocolConnection, InitializeRequest, PublishDiagnosticsNotification, PublishDiagnosticsParams, StreamMessageReader,
  StreamMessageWriter, HoverRequest, DidOpenTextDocumentNotification, ExitNotification, ShutdownRequest,
} from 'vscode-languageserver-protocol/node';
import { eegNpz } from '../writers/npz';
import { cliPath, tempDir } from '../support/python';

test('diagnostics, hover and silence for unrelated files over stdio', async () => {
  const root = tempDir();
  const cache = path.join(root, 'cache');
  mkdirSync(cache);
  const labels = new Float32Array(2 * 64).fill(1, 0, 10);
  writeFileSync(path.join(cache, 'a_windows.npz'), eegNpz({ windows: 2, channels: 1, samples: 64, labels }));
  const manifest = JSON.stringify({
    partial_seizure: [{ cache_file: 'a_windows.npz', window_idx: 0 }, { cache_file: 'gone_windows.npz', window_idx: 0 }],
    full_seizure: [],
    no_seizure: [{ cache_file: 'a_windows.npz', window_idx: 1 }],
  }, null, 2);
  writeFileSync(path.join(cache, 'manifest.json'), manifest);
  const extensionDir = path.join(root, 'extension');
  mkdirSync(extensionDir);
  const browserManifest = JSON.stringify({ manifest_version: 3, name: 'x', version: '1.0' });

  const child = spawn(process.execPath, [cliPath(), 'lsp', '--stdio'], { env: { ...process.env, NEUROCACHE_CACHE_DIR: tempDir() } });
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const published = new Map<string, PublishDiagnosticsParams[]>();
  const waiters: (() => void)[] = [];
  connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
    published.set(params.uri, [...(published.get(params.uri) ?? []), params]);
    waiters.splice(0).forEach((w) => w());
  });
  const until = async (predicate: () => boolean) => {
    while (!predicate()) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  connection.listen();
  try {
    await connection.sendRequest(InitializeRequest.type, { processId: process.pid, rootUri: pathToFileURL(root).href, capabilities: {}, workspaceFolders: null });
    const manifestUri = pathToFileURL(path.join(cache, 'manifest.json')).href;
    const browserUri = pathToFileURL(path.join(extensionDir, 'manifest.json')).href;
    await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: browserUri, languageId: 'json', version: 1, text: browserManifest } });
    await connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: manifestUri, languageId: 'json', version: 1, text: manifest } });
    const codes = () => (published.get(manifestUri) ?? []).flatMap((p) => p.diagnostics.map((d) => d.code));
    await until(() => codes().includes('missing-cache-file'));
    const last = published.get(manifestUri)!.at(-1)!;
    const missing = last.diagnostics.find((d) => d.code === 'missing-cache-file')!;
    const line = manifest.split('\n')[missing.range.start.line];
    assert.equal(line.slice(missing.range.start.character, missing.range.end.character), '"gone_windows.npz"');
    assert.ok(last.diagnostics.some((d) => d.code === 'stale-manifest'));
    await until(() => published.has(browserUri));
    assert.deepEqual(published.get(browserUri)!.flatMap((p) => p.diagnostics), []);
    const hover = await connection.sendRequest(HoverRequest.type, { textDocument: { uri: manifestUri }, position: { line: 1, character: 5 } });
    const text = JSON.stringify(hover?.contents);
    assert.match(text, /Balanced seizure ratio/);
    assert.match(text, /3 = 2 partial \+ 0 full \+ 1 no seizure/);
  } finally {
    await connection.sendRequest(ShutdownRequest.type).catch(() => undefined);
    await connection.sendNotification(ExitNotification.type).catch(() => undefined);
    connection.dispose();
    child.kill();
  }
});
