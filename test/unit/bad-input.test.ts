/**
 * Bad input never crashes or hangs: truncated and corrupt ZIPs, ZIP bombs, lying headers,
 * non-JSON and wrong types, and path traversal in cache_file (rejected, never read).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { LineIndex } from '../../server/src/engine/diagnostics';
import { summarizeNifti } from '../../server/src/engine/arc/nifti';
import { summarizeNpz } from '../../server/src/engine/eeg/npz';
import { parseManifest } from '../../server/src/engine/eeg/manifestParse';
import { parseDatasetInfo } from '../../server/src/engine/arc/datasetInfo';
import { FormatError, memorySource } from '../../server/src/engine/io/source';
import { memberDataOffset, readZipDirectory } from '../../server/src/engine/io/zip';
import { analyzeDocument } from '../../server/src/service/analyze';
import { FingerprintStore } from '../../server/src/service/fingerprints';
import { CacheInspector } from '../../server/src/service/inspector';
import { WorkerPool } from '../../server/src/workers/pool';
import { encodeNifti, encodeVoxels } from '../writers/nifti';
import { encodeValues, npyHeader } from '../writers/npy';
import { eegNpz, writeNpz } from '../writers/npz';
import { tempDir } from '../support/python';

const labels = (windows: number, samples: number) => {
  const l = new Float32Array(windows * samples);
  for (let w = 0; w < windows; w++) l.fill(1, w * samples, w * samples + ((w * 37) % samples));
  return l;
};

async function rejects(bytes: Uint8Array, pattern: RegExp, what: string): Promise<void> {
  await assert.rejects(
    summarizeNpz(memorySource(bytes)),
    (e: Error) => e instanceof FormatError && pattern.test(e.message),
    what,
  );
}

test('truncated NPZ files are reported, at every cut point', async () => {
  for (const compress of [false, true]) {
    const bytes = eegNpz({ windows: 3, samples: 256, channels: 2, labels: labels(3, 256), compress });
    for (let cut = 0; cut < bytes.length; cut += Math.max(1, Math.floor(bytes.length / 97))) {
      await assert.rejects(summarizeNpz(memorySource(bytes.subarray(0, cut))), FormatError, `cut at ${cut}`);
    }
  }
});

test('corrupt compressed labels fail the inflate or the CRC, never pass silently', async () => {
  const bytes = eegNpz({ windows: 4, samples: 512, channels: 2, labels: labels(4, 512), compress: true });
  const good = await summarizeNpz(memorySource(bytes));
  const source = memorySource(bytes);
  const member = (await readZipDirectory(source)).get('labels.npy')!;
  const start = await memberDataOffset(source, member);
  let detected = 0;
  for (let i = 0; i < 40; i++) {
    const copy = bytes.slice();
    const at = start + Math.floor((member.compressedSize * i) / 40);
    copy[at] ^= 0x5a;
    try {
      const summary = await summarizeNpz(memorySource(copy));
      assert.deepEqual(summary.positives, good.positives, 'a flip that decodes must decode to the same labels');
    } catch (error) {
      assert.ok(error instanceof FormatError, String(error));
      detected++;
    }
  }
  assert.ok(detected > 0);
});

/** Sets the uncompressed size recorded for `name` in the central directory (ZIP64 extra). */
function patchDirectorySize(zip: Uint8Array, name: string, size: number): Uint8Array {
  const out = zip.slice();
  const view = new DataView(out.buffer);
  for (let at = out.length - 22; at >= 0; at--) {
    if (view.getUint32(at, true) !== 0x02014b50) continue;
    const nameLength = view.getUint16(at + 28, true);
    if (Buffer.from(out.subarray(at + 46, at + 46 + nameLength)).toString() !== name) continue;
    const extra = at + 46 + nameLength;
    if (view.getUint32(at + 24, true) === 0xffffffff && view.getUint16(extra, true) === 0x0001)
      view.setBigUint64(extra + 4, BigInt(size), true);
    else view.setUint32(at + 24, size, true);
    return out;
  }
  throw new Error(`${name} not found`);
}

test('a ZIP bomb in labels is read only as far as its .npy header needs, as numpy does', async () => {
  const header = npyHeader('<f4', [2, 10]);
  const declared = header.length + 2 * 10 * 4;
  const bomb = new Uint8Array(header.length + (64 << 20));
  bomb.set(header);
  const zip = writeNpz([{ name: 'labels.npy', bytes: bomb }], { compress: true });
  assert.ok(zip.length < 200_000, 'the bomb is small on disk');
  // numpy reads the header and the 80 bytes it declares, never the rest (nor its CRC): it loads.
  const started = process.memoryUsage().arrayBuffers;
  const summary = await summarizeNpz(memorySource(zip));
  assert.deepEqual([summary.windowCount, summary.positives], [2, [0, 0]]);
  // A directory that lies about the size ends zipfile's read there, and the CRC (of the whole bomb) fails.
  await rejects(patchDirectorySize(zip, 'labels.npy', declared), /CRC/, 'CRC over the declared bytes');
  assert.ok(process.memoryUsage().arrayBuffers - started < 32 << 20, 'did not inflate the whole bomb');
});

test('lying .npy headers and missing arrays are reported', async () => {
  const claimBig = Buffer.concat([npyHeader('<f4', [100000, 15360]), encodeValues('<f4', new Float32Array(20))]);
  await rejects(
    writeNpz([{ name: 'labels.npy', bytes: claimBig }], { compress: true }),
    /truncated/,
    'shape larger than data',
  );
  const strings = Buffer.concat([npyHeader('<U3', [2]), new Uint8Array(24)]);
  await rejects(
    writeNpz([{ name: 'labels.npy', bytes: strings }], { compress: false }),
    /cannot be compared/,
    'string dtype',
  );
  const notNpy = writeNpz([{ name: 'labels.npy', bytes: Buffer.from('hello world, not an array') }], {
    compress: false,
  });
  await rejects(notNpy, /not a \.npy array/, 'not npy');
  const noLabels = await summarizeNpz(
    memorySource(
      writeNpz([{ name: 'other.npy', bytes: Buffer.concat([npyHeader('<f4', [1]), new Uint8Array(4)]) }], {
        compress: false,
      }),
    ),
  );
  assert.equal(noLabels.hasLabels, false, 'no labels: the builder leaves the file out');
  await rejects(new Uint8Array(100), /not a ZIP/, 'zeros');
});

test('NIfTI headers that claim more voxels than the file holds are refused without allocating', async () => {
  const data = encodeVoxels(2, new Uint8Array(8));
  const lying = encodeNifti({ dims: [2, 2, 2], datatype: 2, data });
  // dim[1] = 2^30 in a 360-byte file.
  new DataView(lying.buffer, lying.byteOffset).setInt16(42, 0x7fff, true);
  new DataView(lying.buffer, lying.byteOffset).setInt16(44, 0x7fff, true);
  await assert.rejects(summarizeNifti(memorySource(lying), { countVoxels: true }), /more than the file can hold/);
  const truncated = encodeNifti({
    dims: [4, 4, 4],
    datatype: 16,
    data: encodeVoxels(16, new Float32Array(64)),
    gzip: true,
  });
  await assert.rejects(
    summarizeNifti(memorySource(truncated.subarray(0, truncated.length - 30)), { countVoxels: true }),
    FormatError,
  );
  await assert.rejects(
    summarizeNifti(memorySource(Buffer.from('{"not": "nifti"}')), { countVoxels: true }),
    FormatError,
  );
});

test('non-JSON and wrong types get schema diagnostics on the exact ranges', () => {
  const text =
    '{\n  "partial_seizure": [\n    {"cache_file": 3, "window_idx": "0"},\n    7\n  ],\n  "full_seizure": {},\n  "no_seizure": []\n}';
  const parsed = parseManifest(text);
  assert.ok(parsed.isManifest);
  const lines = new LineIndex(text);
  const found = parsed.schema.map((d) => ({
    at: lines.position(d.offset),
    text: text.slice(d.offset, d.offset + d.length),
    code: d.code,
  }));
  assert.deepEqual(found, [
    { at: { line: 2, character: 19 }, text: '3', code: 'manifest-schema' },
    { at: { line: 2, character: 36 }, text: '"0"', code: 'manifest-schema' },
    { at: { line: 3, character: 4 }, text: '7', code: 'manifest-schema' },
    { at: { line: 5, character: 18 }, text: '{}', code: 'manifest-schema' },
  ]);
  const broken = parseManifest('{"partial_seizure": [ {"cache_file": "a.npz", "window_idx": 0 ');
  assert.ok(broken.schema.some((d) => /Invalid JSON/.test(d.message)));
  const info = parseDatasetInfo(
    '{"num_samples": 2, "image_paths": ["a.nii.gz", 5], "mask_paths": [null], "lesion_volumes": [1.5, -2], "acquisition_types": [], "subject_ids": ["s", "t"]}',
  );
  const codes = info.schema.map((d) => d.code).sort();
  assert.ok(codes.includes('dataset-info-schema') && codes.includes('sample-count'), codes.join());
  assert.equal(parseManifest('{"name": "my-extension", "manifest_version": 3}').isManifest, false);
  assert.equal(parseDatasetInfo('{"description": "", "features": {}, "splits": {}}').isDatasetInfo, false);
});

test('path traversal in cache_file is rejected with a diagnostic and never read', async () => {
  const root = tempDir();
  const cache = path.join(root, 'cache');
  mkdirSync(cache);
  writeFileSync(
    path.join(root, 'outside_windows.npz'),
    eegNpz({ windows: 2, samples: 64, channels: 1, labels: labels(2, 64) }),
  );
  const text = JSON.stringify(
    {
      partial_seizure: [
        { cache_file: '../outside_windows.npz', window_idx: 0 },
        { cache_file: '/etc/passwd', window_idx: 0 },
      ],
      full_seizure: [],
      no_seizure: [],
    },
    null,
    2,
  );
  const manifest = path.join(cache, 'manifest.json');
  writeFileSync(manifest, text);
  const pool = new WorkerPool(1);
  try {
    const analysis = await analyzeDocument(manifest, text, new CacheInspector(pool, new FingerprintStore()), {
      content: true,
      cwd: root,
    });
    const traversal = analysis.diagnostics.filter((d) => d.code === 'manifest-schema');
    assert.deepEqual(
      traversal.map((d) => text.slice(d.offset, d.offset + d.length)),
      ['"../outside_windows.npz"', '"/etc/passwd"'],
    );
    assert.equal(pool.tasksRun, 0, 'no file was read');
    assert.equal(pool.bytesRead, 0);
  } finally {
    await pool.close();
  }
});
