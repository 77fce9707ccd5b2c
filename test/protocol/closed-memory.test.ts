/**
 * What closed documents leave behind is bounded (closedAnalyses.ts): 40 manifests of 2 MB each,
 * opened and closed one after another as a user goes through them, in a server whose V8 heap is
 * limited to 64 MB. Kept whole, their analyses (text and parse, several times the file) would take
 * more than the whole heap; the server must live on, and after a full collection hold at most
 * the bound on kept analyses plus a little per closed file over what it held before.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DidCloseTextDocumentNotification } from 'vscode-languageserver-protocol/node';
import { CLOSED_KEPT_CHARACTERS } from '../../server/src/handlers/closedAnalyses';
import { MemoryUsageRequest, WorkCountersRequest } from '../../server/src/protocol';
import { LspSession } from '../support/lsp';
import { tempDir } from '../support/python';

const DOCUMENTS = 40;
const HEAP_MB = 64;
// Kept analyses cost about 3.3 bytes per character of their text (measured: 28 MB for the newest 4 of
// these manifests, 8.4 Mi characters); each file let go costs about 1.3 KB (measured on 10,000).
const BOUND = 5 * CLOSED_KEPT_CHARACTERS + DOCUMENTS * 16_384;

test(
  `${DOCUMENTS} closed 2 MB manifests fit a ${HEAP_MB} MB heap: only a bounded part of their analyses is kept`,
  { timeout: 600_000 },
  async () => {
    const root = tempDir();
    const away = tempDir();
    const lsp = new LspSession({ NODE_OPTIONS: `--max-old-space-size=${HEAP_MB} --expose-gc` });
    try {
      await lsp.initialize(root);
      const entries = (n: number) =>
        Array.from({ length: n }, (_, i) => ({
          cache_file: `sub-${String(i % 500).padStart(5, '0')}_windows.npz`,
          window_idx: i % 30,
        }));
      const text = JSON.stringify(
        { partial_seizure: entries(5_000), full_seizure: [], no_seizure: entries(20_000) },
        null,
        2,
      );
      assert.ok(text.length > 2e6);
      const before = await lsp.request(MemoryUsageRequest.type, {});
      assert.equal(before.collected, true);
      const died = lsp.exited.then((how) => {
        throw new Error(`the server ended (${JSON.stringify(how)}) after the documents were closed`);
      });
      died.catch(() => undefined); // raced below; the end of the session must not be an unhandled rejection
      for (let i = 0; i < DOCUMENTS; i++) {
        const directory = path.join(away, `d${i}`);
        mkdirSync(directory);
        writeFileSync(path.join(directory, 'manifest.json'), text);
        const uri = pathToFileURL(path.join(directory, 'manifest.json')).href;
        await lsp.open(uri, text);
        await Promise.race([lsp.settled(uri), died]);
        await lsp.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
        lsp.documents.delete(uri);
        // Checked from disk once closed: its problems stay in the Problems panel.
        await Promise.race([lsp.until(() => lsp.published.get(uri)?.version === undefined), died]);
        const { publishes } = await lsp.request(WorkCountersRequest.type, { uri });
        assert.ok(publishes >= 3);
      }
      const after = await lsp.request(MemoryUsageRequest.type, {});
      const grown = after.heapUsed - before.heapUsed;
      assert.ok(
        grown < BOUND,
        `heap grew by ${(grown / 2 ** 20).toFixed(1)} MB after closing ${DOCUMENTS} manifests (bound ${(BOUND / 2 ** 20).toFixed(1)} MB)`,
      );
    } finally {
      await lsp.close();
      rmSync(root, { recursive: true, force: true });
      rmSync(away, { recursive: true, force: true });
    }
  },
);
