/**
 * Diagnostics of files that no longer exist go, over stdio: a deleted folder reported as one
 * watcher event for the folder alone (as `rm -rf data/arc` can be) clears every document
 * inside it from Problems and from the status counts; *Check Workspace* drops documents that
 * vanished without any event; an open document keeps its diagnostics until it is closed.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  DidChangeWatchedFilesNotification,
  DidCloseTextDocumentNotification,
  ExecuteCommandRequest,
  FileChangeType,
  WatchKind,
} from 'vscode-languageserver-protocol/node';
import { Commands, StatusNotification } from '../../server/src/protocol';
import { LspSession, uriOf, withLsp } from '../support/lsp';
import { tempDir } from '../support/python';
import { writeArcDataset, writeEegCache } from '../support/workspaces';

/** The last status the server sent. */
function lastStatus(lsp: LspSession): StatusNotification.Params {
  return lsp.notifications.filter((n) => n.method === StatusNotification.method).at(-1)!
    .params as StatusNotification.Params;
}

function workspace() {
  const root = tempDir();
  const arc = writeArcDataset(path.join(root, 'data', 'arc'));
  const eeg = writeEegCache(path.join(root, 'data', 'eeg'));
  return { root, arc, eeg, arcUri: uriOf(arc.datasetInfo), eegUri: uriOf(eeg.manifest) };
}

test("a deleted folder, reported by one event for the folder, takes its documents' diagnostics with it", async () => {
  const { root, arc, arcUri, eegUri } = workspace();
  await withLsp(root, async (lsp) => {
    await lsp.until(
      () => lsp.codes(arcUri).includes('lesion-volume-mismatch') && lsp.codes(eegUri).includes('missing-cache-file'),
    );
    await lsp.until(() => lastStatus(lsp).pending === 0 && lastStatus(lsp).files === 2);
    const before = lastStatus(lsp);
    // Deletions of anything are watched: a folder's own event is the only one some watchers send.
    assert.ok(
      lsp.registrations.some((r) =>
        JSON.stringify(r.registerOptions).includes(JSON.stringify({ globPattern: '**/*', kind: WatchKind.Delete })),
      ),
    );

    rmSync(arc.directory, { recursive: true });
    await lsp.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
      changes: [{ uri: uriOf(arc.directory), type: FileChangeType.Deleted }],
    });
    await lsp.until(() => lsp.published.get(arcUri)!.diagnostics.length === 0);
    await lsp.until(() => lastStatus(lsp).files === 1);
    assert.ok(lastStatus(lsp).files < before.files, 'the status drops the vanished file');
    assert.ok(lsp.codes(eegUri).includes('missing-cache-file'), 'documents outside the folder keep theirs');

    // Its parent goes too (named as a folder, with a trailing slash): the manifest inside goes with it.
    rmSync(path.join(root, 'data'), { recursive: true });
    await lsp.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
      changes: [{ uri: `${uriOf(path.join(root, 'data'))}/`, type: FileChangeType.Deleted }],
    });
    await lsp.until(() => lsp.published.get(eegUri)!.diagnostics.length === 0);
    await lsp.until(() => lastStatus(lsp).files === 0);
  });
});

test('Check Workspace drops documents that vanished without a watcher event', async () => {
  const { root, arc, arcUri, eegUri } = workspace();
  await withLsp(root, async (lsp) => {
    await lsp.until(
      () => lsp.codes(arcUri).includes('lesion-volume-mismatch') && lsp.codes(eegUri).includes('missing-cache-file'),
    );
    rmSync(arc.directory, { recursive: true });
    const result = await lsp.connection.sendRequest(ExecuteCommandRequest.type, {
      command: Commands.checkWorkspace,
      arguments: [],
    });
    assert.match(JSON.stringify(result), /Checked 1 file/);
    assert.deepEqual(lsp.published.get(arcUri)!.diagnostics, []);
    assert.ok(lsp.codes(eegUri).includes('missing-cache-file'));
    await lsp.until(() => lastStatus(lsp).files === 1);
  });
});

/** Runs `body` with the EEG manifest open and checked: it names one missing cache file. */
function withOpenEegManifest(
  body: (lsp: LspSession, eeg: ReturnType<typeof workspace>['eeg'], eegUri: string) => Promise<void>,
) {
  const { root, eeg, eegUri } = workspace();
  return withLsp(root, async (lsp) => {
    await lsp.open(eegUri, eeg.text);
    await lsp.settled(eegUri);
    assert.ok(lsp.codes(eegUri).includes('missing-cache-file'));
    await body(lsp, eeg, eegUri);
  });
}

test('an open document keeps its diagnostics after its folder is deleted, until it is closed', () =>
  withOpenEegManifest(async (lsp, eeg, eegUri) => {
    rmSync(eeg.directory, { recursive: true });
    await lsp.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
      changes: [{ uri: uriOf(eeg.directory), type: FileChangeType.Deleted }],
    });
    // The buffer is re-checked against the cache that is now gone: every file it names is missing.
    await lsp.until(() => lsp.codes(eegUri).filter((c) => c === 'missing-cache-file').length === 3);
    await lsp.connection.sendRequest(ExecuteCommandRequest.type, { command: Commands.checkWorkspace, arguments: [] });
    assert.ok(lsp.codes(eegUri).includes('missing-cache-file'), 'Check Workspace leaves open documents alone');

    await lsp.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri: eegUri } });
    await lsp.until(() => lsp.published.get(eegUri)!.diagnostics.length === 0);
  }));

test('re-checking an open document whose text is unchanged never drops its cache findings meanwhile', () =>
  withOpenEegManifest(async (lsp, _eeg, eegUri) => {
    const seen: string[][] = [];
    const stop = lsp.onPublished((p) => {
      if (p.uri === eegUri) seen.push(p.diagnostics.map((d) => String(d.code)));
    });
    // The scan checks the open buffer again (its file is on disk), as a cache file's change does.
    await lsp.connection.sendRequest(ExecuteCommandRequest.type, { command: Commands.checkWorkspace, arguments: [] });
    await lsp.settled(eegUri);
    stop();
    assert.ok(seen.length > 0, 'the buffer was checked again');
    for (const codes of seen) assert.ok(codes.includes('missing-cache-file'), `a publish without it: ${codes}`);
  }));
