/**
 * What a client can make the server write, over stdio (issue: any readable file could be
 * overwritten through `workspace/executeCommand`). Writing commands act only on a document of
 * their kind inside a workspace folder (links resolved), never replace a link or a read-only
 * file, keep the file's mode; unknown commands are errors and restricted mode writes nothing.
 * Every target is compared afterwards byte for byte, with its mode and link-ness.
 */
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ExecuteCommandRequest } from 'vscode-languageserver-protocol/node';
import { CommandResult, Commands } from '../../server/src/protocol';
import { encodeNifti, encodeVoxels } from '../writers/nifti';
import { eegNpz } from '../writers/npz';
import { LspSession, uriOf, withLsp } from '../support/lsp';
import { tempDir } from '../support/python';

/** Everything about a path a write could change. */
function fileState(file: string) {
  const stat = lstatSync(file);
  return {
    link: stat.isSymbolicLink() ? readlinkSync(file) : null,
    mode: stat.mode & 0o7777,
    bytes: stat.isSymbolicLink() ? null : readFileSync(file).toString('base64'),
  };
}

const STALE = JSON.stringify(
  { partial_seizure: [{ cache_file: 'gone_windows.npz', window_idx: 0 }], full_seizure: [], no_seizure: [] },
  null,
  2,
);

/** A workspace with a cache (one NPZ) and targets inside and outside it. */
function layout() {
  const base = tempDir();
  const root = path.join(base, 'workspace');
  const outside = path.join(base, 'outside');
  const cache = path.join(root, 'cache');
  mkdirSync(cache, { recursive: true });
  mkdirSync(outside);
  writeFileSync(
    path.join(cache, 'a_windows.npz'),
    eegNpz({ windows: 2, channels: 1, samples: 10, labels: new Float32Array(20).fill(1, 0, 3) }),
  );
  const put = (file: string, text: string, mode = 0o644) => {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    chmodSync(file, mode);
    return file;
  };
  return { root, outside, cache, put };
}

async function run(lsp: LspSession, command: string, file: string): Promise<CommandResult> {
  return (await lsp.connection.sendRequest(ExecuteCommandRequest.type, {
    command,
    arguments: [uriOf(file)],
  })) as CommandResult;
}

/** The message of a command that succeeded (`ok`). */
async function succeeded(lsp: LspSession, command: string, file: string): Promise<string> {
  const result = await run(lsp, command, file);
  assert.equal(result.ok, true, result.message);
  return result.message;
}

/** The message of a command that was refused (`ok` false), without any prefix to test for. */
async function refused(lsp: LspSession, command: string, file: string): Promise<string> {
  const result = await run(lsp, command, file);
  assert.equal(result.ok, false, result.message);
  assert.doesNotMatch(result.message, /^NeuroCache:/, 'the failure is in `ok`, not in a prefix');
  return result.message;
}

test('writing commands refuse targets outside the workspace, links, read-only files and documents of another kind', async () => {
  const { root, outside, cache, put } = layout();
  const targets = {
    textOutside: put(path.join(outside, 'notes.txt'), 'my notes\n'),
    manifestOutside: put(path.join(outside, 'manifest.json'), STALE),
    readOnlyOutside: put(path.join(outside, 'ro', 'manifest.json'), STALE, 0o444),
    datasetInfo: put(
      path.join(root, 'arc', 'dataset_info.json'),
      JSON.stringify({ image_paths: [], mask_paths: [], lesion_volumes: [], acquisition_types: [], subject_ids: [] }),
    ),
    browserManifest: put(
      path.join(root, 'web', 'manifest.json'),
      JSON.stringify({ manifest_version: 3, name: 'x', version: '1' }),
    ),
    textNamedManifest: put(path.join(root, 'notes', 'manifest.json'), 'not JSON at all\n'),
    readOnly: put(path.join(cache, 'ro', 'manifest.json'), STALE, 0o444),
    linkTarget: put(path.join(root, 'real', 'manifest.json'), STALE),
  };
  // A link inside the workspace to a file inside it, and a folder link leading outside.
  const link = path.join(cache, 'manifest.json');
  symlinkSync(targets.linkTarget, link);
  symlinkSync(outside, path.join(root, 'escape'));
  const viaFolderLink = path.join(root, 'escape', 'manifest.json');
  const all = [...Object.values(targets), link, viaFolderLink];
  const before = all.map(fileState);

  await withLsp(root, async (lsp) => {
    const refusals: [string, string, RegExp][] = [
      [Commands.rebuildManifest, targets.textOutside, /outside the workspace folders/],
      [Commands.dropMissingEntries, targets.manifestOutside, /outside the workspace folders/],
      [Commands.rebuildManifest, targets.readOnlyOutside, /outside the workspace folders/],
      [Commands.rebuildManifest, viaFolderLink, /outside the workspace folders \(it resolves to /],
      [Commands.rebuildManifest, link, /is a symbolic link; NeuroCache does not replace links/],
      [Commands.dropMissingEntries, targets.readOnly, /is read-only; NeuroCache does not replace it/],
      [
        Commands.rebuildManifest,
        targets.datasetInfo,
        /changes only a seizure manifest; .* is an ARC dataset_info\.json/,
      ],
      [Commands.dropMissingEntries, targets.browserManifest, /changes only a seizure manifest; .* is neither/],
      [Commands.rebuildManifest, targets.textNamedManifest, /changes only a seizure manifest/],
      [
        Commands.recomputeLesionVolumes,
        targets.linkTarget,
        /changes only an ARC dataset_info\.json; .* is a seizure manifest/,
      ],
      [Commands.rewriteLegacyPaths, targets.textOutside, /outside the workspace folders/],
    ];
    for (const [command, file, expected] of refusals)
      assert.match(await refused(lsp, command, file), expected, `${command} ${file}`);
    assert.deepEqual(all.map(fileState), before, 'nothing changed: bytes, modes, links');
    assert.equal(lsp.edits.length, 0);
  });
});

test("an allowed write keeps the file's mode; open documents outside the workspace are not edited", async () => {
  const { root, outside, cache, put } = layout();
  const manifest = put(path.join(cache, 'manifest.json'), STALE, 0o640);
  const nifti = path.join(root, 'data', 'arc', 'cache', 'nifti_cache');
  mkdirSync(nifti, { recursive: true });
  writeFileSync(
    path.join(nifti, 'a_t2w.nii.gz'),
    encodeNifti({ dims: [2, 2, 2], datatype: 2, data: encodeVoxels(2, new Uint8Array(8).fill(1)), gzip: true }),
  );
  const legacy = JSON.stringify({
    image_paths: ['data/arc/cache/nifti_cache/a_t2w.nii.gz'],
    mask_paths: [null],
    lesion_volumes: [0],
    acquisition_types: ['space_2x'],
    subject_ids: ['sub-1'],
  });
  const info = put(path.join(root, 'data', 'arc', 'dataset_info.json'), legacy, 0o600);
  const openOutside = put(path.join(outside, 'manifest.json'), STALE);
  await withLsp(root, async (lsp) => {
    assert.match(await succeeded(lsp, Commands.rebuildManifest, manifest), /Rebuilt: 1 cache file listed, /);
    assert.deepEqual(JSON.parse(readFileSync(manifest, 'utf8')).partial_seizure, [
      { cache_file: 'a_windows.npz', window_idx: 0 },
    ]);
    assert.equal(fileState(manifest).mode, 0o640);
    assert.equal(fileState(manifest).link, null);

    assert.match(await succeeded(lsp, Commands.rewriteLegacyPaths, info), /Updated 1 legacy path/);
    assert.deepEqual(JSON.parse(readFileSync(info, 'utf8')).image_paths, ['cache/nifti_cache/a_t2w.nii.gz']);
    assert.equal(fileState(info).mode, 0o600);

    const before = fileState(openOutside);
    await lsp.open(uriOf(openOutside), STALE);
    assert.match(await refused(lsp, Commands.dropMissingEntries, openOutside), /outside the workspace folders/);
    assert.equal(lsp.edits.length, 0, 'no workspace edit was sent');
    assert.deepEqual(fileState(openOutside), before);
  });
});

test('unknown commands are errors, also in restricted mode, and restricted mode writes nothing', async () => {
  const { root, cache, put } = layout();
  const manifest = put(path.join(cache, 'manifest.json'), STALE);
  const before = fileState(manifest);
  for (const trusted of [true, false]) {
    await withLsp(undefined, async (lsp) => {
      await lsp.initialize(root, { initializationOptions: { trusted } });
      for (const command of ['neurocache.bogus', 'neurocache.rebuildmanifest', '__proto__', 'toString']) {
        await assert.rejects(
          run(lsp, command, manifest),
          (error: Error & { code?: number }) => error.code === -32602 && /has no command/.test(error.message),
          command,
        );
      }
      if (!trusted) {
        for (const command of [
          Commands.rebuildManifest,
          Commands.dropMissingEntries,
          Commands.recomputeLesionVolumes,
          Commands.rewriteLegacyPaths,
        ]) {
          assert.match(await refused(lsp, command, manifest), /restricted \(untrusted\) workspace/, command);
        }
      }
      assert.deepEqual(fileState(manifest), before);
    });
  }
});
