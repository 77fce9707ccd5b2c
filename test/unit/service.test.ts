/**
 * The service layer over real files: fingerprints survive a restart and re-read nothing (and
 * exactly the changed file after a change), caches beyond 4 GiB (sparse, ZIP64 offsets) are
 * read through the worker pool, and dataset_info checks find planted problems.
 */
import assert from 'node:assert/strict';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { analyzeDocument } from '../../server/src/service/analyze';
import { assertKind } from '../support/analysis';
import { FingerprintStore } from '../../server/src/service/fingerprints';
import { CacheInspector } from '../../server/src/service/inspector';
import { WorkerPool } from '../../server/src/workers/pool';
import { encodeNifti, encodeVoxels } from '../writers/nifti';
import { encodeValues, npyHeader } from '../writers/npy';
import { eegNpz, writeNpzFile } from '../writers/npz';
import { tempDir } from '../support/python';

async function withInspector<T>(storeDir: string, use: (inspector: CacheInspector) => Promise<T>): Promise<T> {
  const store = FingerprintStore.inDirectory(storeDir);
  await store.load();
  const pool = new WorkerPool(2);
  try {
    return await use(new CacheInspector(pool, store));
  } finally {
    await store.save();
    await pool.close();
  }
}

function labelsFor(windows: number, samples: number, seed: number): Float32Array {
  const l = new Float32Array(windows * samples);
  for (let w = 0; w < windows; w++) l.fill(1, w * samples, w * samples + ((w * seed * 13) % (samples + 1)));
  return l;
}

test('an unchanged cache is re-checked from fingerprints after a restart; a change re-reads only that file', async () => {
  const root = tempDir();
  const names = ['a_windows.npz', 'b_windows.npz', 'c_windows.npz'];
  names.forEach((name, i) =>
    writeFileSync(
      path.join(root, name),
      eegNpz({ windows: 3, channels: 2, samples: 128, labels: labelsFor(3, 128, i + 1), compress: true }),
    ),
  );
  const manifest = JSON.stringify({
    partial_seizure: [],
    full_seizure: [],
    no_seizure: names.map((cache_file) => ({ cache_file, window_idx: 0 })),
  });
  const file = path.join(root, 'manifest.json');
  writeFileSync(file, manifest);
  const storeDir = tempDir();
  const check = () =>
    withInspector(storeDir, async (inspector) => {
      const analysis = await analyzeDocument(file, manifest, inspector, { content: true, cwd: root });
      return { analysis, tasks: inspector.pool.tasksRun, bytes: inspector.pool.bytesRead };
    });
  const first = await check();
  assert.equal(first.tasks, 3);
  assert.ok(first.bytes > 0);
  const again = await check(); // a new pool and store: as after a process restart
  assert.equal(again.tasks, 0);
  assert.equal(again.bytes, 0);
  assert.deepEqual(again.analysis.diagnostics, first.analysis.diagnostics);
  // Same size, new mtime: only that file is read again.
  const later = new Date(Date.now() + 5000);
  utimesSync(path.join(root, 'b_windows.npz'), later, later);
  const changed = await check();
  assert.equal(changed.tasks, 1);
});

/** A stored NPZ whose windows member is a 4.5 GB hole, so labels sits past the 4 GiB mark. */
function writeHugeSparseNpz(file: string, labels: Uint8Array): void {
  const windowsHeader = npyHeader('<f4', [73242, 19, 808]); // 4,497,547,392 data bytes
  const dataBytes = 73242 * 19 * 808 * 4;
  writeNpzFile(
    file,
    [
      {
        name: 'windows.npy',
        size: windowsHeader.length + dataBytes,
        chunks: () => [windowsHeader],
        holeBytes: dataBytes,
      },
      { name: 'labels.npy', size: labels.length, chunks: () => [labels] },
    ],
    { compress: false },
  );
}

test('caches beyond 4 GiB are read with ZIP64 offsets and positional reads', async () => {
  const root = tempDir();
  const windows = 73242;
  const labelValues = new Uint8Array(windows).map((_, i) => (i % 3 === 0 ? 1 : 0));
  const labels = Buffer.concat([npyHeader('|u1', [windows]), encodeValues('|u1', labelValues)]);
  const file = path.join(root, 'huge_windows.npz');
  writeHugeSparseNpz(file, labels);
  await withInspector(tempDir(), async (inspector) => {
    const facts = await inspector.npz(file, true);
    assert.equal(facts.error, undefined);
    assert.equal(facts.summary?.windowCount, windows);
    assert.deepEqual(facts.summary?.windowsShape, [73242, 19, 808]);
    assert.equal(facts.summary?.positives.filter((p) => p === 1).length, Math.ceil(windows / 3));
    assert.ok(inspector.pool.bytesRead < 1 << 20, `read ${inspector.pool.bytesRead} bytes of a 4.5 GB file`);
  });
});

test('dataset_info checks: missing files, legacy paths, volume and shape mismatches, unknown acquisitions', async () => {
  const repo = tempDir();
  const arc = path.join(repo, 'data', 'arc');
  const nifti = path.join(arc, 'cache', 'nifti_cache');
  mkdirSync(nifti, { recursive: true });
  const mask = new Uint8Array(4 * 4 * 4).fill(1, 0, 10);
  writeFileSync(
    path.join(nifti, 'a_t2w.nii.gz'),
    encodeNifti({ dims: [4, 4, 4], datatype: 16, data: encodeVoxels(16, new Float32Array(64).fill(1)), gzip: true }),
  );
  writeFileSync(
    path.join(nifti, 'a_lesion.nii.gz'),
    encodeNifti({ dims: [4, 4, 4], datatype: 2, data: encodeVoxels(2, mask), gzip: true }),
  );
  writeFileSync(
    path.join(nifti, 'b_lesion.nii'),
    encodeNifti({ dims: [4, 4, 5], datatype: 2, data: encodeVoxels(2, new Uint8Array(80).fill(1, 0, 3)) }),
  );
  writeFileSync(path.join(nifti, 'broken.nii.gz'), Buffer.from('not gzip at all'));
  const info = {
    num_samples: 3,
    image_paths: [
      'cache/nifti_cache/a_t2w.nii.gz',
      'data/arc/cache/nifti_cache/a_t2w.nii.gz',
      'cache/nifti_cache/none.nii.gz',
    ],
    mask_paths: [
      'cache/nifti_cache/a_lesion.nii.gz',
      'cache/nifti_cache/b_lesion.nii',
      'cache/nifti_cache/broken.nii.gz',
    ],
    lesion_volumes: [10, 4, 0],
    acquisition_types: ['space_2x', 'space_no_accel', 'unknown'],
    subject_ids: ['sub-1', 'sub-2', 'sub-3'],
  };
  const text = JSON.stringify(info, null, 2);
  const file = path.join(arc, 'dataset_info.json');
  writeFileSync(file, text);
  const analysis = await withInspector(tempDir(), (inspector) =>
    analyzeDocument(file, text, inspector, { content: true, cwd: repo }),
  );
  assert.equal(analysis.kind, 'arc-dataset-info');
  const found = analysis.diagnostics.map((d) => `${d.code} ${text.slice(d.offset, d.offset + d.length)}`);
  assert.deepEqual(found.sort(), [
    // Three strata of one sample each: scikit-learn cannot make 3 folds, train stops.
    'cv-split-fails "acquisition_types"',
    'duplicate-sample "data/arc/cache/nifti_cache/a_t2w.nii.gz"',
    'legacy-path "data/arc/cache/nifti_cache/a_t2w.nii.gz"',
    'lesion-volume-mismatch 4',
    // 5 slices against 4: scipy_zoom pads them half a slice apart, the lesion moves 1 mm off its image.
    'mask-image-misaligned "cache/nifti_cache/b_lesion.nii"',
    'missing-file "cache/nifti_cache/none.nii.gz"',
    'shape-mismatch "cache/nifti_cache/b_lesion.nii"',
    'unknown-acquisition "unknown"',
    'unreadable-nifti "cache/nifti_cache/broken.nii.gz"',
  ]);
  assertKind(analysis, 'arc-dataset-info');
  assert.equal(analysis.stats.samples, 3);
  assert.equal(analysis.stats.paperParity.matches, false);
  assert.deepEqual(analysis.stats.lesionVolumes, { min: 0, q1: 2, median: 4, q3: 7, max: 10 });
});

test('pool work is cancellable: an aborted scan rejects instead of finishing', async () => {
  const root = tempDir();
  for (let i = 0; i < 12; i++)
    writeFileSync(
      path.join(root, `f${i}_windows.npz`),
      eegNpz({ windows: 2, channels: 2, samples: 64, labels: labelsFor(2, 64, i) }),
    );
  const pool = new WorkerPool(1);
  try {
    const controller = new AbortController();
    const jobs = Array.from({ length: 12 }, (_, i) =>
      pool.npz(path.join(root, `f${i}_windows.npz`), controller.signal),
    );
    controller.abort();
    const settled = await Promise.allSettled(jobs);
    assert.ok(
      settled.some(
        (s) => s.status === 'rejected' && /abort/i.test(String((s.reason as Error).name + (s.reason as Error).message)),
      ),
    );
    // The pool stays usable after a cancellation.
    const after = await pool.npz(path.join(root, 'f0_windows.npz'));
    assert.equal(after.ok, true);
  } finally {
    await pool.close();
  }
});
