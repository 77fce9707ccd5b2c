/**
 * After `shutdown` has been answered the LSP allows only `exit`: every request gets
 * InvalidRequest (a rebuild must not rewrite the manifest, a hover must not answer, a second
 * shutdown is refused too), notifications are ignored, and `exit` still ends the process (code 0).
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  ErrorCodes,
  ExecuteCommandRequest,
  ExitNotification,
  HoverRequest,
  ResponseError,
  ShutdownRequest,
} from 'vscode-languageserver-protocol/node';
import { Commands } from '../../server/src/protocol';
import { eegNpz } from '../writers/npz';
import { LspSession } from '../support/lsp';
import { tempDir } from '../support/python';

const STALE = JSON.stringify(
  { partial_seizure: [{ cache_file: 'gone_windows.npz', window_idx: 0 }], full_seizure: [], no_seizure: [] },
  null,
  2,
);

async function refusal(work: Promise<unknown>): Promise<number | string> {
  try {
    return `answered ${JSON.stringify(await work)}`;
  } catch (error) {
    return error instanceof ResponseError ? error.code : String(error);
  }
}

test(
  'after shutdown every request gets InvalidRequest, nothing is written, and exit still ends the server',
  { timeout: 60_000 },
  async () => {
    const root = tempDir();
    const lsp = new LspSession();
    try {
      writeFileSync(
        path.join(root, 'a_windows.npz'),
        eegNpz({ windows: 2, channels: 1, samples: 10, labels: new Float32Array(20).fill(1, 0, 3) }),
      );
      const manifest = path.join(root, 'manifest.json');
      writeFileSync(manifest, STALE);
      const uri = pathToFileURL(manifest).href;
      await lsp.initialize(root);
      await lsp.until(() => lsp.codes(uri).length > 0);

      assert.equal(await lsp.connection.sendRequest(ShutdownRequest.type), null);
      const rebuild = lsp.connection.sendRequest(ExecuteCommandRequest.type, {
        command: Commands.rebuildManifest,
        arguments: [uri],
      });
      assert.equal(await refusal(rebuild), ErrorCodes.InvalidRequest);
      assert.equal(readFileSync(manifest, 'utf8'), STALE, 'the manifest was rewritten after shutdown');
      assert.equal(
        await refusal(
          lsp.connection.sendRequest(HoverRequest.type, { textDocument: { uri }, position: { line: 1, character: 5 } }),
        ),
        ErrorCodes.InvalidRequest,
      );
      assert.equal(
        await refusal(lsp.connection.sendRequest('neurocache/noSuchRequest', {})),
        ErrorCodes.InvalidRequest,
      );
      assert.equal(await refusal(lsp.connection.sendRequest(ShutdownRequest.type)), ErrorCodes.InvalidRequest);

      // A notification is dropped: opening a document publishes nothing for it.
      const other = pathToFileURL(path.join(root, 'other', 'manifest.json')).href;
      await lsp.open(other, STALE);
      await refusal(
        lsp.connection.sendRequest(HoverRequest.type, {
          textDocument: { uri: other },
          position: { line: 0, character: 0 },
        }),
      );
      await lsp.connection.sendNotification(ExitNotification.type);
      // Exit code 0; or SIGKILL from the exit guard (lifecycle.ts) when a file system call is still
      // in flight at that moment (a loaded machine), which it cannot join: the process ends either way.
      const exited = await lsp.exited;
      assert.ok((exited.code === 0 && exited.signal === null) || exited.signal === 'SIGKILL', JSON.stringify(exited));
      assert.equal(lsp.published.has(other), false);
      assert.equal(readFileSync(manifest, 'utf8'), STALE);
    } finally {
      lsp.connection.dispose();
      lsp.child.kill();
      rmSync(root, { recursive: true, force: true });
    }
  },
);
