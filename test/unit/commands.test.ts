/**
 * The writing commands in-process (service/commands.ts, no LSP): what each one changes, that
 * it refuses a document of another kind, and the workspace bounds (service/documentFiles.ts)
 * the server applies before any of them runs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { applyEdits } from '../../server/src/engine/json/edits';
import { Commands } from '../../server/src/protocol';
import { analyzeDocument } from '../../server/src/service/analyze';
import { assertKind } from '../support/analysis';
import { CommandContext, isFileCommand, planCommand } from '../../server/src/service/commands';
import {
  assertInsideWorkspace,
  containingFolder,
  readDocumentFile,
  resolveFolderArgument,
} from '../../server/src/service/documentFiles';
import { FingerprintStore } from '../../server/src/service/fingerprints';
import { CacheInspector } from '../../server/src/service/inspector';
import { WorkerPool } from '../../server/src/workers/pool';
import { encodeNifti, encodeVoxels } from '../writers/nifti';
import { eegNpz } from '../writers/npz';
import { tempDir } from '../support/python';

async function withContext<T>(cwd: string, use: (context: CommandContext) => Promise<T>): Promise<T> {
  const pool = new WorkerPool(1);
  try {
    return await use({ inspector: new CacheInspector(pool, new FingerprintStore()), cwd });
  } finally {
    await pool.close();
  }
}

const mask = (positives: number) =>
  encodeNifti({
    dims: [4, 4, 2],
    datatype: 2,
    data: encodeVoxels(2, new Uint8Array(32).fill(1, 0, positives)),
    gzip: true,
  });

/** repo/data/arc/dataset_info.json naming files the legacy way: via the repo root and via the working directory. */
function legacyDataset(): { repo: string; info: string; text: string; cwd: string } {
  const repo = tempDir();
  const arc = path.join(repo, 'data', 'arc');
  mkdirSync(path.join(arc, 'cache', 'nifti_cache'), { recursive: true });
  for (const name of ['a_t2w', 'a_lesion', 'b_t2w'])
    writeFileSync(path.join(arc, 'cache', 'nifti_cache', `${name}.nii.gz`), mask(3));
  const cwd = tempDir();
  mkdirSync(path.join(cwd, 'elsewhere'));
  writeFileSync(path.join(cwd, 'elsewhere', 'b_lesion.nii.gz'), mask(3));
  const text = JSON.stringify(
    {
      num_samples: 2,
      image_paths: ['data/arc/cache/nifti_cache/a_t2w.nii.gz', 'cache/nifti_cache/b_t2w.nii.gz'],
      mask_paths: ['data/arc/cache/nifti_cache/a_lesion.nii.gz', 'elsewhere/b_lesion.nii.gz'],
      lesion_volumes: [3, 3],
      acquisition_types: ['space_2x', 'space_no_accel'],
      subject_ids: ['sub-1', 'sub-2'],
    },
    null,
    2,
  );
  const info = path.join(arc, 'dataset_info.json');
  writeFileSync(info, text);
  return { repo, info, text, cwd };
}

test('Rewrite Legacy Paths rewrites parent- and cwd-resolved paths relative to dataset_info.json, and nothing else', async () => {
  const { info, text, cwd } = legacyDataset();
  await withContext(cwd, async (context) => {
    const before = await analyzeDocument(info, text, context.inspector, { content: false, cwd });
    assert.deepEqual(
      before.diagnostics.map((d) => `${d.code} ${text.slice(d.offset, d.offset + d.length)}`),
      [
        'cv-split-fails "image_paths"', // two samples cannot make 3 folds; not a path problem
        'legacy-path "data/arc/cache/nifti_cache/a_t2w.nii.gz"',
        'legacy-path "data/arc/cache/nifti_cache/a_lesion.nii.gz"',
        'legacy-path "elsewhere/b_lesion.nii.gz"',
      ],
    );
    const plan = await planCommand(Commands.rewriteLegacyPaths, info, text, context);
    assert.equal(plan.message, 'Updated 3 legacy paths.');
    const rewritten = applyEdits(text, plan.edits);
    const relativeToCwd = path
      .relative(path.dirname(info), path.join(cwd, 'elsewhere', 'b_lesion.nii.gz'))
      .split(path.sep)
      .join('/');
    assert.deepEqual(JSON.parse(rewritten).image_paths, [
      'cache/nifti_cache/a_t2w.nii.gz',
      'cache/nifti_cache/b_t2w.nii.gz',
    ]);
    assert.deepEqual(JSON.parse(rewritten).mask_paths, ['cache/nifti_cache/a_lesion.nii.gz', relativeToCwd]);
    // Only the paths changed, byte for byte elsewhere; and they still find the same files.
    assert.equal(rewritten.replace(/"[^"]*nii\.gz"/g, '""'), text.replace(/"[^"]*nii\.gz"/g, '""'));
    const after = await analyzeDocument(info, rewritten, context.inspector, { content: false, cwd });
    assert.deepEqual(
      after.diagnostics.map((d) => d.code),
      ['cv-split-fails'],
    );
    assertKind(before, 'arc-dataset-info');
    assertKind(after, 'arc-dataset-info');
    assert.deepEqual(
      after.facts.masks.map((m) => m?.resolved),
      before.facts.masks.map((m) => m?.resolved),
    );
    assert.deepEqual(
      (await planCommand(Commands.rewriteLegacyPaths, info, rewritten, context)).edits,
      [],
      'a second run changes nothing',
    );
  });
});

test('the other commands: rebuild, drop missing entries, recompute lesion volumes', async () => {
  const dir = tempDir();
  writeFileSync(
    path.join(dir, 'a_windows.npz'),
    eegNpz({ windows: 2, channels: 1, samples: 10, labels: new Float32Array(20).fill(1, 0, 5) }),
  );
  const manifest = path.join(dir, 'manifest.json');
  const text = JSON.stringify({
    partial_seizure: [
      { cache_file: 'a_windows.npz', window_idx: 0 },
      { cache_file: 'gone.npz', window_idx: 0 },
    ],
    full_seizure: [],
    no_seizure: [],
  });
  const { info, text: infoText, cwd } = legacyDataset();
  await withContext(dir, async (context) => {
    const dropped = await planCommand(Commands.dropMissingEntries, manifest, text, context);
    assert.equal(dropped.message, 'Dropped 1 entry whose cache files are missing.');
    assert.deepEqual(JSON.parse(applyEdits(text, dropped.edits)).partial_seizure, [
      { cache_file: 'a_windows.npz', window_idx: 0 },
    ]);
    const rebuilt = await planCommand(Commands.rebuildManifest, manifest, text, context);
    assert.match(rebuilt.message, /^Rebuilt: 1 cache file listed, 1 partial, 0 full, 1 no-seizure windows\.$/);
    const manifestText = applyEdits(text, rebuilt.edits);
    assert.deepEqual(JSON.parse(manifestText).no_seizure, [{ cache_file: 'a_windows.npz', window_idx: 1 }]);
    assert.deepEqual(
      (await planCommand(Commands.rebuildManifest, manifest, manifestText, context)).edits,
      [],
      'an up-to-date manifest is left alone',
    );
    const wrongVolume = infoText.replace('"lesion_volumes": [\n    3,', '"lesion_volumes": [\n    30,');
    assert.notEqual(wrongVolume, infoText);
    const recomputed = await planCommand(Commands.recomputeLesionVolumes, info, wrongVolume, { ...context, cwd });
    assert.equal(recomputed.message, 'Updated 1 lesion volume.');
    assert.equal(applyEdits(wrongVolume, recomputed.edits), infoText);
  });
});

test('commands refuse a document of another kind, whatever its name', async () => {
  const dir = tempDir();
  const { info, text: infoText } = legacyDataset();
  const browser = JSON.stringify({ manifest_version: 3, name: 'an extension', version: '1.0' });
  await withContext(dir, async (context) => {
    const manifest = path.join(dir, 'manifest.json');
    await assert.rejects(
      planCommand(Commands.rebuildManifest, manifest, browser, context),
      /changes only a seizure manifest; .*manifest\.json is neither a seizure manifest nor an ARC dataset_info\.json/,
    );
    await assert.rejects(
      planCommand(Commands.dropMissingEntries, manifest, 'hello, not JSON\n', context),
      /changes only a seizure manifest/,
    );
    await assert.rejects(
      planCommand(Commands.rebuildManifest, info, infoText, context),
      /changes only a seizure manifest; .* is an ARC dataset_info\.json/,
    );
    await assert.rejects(
      planCommand(Commands.rewriteLegacyPaths, manifest, '{"partial_seizure": []}', context),
      /changes only an ARC dataset_info\.json; .* is a seizure manifest/,
    );
  });
  assert.equal(isFileCommand(Commands.rewriteLegacyPaths), true);
  for (const name of ['neurocache.bogus', Commands.checkWorkspace, 'toString', '__proto__'])
    assert.equal(isFileCommand(name), false, name);
});

test('workspace bounds: the innermost folder, links resolved, relative folders kept inside, FIFOs never opened', async () => {
  const root = tempDir();
  const inner = path.join(root, 'projects', 'eeg');
  mkdirSync(inner, { recursive: true });
  const outside = tempDir();
  writeFileSync(path.join(outside, 'manifest.json'), '{}');
  symlinkSync(outside, path.join(inner, 'linked'));
  assert.equal(containingFolder(path.join(inner, 'manifest.json'), [root, inner]), inner);
  assert.equal(containingFolder(path.join(root, 'manifest.json'), [inner, root]), root);
  assert.equal(containingFolder(path.join(`${root}-sibling`, 'manifest.json'), [root]), undefined);

  await assertInsideWorkspace(path.join(inner, 'manifest.json'), [root], 'the document');
  await assert.rejects(
    assertInsideWorkspace(path.join(inner, 'linked', 'manifest.json'), [root], 'the document'),
    /outside the workspace folders \(it resolves to /,
  );
  await assert.rejects(
    assertInsideWorkspace(path.join(outside, 'manifest.json'), [root], 'the document'),
    /outside the workspace folders/,
  );
  await assert.rejects(
    assertInsideWorkspace(path.join(outside, 'manifest.json'), [], 'the document'),
    /only inside a workspace folder, and none is open/,
  );

  assert.equal(await resolveFolderArgument('data/arc', [root], 'the download folder'), path.join(root, 'data', 'arc'));
  assert.equal(
    await resolveFolderArgument(outside, [root], 'the download folder'),
    outside,
    "an absolute folder is the user's choice",
  );
  await assert.rejects(
    resolveFolderArgument('../escape', [root], 'the download folder'),
    /outside the workspace folders/,
  );
  await assert.rejects(
    resolveFolderArgument('projects/eeg/linked/data', [root], 'the download folder'),
    /outside the workspace folders/,
  );
  await assert.rejects(resolveFolderArgument('data', [], 'the download folder'), /no workspace folder is open/);

  const fifo = path.join(root, 'manifest.json');
  execFileSync('mkfifo', [fifo]);
  assert.equal(await readDocumentFile(fifo), undefined, 'a FIFO is not read (and does not block)');
  assert.equal(await readDocumentFile(path.join(root, 'missing.json')), undefined);
  assert.equal(await readDocumentFile(path.join(outside, 'manifest.json')), '{}');
});
