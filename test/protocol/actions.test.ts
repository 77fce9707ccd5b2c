/**
 * Diagnostics as ESLint's, over stdio: every published diagnostic links to its section of the
 * shipped docs/diagnostics.md (`codeDescription`).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LspSession } from '../support/lsp';
import { repoRoot, tempDir } from '../support/python';
import { writeArcDataset, writeEegCache } from '../support/workspaces';

const uriOf = (file: string) => pathToFileURL(file).href;

test('every diagnostic links to its code\'s section of docs/diagnostics.md', async () => {
  const root = tempDir();
  const arc = writeArcDataset(path.join(root, 'data', 'arc'));
  const eeg = writeEegCache(path.join(root, 'eeg'));
  const lsp = new LspSession();
  try {
    await lsp.initialize(root);
    for (const { file, text } of [{ file: arc.datasetInfo, text: arc.text }, { file: eeg.manifest, text: eeg.text }]) await lsp.open(uriOf(file), text);
    const published = [...(await lsp.settled(uriOf(arc.datasetInfo))).diagnostics, ...(await lsp.settled(uriOf(eeg.manifest))).diagnostics];
    assert.deepEqual([...new Set(published.map((d) => d.code))].sort(), ['legacy-path', 'lesion-volume-mismatch', 'missing-cache-file', 'stale-manifest']);
    const doc = path.join(repoRoot(), 'docs', 'diagnostics.md');
    const lines = readFileSync(doc, 'utf8').split('\n');
    for (const d of published) {
      const match = /^(file:[^#]+)#L(\d+)$/.exec(d.codeDescription?.href ?? '');
      assert.ok(match, `${d.code}: ${JSON.stringify(d.codeDescription)}`);
      assert.equal(fileURLToPath(match[1]), doc, 'the docs beside the running server');
      assert.equal(lines[Number(match[2]) - 1], `## ${d.code}`);
    }
  } finally {
    await lsp.close();
  }
});
