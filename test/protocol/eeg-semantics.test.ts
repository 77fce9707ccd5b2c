/**
 * The server over real JSON-RPC for `_dataset_index.json` (found by the workspace scan, counts
 * checked against each cache's windows header, hovers, the rewrite fix written in json.dump's
 * bytes, re-checked by watchers) and for files Python's json cannot read (invalid-json,
 * 100,000-deep nesting, a web-extension manifest being typed gets nothing).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  CodeActionRequest,
  DidChangeWatchedFilesNotification,
  ExecuteCommandRequest,
  FileChangeType,
  HoverRequest,
} from 'vscode-languageserver-protocol/node';
import { eegNpz } from '../writers/npz';
import { pythonWith, tempDir } from '../support/python';
import { LspSession, uriOf, withLsp } from '../support/lsp';

const python = pythonWith('json');

async function hoverText(lsp: LspSession, uri: string, line: number, character: number): Promise<string> {
  const hover = await lsp.connection.sendRequest(HoverRequest.type, {
    textDocument: { uri },
    position: { line, character },
  });
  return hover ? JSON.stringify(hover.contents) : '';
}

const cache = (windows: number) =>
  eegNpz({ windows, channels: 1, samples: 8, labels: new Float32Array(windows * 8), compress: true });

/** What Python's `json.dump(cache_data, f)` writes for these files and counts. */
function jsonDump(files: string[], counts: number[]): string {
  const data = { files, window_counts: counts };
  if (!python)
    return `{"files": [${files.map((f) => JSON.stringify(f)).join(', ')}], "window_counts": [${counts.join(', ')}]}`;
  return execFileSync(
    python,
    ['-c', 'import json, sys\njson.dump(json.loads(sys.argv[1]), sys.stdout)', JSON.stringify(data)],
    { encoding: 'utf8' },
  );
}

test('_dataset_index.json: scan, counts against the caches, hover, the rewrite fix in json.dump bytes, watchers', async () => {
  const root = tempDir();
  const dir = path.join(root, 'cache', 'train');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'a_windows.npz'), cache(3));
  writeFileSync(path.join(dir, 'b_windows.npz'), cache(5));
  const files = ['/data/edf/a.edf', '/data/edf/b.edf', '/data/edf/c.edf'];
  const index = path.join(dir, '_dataset_index.json');
  const text = jsonDump(files, [3, 7, 2]);
  writeFileSync(index, text);
  const uri = uriOf(index);
  await withLsp(root, async (lsp) => {
    await lsp.until(() => lsp.codes(uri).includes('index-window-count'));
    await lsp.settled(uri);
    const published = lsp.published.get(uri)!.diagnostics;
    assert.deepEqual(
      published.map((d) => `${d.severity} ${d.code} ${text.slice(d.range.start.character, d.range.end.character)}`),
      ['2 index-missing-cache-file "/data/edf/c.edf"', '1 index-window-count 7'],
    );
    assert.match(published[1].message as string, /Recorded 7 windows, but b_windows\.npz has 5 .*IndexError mid-epoch/);

    // Hovers read the file as the editor shows it.
    await lsp.open(uri, text);
    await lsp.settled(uri);
    const onKey = await hoverText(lsp, uri, 0, text.indexOf('window_counts') + 2);
    assert.match(onKey, /EEG dataset index/);
    assert.match(onKey, /EDF files: 3 \(1 without a cache file/);
    assert.match(onKey, /Windows: 12 \(the sum of window_counts\)/);
    assert.match(onKey, /Verified: 2 of 3 counts against the windows each cache file holds.*1 differ/);
    assert.match(
      await hoverText(lsp, uri, 0, text.indexOf('b.edf')),
      /b_windows\.npz.*Recorded windows: 7.*Windows in the cache file: 5 ✗/,
    );

    const diagnostic = lsp.published.get(uri)!.diagnostics.find((d) => d.code === 'index-window-count')!;
    const actions = await lsp.connection.sendRequest(CodeActionRequest.type, {
      textDocument: { uri },
      range: diagnostic.range,
      context: { diagnostics: [diagnostic] },
    });
    assert.ok(JSON.stringify(actions).includes('Rewrite every window count from the cache'));
    const response = await lsp.connection.sendRequest(ExecuteCommandRequest.type, {
      command: 'neurocache.rewriteWindowCounts',
      arguments: [uri],
    });
    assert.match(JSON.stringify(response), /Rewrote 1 window count from the caches; kept 1 recorded/);
    await lsp.until(() => lsp.documents.get(uri)!.version === 2);
    // Counts from the caches; c's cache is missing, so its count stays: exactly json.dump's bytes.
    assert.equal(lsp.documents.get(uri)!.getText(), jsonDump(files, [3, 5, 2]));
    await lsp.settled(uri);
    assert.deepEqual(lsp.codes(uri), ['index-missing-cache-file']);

    // c's cache appears (with 4 windows, not the 2 recorded): the watcher re-checks the index.
    writeFileSync(path.join(dir, 'c_windows.npz'), cache(4));
    await lsp.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
      changes: [{ uri: uriOf(path.join(dir, 'c_windows.npz')), type: FileChangeType.Created }],
    });
    await lsp.until(() => lsp.codes(uri).join() === 'index-window-count');
    assert.match(lsp.published.get(uri)!.diagnostics[0].message as string, /silently leaves 2 of them out/);
  });
});

test("files Python's json cannot read: invalid-json in a cache directory (also 100,000 levels deep), nothing for a web-extension manifest being typed", async () => {
  const root = tempDir();
  const dir = path.join(root, 'cache');
  const web = path.join(root, 'extension');
  mkdirSync(dir);
  mkdirSync(web);
  writeFileSync(path.join(dir, 'a_windows.npz'), cache(2));
  const manifest = path.join(dir, 'manifest.json');
  const typed = path.join(web, 'manifest.json');
  writeFileSync(manifest, '');
  writeFileSync(typed, '');
  await withLsp(root, async (lsp) => {
    const uri = uriOf(manifest);
    // Empty, next to a cache file: ours, and Python cannot read it.
    await lsp.open(uri, '');
    await lsp.settled(uri);
    assert.deepEqual(lsp.codes(uri), ['invalid-json']);
    await lsp.change(uri, '{"partial_seizure": [{"cache_file": "a_windows.npz", "window_idx": 0}');
    const broken = await lsp.settled(uri);
    assert.deepEqual(
      broken.diagnostics.map((d) => [d.code, d.range.start.character]),
      [['invalid-json', 69]],
    );
    assert.match(
      broken.diagnostics[0].message as string,
      /Expecting ',' delimiter: line 1 column 70 \(char 69\)\. The training loop/,
    );
    const hover = await hoverText(lsp, uri, 0, 5);
    assert.match(hover, /Python's json cannot read it/);
    assert.match(hover, /No statistics/);
    assert.doesNotMatch(hover, /seizure ratio/i);

    await lsp.change(uri, `{"partial_seizure": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    const deep = await lsp.settled(uri);
    assert.deepEqual(
      deep.diagnostics.map((d) => d.code),
      ['invalid-json'],
    );
    assert.match(deep.diagnostics[0].message as string, /RecursionError/);

    // A browser-extension manifest being typed, away from any cache: nothing at all.
    const typedUri = uriOf(typed);
    lsp.published.delete(typedUri);
    await lsp.open(typedUri, '{"manifest_version": 3, "name": "x", ');
    // The server answers an unrelated open document with an empty publish (no version).
    await lsp.until(() => lsp.published.has(typedUri));
    assert.deepEqual(lsp.published.get(typedUri)!.diagnostics, []);
  });
});

test('manifest.json entries whose files stop the Python build: cache-file-stops-build in the editor', async () => {
  const root = tempDir();
  writeFileSync(
    path.join(root, 'a_windows.npz'),
    eegNpz({ windows: 2, channels: 1, samples: 10, labels: new Float32Array(20).fill(1, 0, 3), compress: true }),
  );
  const truncated = cache(2);
  writeFileSync(path.join(root, 'cut_windows.npz'), truncated.subarray(0, truncated.length - 40));
  const text = JSON.stringify(
    {
      partial_seizure: [{ cache_file: 'a_windows.npz', window_idx: 0 }],
      full_seizure: [],
      no_seizure: [
        { cache_file: 'a_windows.npz', window_idx: 1 },
        { cache_file: 'cut_windows.npz', window_idx: 0 },
      ],
    },
    null,
    2,
  );
  const file = path.join(root, 'manifest.json');
  writeFileSync(file, text);
  await withLsp(root, async (lsp) => {
    const uri = uriOf(file);
    await lsp.open(uri, text);
    await lsp.settled(uri);
    assert.deepEqual(lsp.codes(uri).sort(), ['cache-file-stops-build', 'cache-file-stops-build']);
    assert.match(
      lsp.published.get(uri)!.diagnostics[0].message as string,
      /zipfile\.BadZipFile, which the Python builder does not catch/,
    );
    assert.equal(readFileSync(file, 'utf8'), text);
  });
});
