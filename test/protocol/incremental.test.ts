/**
 * Re-checks after an edit (a re-parse of what it touched, the last check's cache-file facts)
 * publish exactly what a fresh check publishes: one manifest edited by range changes, alone and
 * in bursts, and its twin (the same text, in a directory of hard links to the same cache files)
 * given each new text whole, so it is parsed and checked from scratch. Random edits include ones
 * that break the JSON and restore it, new and removed entries, names and windows changed. Hovers
 * (the manifest's statistics on a category key, an entry's findings) must match too: an edit's
 * check reuses the last statistics and read cost when the edit cannot have changed them.
 */
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  Diagnostic,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  HoverRequest,
} from 'vscode-languageserver-protocol/node';
import { WorkCountersRequest } from '../../server/src/protocol';
import { mulberry32 } from '../support/arcSamples';
import { LspSession, uriOf, withLsp } from '../support/lsp';
import { applyEdit, randomEdit, randomManifest } from '../support/manifestEdits';
import { tempDir } from '../support/python';
import { eegNpz } from '../writers/npz';

const SAMPLES = 8;

/** A cache whose first windows are full seizure, then partial, then none (labels omitted: no labels member). */
function cache(windows: number, full: number, partial: number, labels = true, channels = 1): Uint8Array {
  const values = new Float32Array(windows * SAMPLES);
  values.fill(1, 0, full * SAMPLES);
  for (let w = full; w < full + partial; w++) values[w * SAMPLES] = 1;
  return eegNpz({ windows, channels, samples: SAMPLES, labels: labels ? values : null, compress: true });
}

const plain = (diagnostics: Diagnostic[]) =>
  diagnostics.map((d) => ({ range: d.range, severity: d.severity, code: d.code, message: d.message }));

/** The hovers on each category key and on a few entries, with the document's folder taken out of links. */
async function hovers(lsp: LspSession, uri: string, text: string, folder: string): Promise<string[]> {
  const at = [...text.matchAll(/"(partial_seizure|full_seizure|no_seizure)"|"cache_file"/g)]
    .map((m) => m.index)
    .filter((_, k) => k % 7 < 4);
  const document = lsp.documents.get(uri)!;
  return Promise.all(
    at.map(async (offset) => {
      const hover = await lsp.connection.sendRequest(HoverRequest.type, {
        textDocument: { uri },
        position: document.positionAt(offset + 2),
      });
      return JSON.stringify(hover ?? null).replaceAll(folder, '<folder>');
    }),
  );
}

test(
  're-checks after random edits publish what a fresh check of the same text publishes',
  { timeout: 300_000 },
  async () => {
    const root = tempDir();
    const edited = path.join(root, 'edited');
    const fresh = path.join(root, 'fresh');
    mkdirSync(edited);
    mkdirSync(fresh);
    writeFileSync(path.join(edited, 'a_windows.npz'), cache(10, 3, 2));
    writeFileSync(path.join(edited, 'b_windows.npz'), cache(20, 0, 0, false));
    writeFileSync(path.join(edited, 'café_é.npz'), cache(5, 0, 0));
    writeFileSync(path.join(edited, 'z_windows.npz'), cache(4, 1, 1)); // listed by no entry
    // Windows of another shape than the rest of the cache: a finding on each entry naming it, and
    // one about a file no entry lists.
    writeFileSync(path.join(edited, 'c.npz'), cache(6, 1, 2, true, 2));
    writeFileSync(path.join(edited, 'y_windows.npz'), cache(3, 0, 1, true, 3));
    for (const name of readdirSync(edited)) linkSync(path.join(edited, name), path.join(fresh, name));
    const random = mulberry32(2026);
    let text = randomManifest(random, 40);
    const uri = uriOf(path.join(edited, 'manifest.json'));
    const twin = uriOf(path.join(fresh, 'manifest.json'));
    writeFileSync(path.join(edited, 'manifest.json'), text);
    writeFileSync(path.join(fresh, 'manifest.json'), text);

    await withLsp(root, async (lsp) => {
      await lsp.open(uri, text);
      await lsp.open(twin, text);
      await lsp.settled(uri);
      await lsp.settled(twin);
      const undo: { offset: number; removed: number; inserted: string }[] = [];
      for (let step = 0; step < 30; step++) {
        // One edit, or a burst of up to three sent without waiting; some taken back later, most when they broke the JSON.
        const broken = lsp.codes(uri).includes('invalid-json');
        for (let k = 1 + Math.floor(random() * 3); k > 0; k--) {
          let edit = randomEdit(random, text);
          if (undo.length && random() < (broken ? 0.8 : 0.2)) edit = undo.pop()!;
          else
            undo.push({
              offset: edit.offset,
              removed: edit.inserted.length,
              inserted: text.substr(edit.offset, edit.removed),
            });
          await lsp.changeRange(uri, edit.offset, edit.offset + edit.removed, edit.inserted);
          text = applyEdit(text, edit);
        }
        await lsp.change(twin, text);
        const [ours, theirs] = await Promise.all([lsp.settled(uri), lsp.settled(twin)]);
        assert.equal(lsp.documents.get(uri)!.getText(), text);
        assert.deepEqual(plain(ours.diagnostics), plain(theirs.diagnostics), `step ${step}: ${text}`);
        assert.deepEqual(await hovers(lsp, uri, text, edited), await hovers(lsp, twin, text, fresh), `step ${step}`);
      }
      const { reparses, parses } = await lsp.request(WorkCountersRequest.type, { uri });
      process.stdout.write(`# edited manifest: ${reparses} re-parses, ${parses} whole parses\n`);
      assert.ok(reparses >= 5, `${reparses} re-parses`);

      // Values and names changed and entries deleted, on valid JSON: each re-parsed, none parsed whole.
      text = randomManifest(random, 40);
      await lsp.change(uri, text);
      await lsp.change(twin, text);
      await Promise.all([lsp.settled(uri), lsp.settled(twin)]);
      const before = await lsp.request(WorkCountersRequest.type, { uri });
      const STEPS = 12;
      for (let step = 0; step < STEPS; step++) {
        const edit = randomEdit(random, text, [0, 1, 3]);
        await lsp.changeRange(uri, edit.offset, edit.offset + edit.removed, edit.inserted);
        text = applyEdit(text, edit);
        await lsp.change(twin, text);
        const [ours, theirs] = await Promise.all([lsp.settled(uri), lsp.settled(twin)]);
        assert.deepEqual(plain(ours.diagnostics), plain(theirs.diagnostics), `typing step ${step}: ${text}`);
        assert.deepEqual(
          await hovers(lsp, uri, text, edited),
          await hovers(lsp, twin, text, fresh),
          `typing step ${step}: ${text}`,
        );
      }
      const after = await lsp.request(WorkCountersRequest.type, { uri });
      assert.equal(after.reparses - before.reparses, STEPS);
      assert.equal(after.parses, before.parses);

      // A cache file deleted, the watchers say so, and an edit comes before their re-check: its facts are not reused.
      for (const dir of [edited, fresh]) unlinkSync(path.join(dir, 'a_windows.npz'));
      await lsp.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
        changes: [edited, fresh].map((dir) => ({
          uri: uriOf(path.join(dir, 'a_windows.npz')),
          type: FileChangeType.Deleted as FileChangeType,
        })),
      });
      const edit = randomEdit(random, text, [0]);
      await lsp.changeRange(uri, edit.offset, edit.offset + edit.removed, edit.inserted);
      text = applyEdit(text, edit);
      await lsp.change(twin, text);
      const [ours, theirs] = await Promise.all([lsp.settled(uri), lsp.settled(twin)]);
      assert.ok(ours.diagnostics.some((d) => String(d.message).startsWith('a_windows.npz does not exist')));
      assert.deepEqual(plain(ours.diagnostics), plain(theirs.diagnostics));
    });
  },
);

test(
  'a client that watches no files: an edit after a cache file vanished reports it (no facts reused)',
  { timeout: 60_000 },
  async () => {
    const root = tempDir();
    writeFileSync(path.join(root, 'a_windows.npz'), cache(10, 3, 2));
    const entry = (w: number) => `{"cache_file": "a_windows.npz", "window_idx": ${w}}`;
    const text = `{"partial_seizure": [${entry(3)}], "full_seizure": [${entry(0)}], "no_seizure": [${entry(5)}]}`;
    const uri = uriOf(path.join(root, 'manifest.json'));
    writeFileSync(path.join(root, 'manifest.json'), text);
    const capabilities = { workspace: { configuration: true, workspaceFolders: true } };
    await withLsp(
      root,
      async (lsp) => {
        await lsp.open(uri, text);
        await lsp.settled(uri);
        assert.deepEqual(
          lsp.codes(uri).filter((c) => c === 'missing-cache-file'),
          [],
        );
        unlinkSync(path.join(root, 'a_windows.npz'));
        const at = text.lastIndexOf('5');
        await lsp.changeRange(uri, at, at + 1, '6');
        const { diagnostics } = await lsp.settled(uri);
        assert.ok(diagnostics.some((d) => String(d.message).startsWith('a_windows.npz does not exist')));
      },
      { initialize: { capabilities } },
    );
  },
);

test(
  'an edit whose findings equal the last ones still settles: the client can ask whether a check runs',
  { timeout: 60_000 },
  async () => {
    const root = tempDir();
    writeFileSync(path.join(root, 'a_windows.npz'), cache(10, 3, 2)); // windows 0–2 full, 3–4 partial, 5–9 none
    const text =
      '{"partial_seizure": [{"cache_file": "a_windows.npz", "window_idx": 3}],\n' +
      ' "full_seizure": [{"cache_file": "a_windows.npz", "window_idx": 0}],\n' +
      ' "no_seizure": [{"cache_file": "a_windows.npz", "window_idx": 5}]}\n';
    writeFileSync(path.join(root, 'manifest.json'), text);
    const uri = uriOf(path.join(root, 'manifest.json'));
    await withLsp(root, async (lsp) => {
      await lsp.open(uri, text);
      const first = await lsp.settled(uri);
      // Window 6 is no seizure too: the same findings, so the status has nothing new to say.
      const at = text.indexOf('"window_idx": 5') + '"window_idx": '.length;
      await lsp.changeRange(uri, at, at + 1, '6');
      const next = await lsp.settled(uri);
      assert.equal(next.version, lsp.documents.get(uri)!.version);
      assert.deepEqual(plain(next.diagnostics), plain(first.diagnostics));
      assert.equal((await lsp.request(WorkCountersRequest.type, { uri })).checking, false);
    });
  },
);
