/**
 * Diagnostics as ESLint's, over stdio: every published diagnostic links to its section of the
 * shipped docs/diagnostics.md (`codeDescription`); a diagnostic offers a fix for just its
 * entry or sample (an edit of the current version) before the whole-file commands; and
 * `source.fixAll.neurocache` carries the fixes safe on save.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CodeAction, CodeActionRequest, Diagnostic, TextDocumentEdit } from 'vscode-languageserver-protocol/node';
import { TextDocument, TextEdit } from 'vscode-languageserver-textdocument';
import { Commands } from '../../server/src/protocol';
import { eegNpz } from '../writers/npz';
import { LspSession, uriOf, withLsp } from '../support/lsp';
import { repoRoot, tempDir } from '../support/python';
import { writeArcDataset, writeEegCache } from '../support/workspaces';

test("every diagnostic links to its code's section of docs/diagnostics.md", async () => {
  const root = tempDir();
  const arc = writeArcDataset(path.join(root, 'data', 'arc'));
  const eeg = writeEegCache(path.join(root, 'eeg'));
  await withLsp(root, async (lsp) => {
    for (const { file, text } of [
      { file: arc.datasetInfo, text: arc.text },
      { file: eeg.manifest, text: eeg.text },
    ])
      await lsp.open(uriOf(file), text);
    const published = [
      ...(await lsp.settled(uriOf(arc.datasetInfo))).diagnostics,
      ...(await lsp.settled(uriOf(eeg.manifest))).diagnostics,
    ];
    assert.deepEqual([...new Set(published.map((d) => d.code))].sort(), [
      'cv-split-fails',
      'legacy-path',
      'lesion-volume-mismatch',
      'missing-cache-file',
      'stale-manifest',
    ]);
    const doc = path.join(repoRoot(), 'docs', 'diagnostics.md');
    const lines = readFileSync(doc, 'utf8').split('\n');
    for (const d of published) {
      const match = /^(file:[^#]+)#L(\d+)$/.exec(d.codeDescription?.href ?? '');
      assert.ok(match, `${d.code}: ${JSON.stringify(d.codeDescription)}`);
      assert.equal(fileURLToPath(match[1]), doc, 'the docs beside the running server');
      assert.equal(lines[Number(match[2]) - 1], `## ${d.code}`);
    }
  });
});

type Action = CodeAction & { edit?: { documentChanges?: TextDocumentEdit[] } };

async function actionsFor(lsp: LspSession, uri: string, diagnostics: Diagnostic[], only?: string[]): Promise<Action[]> {
  const range = diagnostics[0]?.range ?? { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  return ((await lsp.connection.sendRequest(CodeActionRequest.type, {
    textDocument: { uri },
    range,
    context: { diagnostics, only },
  })) ?? []) as Action[];
}

/** The document's text after `action`'s edit, which must be for the document's current version. */
function applied(lsp: LspSession, uri: string, action: Action): string {
  const [change] = action.edit!.documentChanges!;
  const document = lsp.documents.get(uri)!;
  assert.equal(change.textDocument.uri, uri);
  assert.equal(change.textDocument.version, document.version, 'the edit is for the current version');
  return TextDocument.applyEdits(document, change.edits as TextEdit[]);
}

test('per-entry fixes: drop one manifest entry, move one to its category; whole-file fixes after them', async () => {
  const root = tempDir();
  const eeg = writeEegCache(path.join(root, 'eeg'));
  const manifest = JSON.parse(eeg.text);
  await withLsp(root, async (lsp) => {
    const uri = uriOf(eeg.manifest);
    await lsp.open(uri, eeg.text);
    const missing = (await lsp.settled(uri)).diagnostics.find((d) => d.code === 'missing-cache-file')!;
    const actions = await actionsFor(lsp, uri, [missing]);
    assert.deepEqual(
      actions.map((a) => a.title),
      [
        'Drop this entry (its cache file is missing)',
        'Drop every entry whose cache file is missing',
        'Rebuild manifest.json from the cache',
      ],
    );
    assert.equal(actions[0].kind, 'quickfix');
    // Exactly the entry goes, in the layout Python's json.dump(indent=2) writes.
    const dropped = { ...manifest, partial_seizure: manifest.partial_seizure.slice(0, 1) };
    assert.equal(applied(lsp, uri, actions[0]), JSON.stringify(dropped, null, 2));
    // No fix-on-save for a manifest: every manifest fix removes or reorders entries.
    assert.deepEqual(await actionsFor(lsp, uri, [], ['source.fixAll']), []);

    // Window 1 (no seizure) listed as full: the fix moves it back, into the empty list.
    const mislabelled = JSON.stringify({ ...manifest, full_seizure: manifest.no_seizure, no_seizure: [] }, null, 2);
    await lsp.change(uri, mislabelled);
    const mismatch = (await lsp.settled(uri)).diagnostics.find((d) => d.code === 'category-mismatch')!;
    const [move] = await actionsFor(lsp, uri, [mismatch]);
    assert.equal(move.title, 'Move this entry to no_seizure');
    assert.equal(move.isPreferred, true);
    assert.equal(applied(lsp, uri, move), eeg.text);

    // The last and then a middle entry of a list, with the separators around them.
    const three = {
      partial_seizure: [0, 1, 2].map(() => ({ cache_file: 'a_windows.npz', window_idx: 0 })),
      full_seizure: [],
      no_seizure: [{ cache_file: 'a_windows.npz', window_idx: 1 }],
    };
    await lsp.change(uri, JSON.stringify(three, null, 2));
    const duplicates = (await lsp.settled(uri)).diagnostics.filter((d) => d.code === 'duplicate-entry');
    assert.equal(duplicates.length, 2);
    const expected = JSON.stringify({ ...three, partial_seizure: three.partial_seizure.slice(0, 2) }, null, 2);
    for (const duplicate of duplicates) {
      const [drop] = await actionsFor(lsp, uri, [duplicate]);
      assert.equal(drop.title, 'Drop this duplicate entry');
      assert.equal(applied(lsp, uri, drop), expected);
    }
  });
});

test('per-sample fixes and fix-on-save (source.fixAll.neurocache) for dataset_info.json', async () => {
  const root = tempDir();
  const arc = writeArcDataset(path.join(root, 'data', 'arc'));
  await withLsp(root, async (lsp) => {
    const uri = uriOf(arc.datasetInfo);
    await lsp.open(uri, arc.text);
    // Two samples are fewer than arc-meshchop's folds (cv-split-fails): no fix for that one.
    const diagnostics = (await lsp.settled(uri)).diagnostics.filter((d) => d.code !== 'cv-split-fails');
    assert.deepEqual(
      diagnostics.map((d) => d.code),
      ['legacy-path', 'legacy-path', 'lesion-volume-mismatch'],
    );
    const info = JSON.parse(arc.text);
    const relative = (file: string) => path.relative(arc.directory, file).split(path.sep).join('/');

    const [volume, everyVolume] = await actionsFor(lsp, uri, [diagnostics[2]]);
    assert.equal(volume.title, "Set this lesion volume to 17 (the mask's voxels > 0)");
    assert.equal(volume.isPreferred, true);
    assert.deepEqual(JSON.parse(applied(lsp, uri, volume)), { ...info, lesion_volumes: [17, 5] });
    assert.equal(everyVolume.command?.command, Commands.recomputeLesionVolumes);

    const [image] = await actionsFor(lsp, uri, [diagnostics[0]]);
    assert.equal(image.title, `Rewrite this path as "${relative(arc.images[1])}"`);
    assert.deepEqual(JSON.parse(applied(lsp, uri, image)).image_paths, [
      relative(arc.images[0]),
      relative(arc.images[1]),
    ]);
    const [mask] = await actionsFor(lsp, uri, [diagnostics[1]]);
    assert.deepEqual(JSON.parse(applied(lsp, uri, mask)).mask_paths, [relative(arc.masks[0]), relative(arc.masks[1])]);

    // On save VS Code asks for the kind (or a parent of it) without diagnostics.
    for (const only of [['source.fixAll.neurocache'], ['source.fixAll'], ['source']]) {
      const actions = await actionsFor(lsp, uri, [], only);
      assert.deepEqual(
        actions.map((a) => a.kind),
        ['source.fixAll.neurocache'],
        only[0],
      );
    }
    assert.deepEqual(await actionsFor(lsp, uri, [], ['source.organizeImports']), []);
    assert.deepEqual(
      (await actionsFor(lsp, uri, diagnostics)).filter((a) => a.kind !== 'quickfix'),
      [],
      'no source action in the light bulb',
    );

    // Typed and saved at once: the fix waits for the check of the text being saved.
    await lsp.change(uri, lsp.documents.get(uri)!.getText().replace('16', '15'));
    const [fixAll] = await actionsFor(lsp, uri, [], ['source.fixAll.neurocache']);
    const fixed = applied(lsp, uri, fixAll);
    assert.deepEqual(JSON.parse(fixed), {
      ...info,
      lesion_volumes: [17, 5],
      image_paths: arc.images.map(relative),
      mask_paths: arc.masks.map(relative),
    });
    await lsp.change(uri, fixed);
    assert.deepEqual(
      (await lsp.settled(uri)).diagnostics.map((d) => d.code),
      ['cv-split-fails'],
    );
  });
});

test('restricted mode offers no fixes', async () => {
  const root = tempDir();
  const arc = writeArcDataset(path.join(root, 'data', 'arc'));
  await withLsp(undefined, async (lsp) => {
    await lsp.initialize(root, { initializationOptions: { trusted: false } });
    const uri = uriOf(arc.datasetInfo);
    await lsp.open(uri, arc.text);
    const { diagnostics } = await lsp.settled(uri);
    assert.equal(diagnostics.length, 4);
    assert.deepEqual(await actionsFor(lsp, uri, diagnostics), []);
    assert.deepEqual(await actionsFor(lsp, uri, [], ['source.fixAll']), []);
  });
});

test('_dataset_index.json: set this count, and fix-on-save sets every count to what its cache holds', async () => {
  const root = tempDir();
  const dir = path.join(root, 'cache');
  mkdirSync(dir, { recursive: true });
  const npz = (windows: number) =>
    eegNpz({ windows, channels: 1, samples: 8, labels: new Float32Array(windows * 8), compress: true });
  writeFileSync(path.join(dir, 'a_windows.npz'), npz(3));
  writeFileSync(path.join(dir, 'b_windows.npz'), npz(5));
  const text = '{"files": ["/edf/a.edf", "/edf/b.edf", "/edf/c.edf"], "window_counts": [4, 2, 9]}';
  const index = path.join(dir, '_dataset_index.json');
  writeFileSync(index, text);
  await withLsp(root, async (lsp) => {
    const uri = uriOf(index);
    await lsp.open(uri, text);
    const counts = (await lsp.settled(uri)).diagnostics.filter((d) => d.code === 'index-window-count');
    assert.equal(counts.length, 2);
    const [setA, everyCount] = await actionsFor(lsp, uri, [counts[0]]);
    assert.equal(setA.title, 'Set this count to 3 (the windows in a_windows.npz)');
    assert.equal(applied(lsp, uri, setA), text.replace('[4, 2, 9]', '[3, 2, 9]'));
    assert.equal(everyCount.command?.command, Commands.rewriteWindowCounts);
    // c's cache is missing: its count stays.
    const [fixAll] = await actionsFor(lsp, uri, [], ['source.fixAll.neurocache']);
    assert.equal(applied(lsp, uri, fixAll), text.replace('[4, 2, 9]', '[3, 5, 9]'));
  });
});

test('an entry of a file without labels: "Drop this entry", as a rebuild would', async () => {
  const root = tempDir();
  const dir = path.join(root, 'eeg');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'a_windows.npz'),
    eegNpz({ windows: 2, channels: 1, samples: 10, labels: new Float32Array(20).fill(1, 0, 3) }),
  );
  writeFileSync(path.join(dir, 'nolabels_windows.npz'), eegNpz({ windows: 1, channels: 1, samples: 10 }));
  const manifest = {
    partial_seizure: [{ cache_file: 'a_windows.npz', window_idx: 0 }],
    full_seizure: [],
    no_seizure: [
      { cache_file: 'a_windows.npz', window_idx: 1 },
      { cache_file: 'nolabels_windows.npz', window_idx: 0 },
    ],
  };
  const text = JSON.stringify(manifest, null, 2);
  const file = path.join(dir, 'manifest.json');
  writeFileSync(file, text);
  await withLsp(root, async (lsp) => {
    const uri = uriOf(file);
    await lsp.open(uri, text);
    const noLabels = (await lsp.settled(uri)).diagnostics.find((d) => d.code === 'no-labels')!;
    const actions = await actionsFor(lsp, uri, [noLabels]);
    assert.deepEqual(
      actions.map((a) => a.title),
      ['Drop this entry (its cache file has no labels)', 'Rebuild manifest.json from the cache'],
    );
    assert.equal(
      applied(lsp, uri, actions[0]),
      JSON.stringify({ ...manifest, no_seizure: manifest.no_seizure.slice(0, 1) }, null, 2),
    );
  });
});
