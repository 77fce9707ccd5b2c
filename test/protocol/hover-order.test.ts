/**
 * Hovers over stdio read top to bottom as a person wants them: the numbers first, then the
 * picture with a caption saying what it shows and at what scale, then the file and the
 * findings about it; element types in words, not numpy codes.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { HoverRequest, MarkupContent } from 'vscode-languageserver-protocol/node';
import { LspSession, uriOf, withLsp } from '../support/lsp';
import { tempDir } from '../support/python';
import { writeArcDataset, writeEegCache, writeRebuiltCache } from '../support/workspaces';

async function hoverAt(lsp: LspSession, uri: string, text: string, needle: string): Promise<string> {
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.includes(needle));
  const character = lines[line].indexOf(needle) + 2;
  const hover = await lsp.connection.sendRequest(HoverRequest.type, {
    textDocument: { uri },
    position: { line, character },
  });
  return (hover?.contents as MarkupContent | undefined)?.value ?? '';
}

/** Asserts that each of `parts` occurs in `text`, in this order. */
function inOrder(text: string, parts: (string | RegExp)[]): void {
  let from = 0;
  for (const part of parts) {
    const rest = text.slice(from);
    const match =
      typeof part === 'string'
        ? { index: rest.indexOf(part), length: part.length }
        : (() => {
            const m = part.exec(rest);
            return { index: m ? m.index : -1, length: m?.[0].length ?? 0 };
          })();
    assert.ok(
      match.index >= 0,
      `${String(part)} after offset ${from} in:\n${text.replace(/base64,[^)]+/g, 'base64,…')}`,
    );
    from += match.index + match.length;
  }
}

const NUMPY_CODES = /[<>|=][biufc]\d\b|\b(u?int|float)\d+\b/;

test('manifest hovers: statistics, the picture and its caption, then the file and its findings', async () => {
  const root = tempDir();
  const eeg = writeEegCache(path.join(root, 'eeg'));
  await withLsp(root, async (lsp) => {
    const uri = uriOf(eeg.manifest);
    await lsp.open(uri, eeg.text);
    await lsp.settled(uri);
    const key = await hoverAt(lsp, uri, eeg.text, '"partial_seizure"');
    inOrder(key, [
      'Windows: 3 = 2 partial + 0 full + 1 no seizure',
      'Balanced training set: none from this manifest',
      'data:image/png',
      '*All 3 windows: partial (orange) 66.67% · full (red) 0.00% · no seizure (grey) 33.33%*',
      'Missing references: 1 entry',
    ]);

    const entry = await hoverAt(lsp, uri, eeg.text, '"a_windows.npz"');
    inOrder(entry, [
      '**Window 0 of a_windows.npz**',
      'Listed as: partial_seizure',
      'Seizure fraction: 10.00%',
      'data:image/png',
      /\*Seizure labels through window 0, start to end: its 100 label samples in \d+ columns of \d+; red height = share of samples > 0\*/,
      `File: \`${path.join(eeg.directory, 'a_windows.npz')}\``,
      'The file holds 2 windows; its labels are 32-bit floating-point numbers.',
    ]);
    assert.doesNotMatch(entry.replace(/base64,[^)]+/g, ''), NUMPY_CODES);
  });
});

test('a mask hover: the lesion volume, the slice with its caption and scale, then the file in plain words', async () => {
  const root = tempDir();
  const arc = writeArcDataset(path.join(root, 'data', 'arc'));
  await withLsp(root, async (lsp) => {
    const uri = uriOf(arc.datasetInfo);
    await lsp.open(uri, arc.text);
    await lsp.settled(uri);
    const mask = await hoverAt(lsp, uri, arc.text, 'sub-M2001_ses-1_lesion');
    inOrder(mask, [
      'Lesion volume: recorded 16, counted 17 voxels > 0 ✗',
      'data:image/png',
      '*Axial slice with the most lesion voxels: lesion in red over the T2w image (grey, 1st–99th percentile); 6 × 5 voxels, 6 × 5 mm*',
      'Resolved:',
      'Grid: 6 × 5 × 4 voxels of 1 × 1 × 1 mm',
      'Voxel values: 8-bit unsigned integers; NIfTI-1, gzipped',
      'Read as stored (no scaling)',
    ]);
    const image = await hoverAt(lsp, uri, arc.text, 'sub-M2001_ses-1_t2w');
    assert.match(image, /Voxel values: 32-bit floating-point numbers; NIfTI-1, gzipped/);
    for (const text of [mask, image])
      assert.doesNotMatch(text.replace(/base64,[^)]+/g, '').replace(/\/[^`]*`/g, '`'), NUMPY_CODES);
  });
});

test('findings about cache files keep off the category keys, so hovering a key shows its statistics first', async () => {
  const root = tempDir();
  const cache = writeRebuiltCache(path.join(root, 'eeg'));
  // extra_windows.npz listed once of its 2 windows: the finding is about a file the manifest lists.
  const text = cache.text.replace(
    '"no_seizure": [',
    '"no_seizure": [\n    {\n      "cache_file": "extra_windows.npz",\n      "window_idx": 1\n    },',
  );
  await withLsp(root, async (lsp) => {
    const uri = uriOf(cache.manifest);
    await lsp.open(uri, text);
    const { diagnostics } = await lsp.settled(uri);
    const lines = text.split('\n');
    const textOf = (d: (typeof diagnostics)[number]) =>
      lines[d.range.start.line].slice(d.range.start.character, d.range.end.character);
    const about = (name: string) => diagnostics.filter((d) => (d.message as string).startsWith(name));
    // Not listed: on the [ of the first list, one character after the key.
    for (const name of ['damaged_windows.npz', 'nolabels_windows.npz']) {
      const [d] = about(name);
      assert.equal(textOf(d), '[', name);
      assert.equal(lines[d.range.start.line].trim(), '"partial_seizure": [', name);
    }
    // Listed: on the cache_file of its first entry (the only one here).
    const [partly] = about('extra_windows.npz');
    assert.equal(partly.code, 'unreferenced-cache-file');
    assert.match(partly.message as string, /has 2 windows but the manifest lists 1/);
    assert.equal(textOf(partly), '"extra_windows.npz"');
    // Nothing on the keys, whose hover is the statistics.
    for (const key of ['"partial_seizure"', '"full_seizure"', '"no_seizure"']) {
      const line = lines.findIndex((l) => l.includes(key));
      const at = lines[line].indexOf(key);
      const onKey = diagnostics.filter(
        (d) => d.range.start.line === line && d.range.start.character < at + key.length && d.range.end.character > at,
      );
      assert.deepEqual(
        onKey.map((d) => d.code),
        [],
        key,
      );
    }
    const hover = await hoverAt(lsp, uri, text, '"partial_seizure"');
    assert.match(hover, /^\*\*Seizure manifest\*\* — `partial_seizure`/);
  });
});
