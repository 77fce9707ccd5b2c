/**
 * Closed files past the bound on kept analyses (closedAnalyses.ts) keep only their kind, counts
 * and dependencies: they still count in the status, a watched change still re-checks them, and
 * a data view that needs one checks it again from disk (counted by its parses, not timed).
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DidChangeWatchedFilesNotification, FileChangeType } from 'vscode-languageserver-protocol/node';
import { CLOSED_KEPT_FILES } from '../../server/src/handlers/closedAnalyses';
import { NpzViewRequest, StatusNotification, WorkCountersRequest } from '../../server/src/protocol';
import { LspSession } from '../support/lsp';
import { tempDir } from '../support/python';
import { writeEegCache } from '../support/workspaces';
import { eegNpz } from '../writers/npz';

const CACHES = CLOSED_KEPT_FILES + 6;

test(
  `${CACHES} closed manifests: those whose analysis was let go still count, follow their watchers and are checked again for a view`,
  { timeout: 300_000 },
  async () => {
    const root = tempDir();
    // Checked in this order by the scan (sorted paths): c00's is the oldest, let go first.
    const caches = Array.from({ length: CACHES }, (_, i) =>
      writeEegCache(path.join(root, `c${String(i).padStart(2, '0')}`)),
    );
    const uri = (i: number) => pathToFileURL(caches[i].manifest).href;
    const lsp = new LspSession();
    try {
      await lsp.initialize(root);
      const status = () =>
        lsp.notifications
          .filter((n) => n.method === StatusNotification.method)
          .map((n) => n.params as StatusNotification.Params)
          .at(-1);
      await lsp.until(() => status()?.message === `${CACHES} files checked`);
      assert.ok(lsp.codes(uri(1)).includes('missing-cache-file'));
      const parsed = (await lsp.request(WorkCountersRequest.type, { uri: uri(0) })).parses;

      // The view of c00's cache file finds c00's manifest: its analysis is made again for it.
      const view = await lsp.request(NpzViewRequest.type, {
        uri: pathToFileURL(path.join(caches[0].directory, 'a_windows.npz')).href,
      });
      assert.deepEqual(
        view.references.map((r) => r.uri),
        [uri(0), uri(0)],
      );
      assert.equal(view.references[0].range.start.line, 3);
      assert.equal((await lsp.request(WorkCountersRequest.type, { uri: uri(0) })).parses, parsed + 1);

      // c01's missing cache file appears: the watcher re-checks c01's manifest from its dependencies.
      const gone = path.join(caches[1].directory, 'gone_windows.npz');
      writeFileSync(
        gone,
        eegNpz({ windows: 1, channels: 1, samples: 100, labels: new Float32Array(100).fill(1, 0, 10), compress: true }),
      );
      await lsp.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
        changes: [{ uri: pathToFileURL(gone).href, type: FileChangeType.Created }],
      });
      await lsp.until(() => !lsp.codes(uri(1)).includes('missing-cache-file'));
      assert.equal(status()?.files, CACHES);
    } finally {
      await lsp.close();
      rmSync(root, { recursive: true, force: true });
    }
  },
);
