/**
 * Settings per resource and multi-root workspaces, over stdio: each document gets the
 * settings of its own scope (asked with its URI), each folder is scanned with its own extra
 * globs, relative paths fall back to the document's own folder (not the first one), and a
 * configuration change re-checks with the new settings.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { DidChangeConfigurationNotification, ExecuteCommandRequest } from 'vscode-languageserver-protocol/node';
import { Commands } from '../../server/src/protocol';
import { encodeNifti, encodeVoxels } from '../writers/nifti';
import { eegNpz } from '../writers/npz';
import { uriOf, withLsp } from '../support/lsp';
import { tempDir } from '../support/python';

/** A manifest listing a 30%-seizure window as full: a category mismatch, found only by content checks (and no partial windows). */
function mislabelled(dir: string, name = 'manifest.json'): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'a_windows.npz'),
    eegNpz({ windows: 1, channels: 1, samples: 10, labels: new Float32Array(10).fill(1, 0, 3) }),
  );
  const file = path.join(dir, name);
  writeFileSync(
    file,
    JSON.stringify({
      partial_seizure: [],
      full_seizure: [{ cache_file: 'a_windows.npz', window_idx: 0 }],
      no_seizure: [],
    }),
  );
  return file;
}

test(
  "each folder's settings, extra globs and working directory apply to its own documents",
  { timeout: 120_000 },
  async () => {
    const a = tempDir();
    const b = tempDir();
    const manifestA = mislabelled(path.join(a, 'eeg'));
    const manifestB = mislabelled(path.join(b, 'eeg'));
    const extraA = mislabelled(path.join(a, 'more'), 'run1_manifest.json');
    const extraB = mislabelled(path.join(b, 'more'), 'run1_manifest.json');
    // Six folders deep: only the working directory (the folder, b) finds shared/…, no parent search reaches it.
    const deep = path.join(b, '1', '2', '3', '4', '5', '6');
    mkdirSync(deep, { recursive: true });
    mkdirSync(path.join(b, 'shared'));
    writeFileSync(
      path.join(b, 'shared', 'm_t2w.nii.gz'),
      encodeNifti({ dims: [2, 2, 2], datatype: 2, data: encodeVoxels(2, new Uint8Array(8)), gzip: true }),
    );
    const info = path.join(deep, 'dataset_info.json');
    writeFileSync(
      info,
      JSON.stringify({
        image_paths: ['shared/m_t2w.nii.gz'],
        mask_paths: [null],
        lesion_volumes: [0],
        acquisition_types: ['space_2x'],
        subject_ids: ['s'],
      }),
    );

    const asked = new Set<string>();
    let settingsB: object = { contentChecks: false };
    const settings = (scope: string | undefined) => {
      asked.add(scope ?? '');
      if (scope?.startsWith(uriOf(a))) return { extraGlobs: ['**/*_manifest.json'] };
      if (scope?.startsWith(uriOf(b))) return settingsB;
      return null;
    };
    await withLsp(
      [a, b],
      async (lsp) => {
        // Resolves once every file of both folders has been checked.
        const scan = await lsp.connection.sendRequest(ExecuteCommandRequest.type, {
          command: Commands.checkWorkspace,
          arguments: [],
        });
        assert.match(JSON.stringify(scan), /Checked 4 files/);
        assert.ok(lsp.codes(uriOf(manifestA)).includes('category-mismatch'));
        assert.ok(lsp.codes(uriOf(extraA)).includes('category-mismatch'), "a's extra globs find run1_manifest.json");
        assert.ok(!lsp.codes(uriOf(manifestB)).includes('category-mismatch'), 'content checks are off in b');
        assert.deepEqual(
          lsp.codes(uriOf(info)).sort(),
          ['legacy-path', 'missing-mask'],
          'the image is found through b, its own folder',
        );
        assert.equal(lsp.published.has(uriOf(extraB)), false, "a's extra globs do not apply to b");
        const legacy = lsp.published.get(uriOf(info))!.diagnostics[0];
        assert.match(
          String(legacy.message),
          /Resolved only relative to the working directory; relative to dataset_info\.json it is "\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/shared\/m_t2w\.nii\.gz"/,
        );
        for (const file of [manifestA, manifestB, info])
          assert.ok(asked.has(uriOf(file)), `settings asked for ${file}`);

        // Turning content checks on in b: after the change notification, b's manifest is checked again.
        settingsB = {};
        await lsp.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
        await lsp.until(() => lsp.codes(uriOf(manifestB)).includes('category-mismatch'));
      },
      { before: (lsp) => (lsp.settings = settings) },
    );
  },
);
