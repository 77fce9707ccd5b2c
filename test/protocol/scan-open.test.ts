/**
 * The start-up scan and a document opened as the server starts: the open document is checked
 * once (its didOpen), not again when the scan reaches it. On a 1M-entry manifest a second check
 * is a second full pass over the entries (about a second of the main thread) right when the
 * user starts typing; the explicit "Check Workspace" still checks open documents afresh.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ExecuteCommandRequest } from 'vscode-languageserver-protocol/node';
import { Commands, WorkCountersRequest } from '../../server/src/protocol';
import { uriOf, withLsp } from '../support/lsp';
import { tempDir } from '../support/python';
import { eegNpz } from '../writers/npz';

/** A workspace whose scan finds several manifests, the opened one last by name. */
function workspace(): { root: string; opened: string } {
  const root = tempDir();
  let opened = '';
  for (const name of ['a', 'b', 'c', 'z']) {
    const cache = path.join(root, name);
    mkdirSync(cache);
    writeFileSync(
      path.join(cache, 'a_windows.npz'),
      eegNpz({ windows: 2, channels: 1, samples: 10, labels: new Float32Array(20).fill(1, 0, 5) }),
    );
    opened = path.join(cache, 'manifest.json');
    writeFileSync(
      opened,
      JSON.stringify({
        partial_seizure: [{ cache_file: 'a_windows.npz', window_idx: 0 }],
        full_seizure: [],
        no_seizure: [{ cache_file: 'a_windows.npz', window_idx: 1 }],
      }),
    );
  }
  return { root, opened };
}

test('a document opened at start-up is checked once, not again by the scan; Check Workspace re-checks it', async () => {
  const { root, opened } = workspace();
  const uri = uriOf(opened);
  await withLsp(undefined, async (lsp) => {
    await lsp.initialize(root);
    await lsp.open(uri, readFileSync(opened, 'utf8'));
    await lsp.until(() => lsp.logs.some((l) => /^Workspace scan: checked 4 files/.test(l.message)));
    await lsp.settled(uri);
    const first = await lsp.request(WorkCountersRequest.type, { uri });
    assert.equal(first.contentChecks, 1, JSON.stringify(first));
    assert.equal(first.parses + first.reparses, 1, JSON.stringify(first));

    await lsp.connection.sendRequest(ExecuteCommandRequest.type, {
      command: Commands.checkWorkspace,
      arguments: [],
    });
    await lsp.settled(uri);
    const again = await lsp.request(WorkCountersRequest.type, { uri });
    assert.equal(again.contentChecks, 2, JSON.stringify(again));
  });
});
