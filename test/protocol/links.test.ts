/**
 * Document links over stdio: the paths a checked document names open their file on
 * Ctrl+click — each manifest entry's cache_file, each image and mask path of a
 * dataset_info.json where the checks resolve it (legacy paths too), each EDF of a
 * _dataset_index.json (its cache) — with the range of the path inside its quotes, only for
 * regular files, and in the coordinates of the current text.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { DocumentLink, DocumentLinkRequest } from 'vscode-languageserver-protocol/node';
import { eegNpz } from '../writers/npz';
import { LspSession, uriOf, withLsp } from '../support/lsp';
import { tempDir } from '../support/python';
import { writeArcDataset, writeEegCache } from '../support/workspaces';

/** Where each occurrence of the JSON string `"value"` sits, inside its quotes, as LSP ranges. */
function stringRanges(text: string, value: string): DocumentLink['range'][] {
  const ranges: DocumentLink['range'][] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    for (let at = line.indexOf(`"${value}"`); at >= 0; at = line.indexOf(`"${value}"`, at + 1)) {
      ranges.push({ start: { line: i, character: at + 1 }, end: { line: i, character: at + 1 + value.length } });
    }
  });
  return ranges;
}

async function links(lsp: LspSession, uri: string): Promise<{ range: DocumentLink['range']; target?: string }[]> {
  const found = (await lsp.connection.sendRequest(DocumentLinkRequest.type, { textDocument: { uri } })) ?? [];
  return found.map(({ range, target }) => ({ range, target }));
}

test('a manifest links each cache_file that is a regular file, not missing files, directories or FIFOs', async () => {
  const root = tempDir();
  const eeg = writeEegCache(path.join(root, 'eeg'));
  mkdirSync(path.join(eeg.directory, 'dir_windows.npz'));
  try {
    execFileSync('mkfifo', [path.join(eeg.directory, 'fifo_windows.npz')]);
  } catch {
    // No mkfifo here: the directory stands for every file that is not regular.
  }
  const manifest = JSON.parse(eeg.text);
  manifest.no_seizure.push(
    { cache_file: 'dir_windows.npz', window_idx: 0 },
    { cache_file: 'fifo_windows.npz', window_idx: 0 },
  );
  const text = JSON.stringify(manifest, null, 2);
  await withLsp(root, async (lsp) => {
    const uri = uriOf(eeg.manifest);
    await lsp.open(uri, text);
    const target = uriOf(path.join(eeg.directory, 'a_windows.npz'));
    const expected = stringRanges(text, 'a_windows.npz').map((range) => ({ range, target }));
    assert.equal(expected.length, 2);
    assert.deepEqual(await links(lsp, uri), expected);

    // Asked right after an edit that moves every line: the links are for the new text.
    const shifted = `\n\n${text}`;
    await lsp.change(uri, shifted);
    assert.deepEqual(
      await links(lsp, uri),
      stringRanges(shifted, 'a_windows.npz').map((range) => ({ range, target })),
    );
  });
});

test('dataset_info.json links images and masks where the checks resolve them, legacy paths included', async () => {
  const root = tempDir();
  const arc = writeArcDataset(path.join(root, 'data', 'arc'));
  const info = JSON.parse(arc.text);
  await withLsp(root, async (lsp) => {
    const uri = uriOf(arc.datasetInfo);
    await lsp.open(uri, arc.text);
    const expected = [
      ...info.image_paths.map((p: string, i: number) => ({
        range: stringRanges(arc.text, p)[0],
        target: uriOf(arc.images[i]),
      })),
      ...info.mask_paths.map((p: string, i: number) => ({
        range: stringRanges(arc.text, p)[0],
        target: uriOf(arc.masks[i]),
      })),
    ].sort((a, b) => a.range.start.line - b.range.start.line);
    assert.deepEqual(await links(lsp, uri), expected);
    // The second sample's paths resolve through the parent folder (legacy): same files.
    assert.match(info.image_paths[1], /^arc\//);

    // A mask that is not there gets no link; the rest keep theirs.
    const missing = arc.text.replace(info.mask_paths[0], 'cache/nifti_cache/nobody_lesion.nii.gz');
    await lsp.change(uri, missing);
    const found = await links(lsp, uri);
    assert.deepEqual(
      found.map((l) => l.target),
      [uriOf(arc.images[0]), uriOf(arc.images[1]), uriOf(arc.masks[1])],
    );
  });
});

test('_dataset_index.json links each EDF whose cache exists to that cache, the file training reads', async () => {
  const root = tempDir();
  const dir = path.join(root, 'cache', 'train');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'a_windows.npz'),
    eegNpz({ windows: 2, channels: 1, samples: 8, labels: new Float32Array(16), compress: true }),
  );
  const text = JSON.stringify({ files: ['/data/edf/a.edf', '/data/edf/gone.edf'], window_counts: [2, 1] });
  const index = path.join(dir, '_dataset_index.json');
  writeFileSync(index, text);
  await withLsp(root, async (lsp) => {
    const uri = uriOf(index);
    await lsp.open(uri, text);
    assert.deepEqual(await links(lsp, uri), [
      { range: stringRanges(text, '/data/edf/a.edf')[0], target: uriOf(path.join(dir, 'a_windows.npz')) },
    ]);
  });
});
