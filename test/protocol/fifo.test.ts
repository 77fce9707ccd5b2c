/**
 * The server's workspace scan with FIFOs where files are expected (issue 10 item 6): a FIFO
 * named manifest.json and a FIFO cache file the manifest lists. The scan finishes, the FIFO
 * cache file is reported as not a regular file, and the server keeps answering.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ExecuteCommandRequest } from 'vscode-languageserver-protocol/node';
import { eegNpz } from '../writers/npz';
import { tempDir } from '../support/python';
import { uriOf, withLsp } from '../support/lsp';

const noFifo = spawnSync('mkfifo', ['--version'], { stdio: 'ignore' }).status !== 0 && 'mkfifo not available';

test('the workspace scan finishes past FIFOs and reports the FIFO cache file', { skip: noFifo }, async () => {
  const root = tempDir();
  const cache = path.join(root, 'cache');
  mkdirSync(cache);
  mkdirSync(path.join(root, 'other'));
  execFileSync('mkfifo', [path.join(root, 'other', 'manifest.json')]);
  execFileSync('mkfifo', [path.join(cache, 'b_windows.npz')]);
  writeFileSync(
    path.join(cache, 'a_windows.npz'),
    eegNpz({ windows: 1, channels: 1, samples: 10, labels: new Float32Array(10).fill(1, 0, 5) }),
  );
  const manifest = path.join(cache, 'manifest.json');
  writeFileSync(
    manifest,
    JSON.stringify(
      {
        partial_seizure: [
          { cache_file: 'a_windows.npz', window_idx: 0 },
          { cache_file: 'b_windows.npz', window_idx: 0 },
        ],
        full_seizure: [],
        no_seizure: [],
      },
      null,
      2,
    ),
  );
  await withLsp(root, async (lsp) => {
    const uri = uriOf(manifest);
    await lsp.until(() => lsp.codes(uri).includes('unreadable-cache-file'));
    const fifo = lsp.published.get(uri)!.diagnostics.find((d) => d.code === 'unreadable-cache-file')!;
    assert.match(String(fifo.message), /^b_windows\.npz cannot be read: a FIFO \(named pipe\), not a regular file/);
    // A second full scan also ends, and the server answers it.
    const response = await lsp.connection.sendRequest(ExecuteCommandRequest.type, {
      command: 'neurocache.checkWorkspace',
      arguments: [],
    });
    assert.match(JSON.stringify(response), /Checked 1 file: 1 error/);
    assert.equal(
      lsp.published.has(uriOf(path.join(root, 'other', 'manifest.json'))),
      false,
      'the FIFO manifest.json is never read',
    );
  });
});
