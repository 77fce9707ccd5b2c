/**
 * Files starting with a UTF-8 byte-order mark over LSP: Python's json.load raises "Unexpected
 * UTF-8 BOM" for each (test/cli/bom.test.ts runs Python on the same cases), so the server reports
 * invalid-json for the closed files it scans, and for an open document whose buffer lacks the mark
 * (editors hide it and write it back on save) while the file on disk has it, with the hover
 * saying training cannot read it.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { HoverRequest } from 'vscode-languageserver-protocol/node';
import { LspSession } from '../support/lsp';
import { tempDir } from '../support/python';
import { BOM, BOM_CASES } from '../support/bom';

test(
  'the server reports invalid-json for all three files with a byte-order mark, closed and open',
  { timeout: 60_000 },
  async () => {
    const root = tempDir();
    const lsp = new LspSession();
    try {
      const uris = BOM_CASES.map(({ name, json }) => {
        const file = path.join(root, name);
        writeFileSync(file, Buffer.concat([BOM, Buffer.from(JSON.stringify(json, null, 2))]));
        return pathToFileURL(file).href;
      });
      await lsp.initialize(root);
      await lsp.until(() => uris.every((uri) => lsp.codes(uri).includes('invalid-json')));
      for (const uri of uris) {
        const [diagnostic] = lsp.published.get(uri)!.diagnostics;
        assert.match(
          String(diagnostic.message),
          /Unexpected UTF-8 BOM \(decode using utf-8-sig\): line 1 column 1 \(char 0\)\. \S/,
        );
      }
      // Opened as an editor shows it: without the mark.
      for (const [i, uri] of uris.entries()) {
        await lsp.open(uri, JSON.stringify(BOM_CASES[i].json, null, 2));
        const published = await lsp.settled(uri);
        assert.deepEqual(
          published.diagnostics.map((d) => [d.code, d.range.start]),
          [['invalid-json', { line: 0, character: 0 }]],
        );
        const hover = await lsp.connection.sendRequest(HoverRequest.type, {
          textDocument: { uri },
          position: { line: 0, character: 0 },
        });
        assert.match(JSON.stringify(hover?.contents), /Python's json cannot read it.*Unexpected UTF-8 BOM/);
      }
    } finally {
      await lsp.close();
      rmSync(root, { recursive: true, force: true });
    }
  },
);
