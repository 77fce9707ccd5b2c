/**
 * Tiny files that lie about their size (issue 10 item 5): work and memory stay bounded by the
 * bytes present. A `labels` of shape (10^8, 0) is real to numpy (every window NaN, so the
 * Python builder files them all as partial_seizure); a `windows` header claiming
 * (10^11, 15360) over 128 bytes is not loadable at all. Both are reported, neither expands.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { categoryOf, labelTrace, MAX_WINDOWS_PER_FILE, summarizeNpz } from '../../server/src/engine/eeg/npz';
import { checkManifest } from '../../server/src/engine/eeg/manifestCheck';
import { parseManifest } from '../../server/src/engine/eeg/manifestParse';
import { FormatError, memorySource } from '../../server/src/engine/io/source';
import { computeManifest, MAX_BUILT_ENTRIES } from '../../server/src/service/buildManifest';
import { FingerprintStore } from '../../server/src/service/fingerprints';
import { CacheInspector } from '../../server/src/service/inspector';
import { WorkerPool } from '../../server/src/workers/pool';
import { encodeNifti, encodeVoxels } from '../writers/nifti';
import { encodeValues, npyHeader } from '../writers/npy';
import { eegNpz, writeNpz } from '../writers/npz';
import { pythonWith, repoRoot, runPython, tempDir } from '../support/python';

const numpy = pythonWith('numpy');

/** An NPZ with one member that is only a `.npy` header (plus `data`): a few hundred bytes. */
function headerOnly(
  member: 'labels' | 'windows',
  descr: string,
  shape: number[],
  data = new Uint8Array(0),
  compress = false,
): Uint8Array {
  return writeNpz([{ name: `${member}.npy`, bytes: Buffer.concat([npyHeader(descr, shape), data]) }], { compress });
}

/** Runs `use` and returns the growth of ArrayBuffer memory it left or peaked at (sampled after). */
async function externalGrowth(use: () => Promise<unknown>): Promise<number> {
  const before = process.memoryUsage().arrayBuffers;
  await use();
  return process.memoryUsage().arrayBuffers - before;
}

test('labels of shape (10^8, 0): 10^8 partial windows without a 10^8-element array, and a note saying so', async () => {
  const bytes = headerOnly('labels', '<f4', [1e8, 0]);
  assert.ok(bytes.length < 400, `${bytes.length} bytes`);
  let summary!: Awaited<ReturnType<typeof summarizeNpz>>;
  const grew = await externalGrowth(async () => (summary = await summarizeNpz(memorySource(bytes))));
  assert.ok(grew < 16 << 20, `allocated ${grew} bytes`);
  assert.equal(summary.windowCount, 1e8);
  assert.equal(summary.samplesPerWindow, 0);
  assert.deepEqual(summary.positives, []);
  for (const w of [0, 1, 5e7, 1e8 - 1]) assert.equal(categoryOf(summary, w), 'partial_seizure');
  assert.ok(
    summary.notes.some((n) => /shape \(100000000, 0\).*NaN.*lists all 100000000 windows as partial_seizure/.test(n)),
    summary.notes.join('\n'),
  );
  // Checking a manifest against it costs per entry, not per window.
  const text = JSON.stringify({
    partial_seizure: [{ cache_file: 'x.npz', window_idx: 99999999 }],
    full_seizure: [{ cache_file: 'x.npz', window_idx: 3 }],
    no_seizure: [],
  });
  const found = checkManifest(parseManifest(text), {
    files: [{ exists: true, summary }],
    directory: [{ name: 'x.npz', facts: { exists: true, summary } }],
  });
  // The file has no windows array: training fails on each entry (a KeyError), while the builder reads only labels.
  assert.deepEqual(
    found.map((d) => d.code),
    ['unreadable-cache-file', 'unreadable-cache-file', 'category-mismatch', 'unreferenced-cache-file'],
  );
  // Not "rebuild to include the rest": a NeuroCache build leaves the file out, and says why.
  assert.match(
    found[3].message,
    /x\.npz has 100000000 windows but the manifest lists 2; NeuroCache's build leaves it out, with more than 1000000 windows \(labels has shape \(100000000, 0\).*partial_seizure\)\.$/,
  );
  const trace = await labelTrace(memorySource(bytes));
  assert.equal(trace.windows, 1e8);
  assert.deepEqual(trace.counts, []);
});

test(
  'numpy loads the (10^8, 0) labels and its ratio is NaN, which the builder files as partial',
  { skip: !numpy && 'python3 with numpy not found' },
  () => {
    const dir = tempDir();
    const file = path.join(dir, 'x_windows.npz');
    writeFileSync(file, headerOnly('labels', '<f4', [1e8, 0]));
    const seen = runPython<{ shape: number[]; ratio: string; category: string }>(
      numpy!,
      `
import json, sys, warnings, numpy as np
warnings.simplefilter('ignore')
labels = np.load(sys.argv[1])['labels']
ratio = float((labels[12345] > 0).mean())
category = 'no_seizure' if ratio == 0.0 else 'full_seizure' if ratio >= 0.99 else 'partial_seizure'
print(json.dumps({'shape': list(labels.shape), 'ratio': repr(ratio), 'category': category}))
`,
      [file],
    );
    assert.deepEqual(seen, { shape: [1e8, 0], ratio: 'nan', category: 'partial_seizure' });
  },
);

test('a windows header claiming (10^11, 15360) over 128 bytes is a note, never an allocation; numpy cannot load it', async () => {
  const lying = headerOnly('windows', '<f4', [1e11, 15360]);
  const labels = new Float32Array(2 * 8).fill(1, 0, 3);
  const withLabels = writeNpz(
    [
      { name: 'windows.npy', bytes: npyHeader('<f4', [1e11, 15360]) },
      { name: 'labels.npy', bytes: Buffer.concat([npyHeader('<f4', [2, 8]), encodeValues('<f4', labels)]) },
    ],
    { compress: true },
  );
  for (const bytes of [lying, withLabels]) {
    let summary!: Awaited<ReturnType<typeof summarizeNpz>>;
    const grew = await externalGrowth(async () => (summary = await summarizeNpz(memorySource(bytes))));
    assert.ok(grew < 16 << 20, `allocated ${grew} bytes`);
    assert.ok(
      summary.notes.some((n) =>
        /windows\.npy's \.npy header declares shape \(100000000000, 15360\).*holds 128.*MemoryError/.test(n),
      ),
      summary.notes.join('\n'),
    );
  }
  if (!numpy) return;
  const dir = tempDir();
  const huge = path.join(dir, 'huge.npz');
  const small = path.join(dir, 'small.npz');
  writeFileSync(huge, lying);
  writeFileSync(small, headerOnly('windows', '<f4', [100, 15360], new Uint8Array(4)));
  const raised = runPython<string[]>(
    numpy,
    `
import json, sys, numpy as np
out = []
for f in sys.argv[1:]:
    try:
        np.load(f)['windows']; out.append('loaded')
    except BaseException as e:
        out.append(type(e).__name__)
print(json.dumps(out))
`,
    [huge, small],
  );
  assert.deepEqual(raised, ['MemoryError', 'ValueError']);
  assert.ok(
    (await summarizeNpz(memorySource(readFileSync(small)))).notes.some((n) => /declares shape \(100, 15360\)/.test(n)),
  );
});

test('labels with more windows than a file can plausibly hold are refused before inflating them', async () => {
  // 2 million bool windows of one sample each: honest sizes, a 2 KB deflated member.
  const windows = 2 * MAX_WINDOWS_PER_FILE;
  const bytes = headerOnly('labels', '|b1', [windows, 1], new Uint8Array(windows), true);
  assert.ok(bytes.length < 10_000);
  const grew = await externalGrowth(() =>
    assert.rejects(
      summarizeNpz(memorySource(bytes)),
      (e: Error) => e instanceof FormatError && /2000000 windows, more than the 1000000/.test(e.message),
    ),
  );
  assert.ok(grew < 16 << 20, `allocated ${grew} bytes`);
  // The picture path bounds its bins by the windows instead of allocating windows x 240 counts.
  const many = headerOnly('labels', '|b1', [300_000, 16], new Uint8Array(300_000 * 16), true);
  const trace = await labelTrace(memorySource(many));
  assert.equal(trace.windows, 300_000);
  assert.equal(trace.bins, 8);
  assert.ok(trace.bins * trace.windows <= 1 << 22, `${trace.bins} bins`);
});

async function build(dir: string) {
  const pool = new WorkerPool(1);
  try {
    return await computeManifest(dir, new CacheInspector(pool, new FingerprintStore()));
  } finally {
    await pool.close();
  }
}

test('the builder writes what Python writes for (n, 0) labels up to the per-file limit, and leaves out larger files', async () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'a_windows.npz'), headerOnly('labels', '<f4', [1000, 0]));
  writeFileSync(path.join(dir, 'b_windows.npz'), headerOnly('labels', '<f4', [1e8, 0]));
  writeFileSync(
    path.join(dir, 'c_windows.npz'),
    eegNpz({ windows: 2, channels: 1, samples: 10, labels: new Float32Array(20).fill(1, 0, 5) }),
  );
  const { text, result } = await build(dir);
  assert.deepEqual(result.windows, { partial_seizure: 1001, full_seizure: 0, no_seizure: 1 });
  assert.deepEqual(
    result.skipped.map((s) => s.name),
    ['b_windows.npz'],
  );
  assert.match(
    result.skipped[0].reason,
    /100000000 windows, more than the 1000000 NeuroCache lists for one file: left out of the manifest \(the Python builder would list all 100000000\)/,
  );
  assert.ok(result.notes.some((n) => n.name === 'b_windows.npz' && /partial_seizure/.test(n.note)));
  assert.ok(text.length < 200_000);
  if (!numpy) return;
  // Without the oversized file, the text is byte-identical to the reference builder's.
  const same = tempDir();
  for (const name of ['a_windows.npz', 'c_windows.npz'])
    writeFileSync(path.join(same, name), readFileSync(path.join(dir, name)));
  const reference = execFileSync(numpy, [path.join(repoRoot(), 'test', 'reference', 'build_manifest.py'), same], {
    encoding: 'utf8',
  });
  assert.equal((await build(same)).text, reference);
});

test('a directory of many lying files is refused as a whole instead of growing the manifest without bound', async () => {
  const dir = tempDir();
  const perFile = MAX_WINDOWS_PER_FILE;
  const files = Math.floor(MAX_BUILT_ENTRIES / perFile) + 1;
  for (let i = 0; i < files; i++)
    writeFileSync(path.join(dir, `f${i}_windows.npz`), headerOnly('labels', '<f4', [perFile, 0]));
  await assert.rejects(
    build(dir),
    /would list 3000000 windows, more than the 2000000 NeuroCache writes; not written \(largest: f0_windows\.npz 1000000/,
  );
});

test('a mask with 300,000 axial slices gets its largest-lesion picture (no spread of every slice count)', async () => {
  const dir = tempDir();
  const volume = encodeNifti({
    version: 2,
    dims: [1, 1, 300_000],
    datatype: 2,
    data: encodeVoxels(2, new Uint8Array(300_000).fill(1, 299_990)),
    gzip: true,
  });
  const mask = path.join(dir, 'm_lesion.nii.gz');
  const image = path.join(dir, 'm_t2w.nii.gz');
  writeFileSync(mask, volume);
  writeFileSync(image, volume);
  const pool = new WorkerPool(1);
  try {
    const picture = await pool.lesionPicture(mask, image);
    assert.equal(picture.ok, true, picture.ok ? '' : picture.error);
  } finally {
    await pool.close();
  }
});
