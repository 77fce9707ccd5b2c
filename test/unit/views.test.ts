/**
 * The data views' messages (service/views.ts, engine/eeg/npzView.ts): the NPZ view's shapes and
 * counts against numpy and the check's own summary, one window read on demand (equal to
 * numpy's `windows[w]`, inflating only up to it), bounds (rows, windows, volume bytes, regular
 * files only), damaged files (what numpy raises, as `check` says it), and the image/mask pair
 * of the NIfTI viewer (dataset_info.json first, a sibling file else).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test, TestContext } from 'node:test';
import { categoryOf, summarizeNpz } from '../../server/src/engine/eeg/npz';
import { MAX_ROW_BYTES, readMemberRow, readWindowTrace, TRACE_COLUMNS } from '../../server/src/engine/eeg/npzView';
import { ByteSource, FormatError, memorySource } from '../../server/src/engine/io/source';
import { MAX_VIEW_VOLUME_BYTES } from '../../server/src/protocol';
import { analyzeDocument } from '../../server/src/service/analyze';
import { FingerprintStore } from '../../server/src/service/fingerprints';
import { CacheInspector } from '../../server/src/service/inspector';
import { TextSnapshot } from '../../server/src/service/textDocument';
import {
  CheckedDocument,
  niftiPair,
  npzView,
  npzWindow,
  slicePicture,
  volumeBytes,
} from '../../server/src/service/views';
import { WorkerPool } from '../../server/src/workers/pool';
import { writeArcDataset, writeEegCache } from '../support/workspaces';
import { pythonWith, runPython, tempDir } from '../support/python';
import { encodeValues, npyHeader } from '../writers/npy';
import { eegMembers, eegNpz, writeNpz, writeNpzFile } from '../writers/npz';

const numpy = pythonWith('numpy');

function scratch(t: TestContext): string {
  const dir = tempDir('neurocache-views-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function withInspector<T>(t: TestContext, use: (inspector: CacheInspector) => Promise<T>): Promise<T> {
  const store = FingerprintStore.inDirectory(scratch(t));
  await store.load();
  const pool = new WorkerPool(1);
  try {
    return await use(new CacheInspector(pool, store));
  } finally {
    await pool.close();
  }
}

async function checked(file: string, inspector: CacheInspector): Promise<CheckedDocument> {
  const text = readFileSync(file, 'utf8');
  const analysis = await analyzeDocument(file, text, inspector, { content: true, cwd: path.dirname(file) });
  const snapshot = new TextSnapshot(text, 1);
  return { uri: pathToFileURL(file).href, analysis, positionAt: (offset) => snapshot.positionAt(offset) };
}

/** A source that counts the bytes read from it. */
function counting(bytes: Uint8Array): ByteSource & { read_: number } {
  const inner = memorySource(bytes);
  const source = {
    size: inner.size,
    read_: 0,
    read: async (offset: number, length: number) => {
      const got = await inner.read(offset, length);
      source.read_ += got.length;
      return got;
    },
  };
  return source;
}

function labels(windows: number, samples: number, fractions: number[]): Float32Array {
  const l = new Float32Array(windows * samples);
  fractions.forEach((f, w) => l.fill(1, w * samples, w * samples + Math.round(f * samples)));
  return l;
}

test(
  "one window equals numpy's windows[w] (per-column ranges) and labels[w] (per-column fractions)",
  { skip: !numpy && 'numpy not available' },
  async (t) => {
    const dir = scratch(t);
    const file = path.join(dir, 'a_windows.npz');
    writeFileSync(
      file,
      eegNpz({
        windows: 5,
        channels: 3,
        samples: 1000,
        labels: labels(5, 1000, [0, 0.3, 1, 0.5, 0]),
        compress: true,
        seed: 7,
      }),
    );
    const trace = await readWindowTrace(memorySource(readFileSync(file)), 3);
    const expected = runPython<{ min: number[][]; max: number[][]; labels: number[] }>(
      numpy!,
      `
import json, sys, numpy as np
with np.load(sys.argv[1]) as f:
    w = f["windows"][3].astype(np.float64); l = f["labels"][3]
per = int(sys.argv[2])
print(json.dumps({"min": [[float(w[c, i:i+per].min()) for i in range(0, w.shape[1], per)] for c in range(w.shape[0])],
                  "max": [[float(w[c, i:i+per].max()) for i in range(0, w.shape[1], per)] for c in range(w.shape[0])],
                  "labels": [float((l[i:i+per] > 0).mean()) for i in range(0, l.shape[0], per)]}))`,
      [file, String(Math.ceil(1000 / TRACE_COLUMNS))],
    );
    assert.deepEqual(trace.shape, [3, 1000]);
    assert.equal(trace.samplesPerColumn, Math.ceil(1000 / TRACE_COLUMNS));
    assert.deepEqual(
      trace.channels.map((c) => c.min),
      expected.min,
    );
    assert.deepEqual(
      trace.channels.map((c) => c.max),
      expected.max,
    );
    assert.deepEqual(trace.labels, expected.labels);
  },
);

test('a window is inflated up to its end and no further: window 0 of a large cache reads a fraction of it', async () => {
  const channels = 19;
  const samples = 4000;
  const bytes = eegNpz({ windows: 80, channels, samples, labels: labels(80, samples, []), compress: true });
  const source = counting(bytes);
  const row = await readMemberRow(source, 'windows', 0);
  // The .npy header (128 bytes) and exactly one window of float32.
  assert.equal(row.inflatedBytes, 128 + channels * samples * 4);
  assert.deepEqual(row.shape, [channels, samples]);
  // Read in 1 MiB chunks, a chunk or two ahead of the inflater: far less than the whole member.
  assert.ok(source.read_ < bytes.length / 4, `read ${source.read_} of ${bytes.length} bytes`);
  // The last window needs everything before it, once.
  const last = await readMemberRow(memorySource(bytes), 'windows', 79);
  assert.equal(last.inflatedBytes, 128 + 80 * channels * samples * 4);
});

test('window and row bounds: outside the array, not an index, Fortran order, rows larger than the bound', async (t) => {
  const bytes = eegNpz({ windows: 2, channels: 2, samples: 10, labels: labels(2, 10, [0.5, 0]), compress: true });
  for (const row of [-1, 2, 0.5, Number.NaN]) {
    await assert.rejects(
      readMemberRow(memorySource(bytes), 'windows', row),
      (e: Error) => e instanceof FormatError && /outside windows\.npy's 2 rows/.test(e.message),
      String(row),
    );
  }
  await assert.rejects(readMemberRow(memorySource(bytes), 'nothing', 0), /has no nothing array/);
  const fortran = writeNpz(
    [
      {
        name: 'windows.npy',
        bytes: Buffer.concat([npyHeader('<f4', [2, 3], true), encodeValues('<f4', new Float32Array(6))]),
      },
    ],
    { compress: false },
  );
  await assert.rejects(readMemberRow(memorySource(fortran), 'windows', 0), /Fortran order/);
  // A 1 KB member whose header claims rows of 2^27 float32 (512 MiB each): refused before any allocation.
  const huge = writeNpz(
    [{ name: 'windows.npy', bytes: Buffer.concat([npyHeader('<f4', [4, 2 ** 27]), new Uint8Array(1024)]) }],
    { compress: false },
  );
  await assert.rejects(readMemberRow(memorySource(huge), 'windows', 0), (e: Error) =>
    e.message.includes(`more than the ${MAX_ROW_BYTES} NeuroCache reads`),
  );
  // Through the service: the same refusals as messages, and only regular files.
  const dir = scratch(t);
  const file = path.join(dir, 'a_windows.npz');
  writeFileSync(file, bytes);
  await withInspector(t, async (inspector) => {
    assert.deepEqual(await npzWindow(file, 2, inspector), {
      ok: false,
      error: "row 2 is outside windows.npy's 2 rows",
    });
    assert.deepEqual(await npzWindow(file, -3, inspector), { ok: false, error: 'window -3 is not a window index' });
    const directory = await npzWindow(dir, 0, inspector);
    assert.ok(!directory.ok && /^a directory, not a regular file/.test(directory.error), JSON.stringify(directory));
    const ok = await npzWindow(file, 0, inspector);
    assert.ok(ok.ok && ok.channels.length === 2 && ok.labels?.length === 10);
  });
});

test('the NPZ view: members, categories as the check decides them, references with their findings, the training read cost', async (t) => {
  const dir = scratch(t);
  const cache = writeEegCache(dir);
  // An entry for a window the file does not have: its finding belongs to that reference.
  const text = JSON.parse(cache.text);
  text.no_seizure.push({ cache_file: 'a_windows.npz', window_idx: 9 });
  writeFileSync(cache.manifest, JSON.stringify(text, null, 2));
  const file = path.join(dir, 'a_windows.npz');
  await withInspector(t, async (inspector) => {
    const view = await npzView(file, inspector, [await checked(cache.manifest, inspector)]);
    const summary = await summarizeNpz(memorySource(readFileSync(file)));
    assert.deepEqual(
      view.members.map((m) => [m.key, m.shape, m.dtype]),
      [
        ['windows', [2, 1, 100], '<f4'],
        ['labels', [2, 100], '<f4'],
      ],
    );
    assert.equal(view.membersTotal, 2);
    assert.equal(view.windows?.count, summary.windowCount);
    assert.equal(
      view.windows?.categoryLetters,
      Array.from({ length: summary.windowCount }, (_, w) => categoryOf(summary, w)[0]).join(''),
    );
    assert.deepEqual(view.windows?.categories, { partial: 1, full: 0, none: 1 });
    assert.deepEqual(view.windows?.fractions, [0.1, 0]);
    const windows = view.members[0];
    const labelsMember = view.members[1];
    assert.deepEqual(view.readCost, {
      inflatedBytes: windows.uncompressedBytes + labelsMember.uncompressedBytes,
      readBytes: windows.compressedBytes + labelsMember.compressedBytes,
      windowBytes: 400,
    });
    assert.deepEqual(
      view.references.map((r) => r.label),
      [
        `${path.basename(dir)}/manifest.json partial_seizure, window 0`,
        `${path.basename(dir)}/manifest.json no_seizure, window 1`,
        `${path.basename(dir)}/manifest.json no_seizure, window 9`,
      ],
    );
    assert.equal(view.referencesTotal, 3);
    const lines = JSON.stringify(text, null, 2).split('\n');
    const first = view.references[0].range;
    assert.equal(lines[first.start.line].slice(first.start.character, first.end.character), 'a_windows.npz');
    assert.deepEqual(view.references[0].findings, []);
    assert.ok(
      view.references[2].findings.some((f) => f.severity === 'error' && /window/.test(f.message)),
      JSON.stringify(view.references[2].findings),
    );
    assert.equal(view.failure, undefined);
  });
});

test('damaged files: the view says what numpy raises, exactly as the check does', async (t) => {
  const dir = scratch(t);
  const notZip = path.join(dir, 'text_windows.npz');
  writeFileSync(notZip, 'hello, not an archive');
  const cut = path.join(dir, 'cut_windows.npz');
  writeNpzFile(cut, eegMembers({ windows: 4, channels: 2, samples: 500, labels: labels(4, 500, [1, 0, 0, 0]) }), {
    compress: true,
  });
  const whole = readFileSync(cut).length;
  truncateSync(cut, Math.floor(whole / 2));
  await withInspector(t, async (inspector) => {
    for (const file of [notZip, cut]) {
      const view = await npzView(file, inspector, []);
      const facts = await inspector.npz(file, true);
      assert.ok(view.failure, path.basename(file));
      assert.equal(view.failure.message, facts.failure?.message ?? facts.error);
      assert.equal(view.failure.exception, facts.failure?.exception);
      assert.equal(view.windows, undefined);
    }
    assert.equal((await npzView(notZip, inspector, [])).failure?.exception, 'ValueError');
    // The truncated archive has lost its directory: nothing to list, and a window cannot be read.
    const window = await npzWindow(cut, 0, inspector);
    assert.equal(window.ok, false);
    const gone = await npzView(path.join(dir, 'gone_windows.npz'), inspector, []);
    assert.equal(gone.error, 'no such file');
    assert.match((await npzView(dir, inspector, [])).error ?? '', /^a directory, not a regular file/);
  });
});

test('the NIfTI pair: the dataset_info.json sample that names a file, else its sibling; volume bytes bounded and regular only', async (t) => {
  const dir = scratch(t);
  const arc = writeArcDataset(path.join(dir, 'arc'));
  await withInspector(t, async (inspector) => {
    const documents = [await checked(arc.datasetInfo, inspector)];
    const fromMask = await niftiPair(arc.masks[0], documents);
    assert.equal(fromMask.image?.uri, pathToFileURL(arc.images[0]).href);
    assert.equal(fromMask.mask?.uri, pathToFileURL(arc.masks[0]).href);
    assert.match(fromMask.how, /^sample 0 of arc\/dataset_info\.json \(sub-M2001\)$/);
    assert.equal(fromMask.sample?.index, 0);
    // Sample 1's paths resolve through the legacy parent folder, as the checks resolve them.
    assert.equal((await niftiPair(arc.images[1], documents)).mask?.uri, pathToFileURL(arc.masks[1]).href);
    // Without the dataset_info.json: the sibling *_lesion file.
    const sibling = await niftiPair(arc.images[0], []);
    assert.equal(sibling.mask?.name, path.basename(arc.masks[0]));
    assert.match(sibling.how, /sibling mask/);
    const alone = path.join(dir, 'scan.nii.gz');
    writeFileSync(alone, readFileSync(arc.images[0]));
    const single = await niftiPair(alone, []);
    assert.equal(single.mask, undefined);
    assert.match(single.how, /no lesion mask found/);

    const bytes = await volumeBytes(arc.images[0]);
    assert.ok(bytes.ok && Buffer.from(bytes.base64, 'base64').equals(readFileSync(arc.images[0])));
    assert.deepEqual(await volumeBytes(arc.datasetInfo), {
      ok: false,
      error: 'dataset_info.json is not a NIfTI file (.nii or .nii.gz)',
    });
    const big = path.join(dir, 'big.nii');
    writeFileSync(big, '');
    truncateSync(big, MAX_VIEW_VOLUME_BYTES + 1); // sparse: nothing is written to disk
    const refused = await volumeBytes(big);
    assert.ok(!refused.ok && /over \d+ bytes/.test(refused.error), JSON.stringify(refused));
    const fifoDir = path.join(dir, 'pipes');
    mkdirSync(fifoDir);
    if (spawnSync('mkfifo', ['--version'], { stdio: 'ignore' }).status === 0) {
      const pipe = path.join(fifoDir, 'pipe.nii');
      execFileSync('mkfifo', [pipe]);
      const fifo = await volumeBytes(pipe);
      assert.ok(!fifo.ok && /not a regular file/.test(fifo.error), JSON.stringify(fifo));
      assert.match((await niftiPair(pipe, [])).error ?? '', /^a FIFO \(named pipe\), not a regular file/);
    }

    // The fallback's pictures: the slice with the most lesion voxels by default, any slice on request.
    const picture = await slicePicture({ image: arc.images[0], mask: arc.masks[0] }, inspector);
    assert.ok(
      picture.ok && picture.depth === 4 && picture.width === 6 && picture.height === 5 && picture.png.length > 0,
    );
    const other = await slicePicture({ image: arc.images[0], mask: arc.masks[0], z: 3 }, inspector);
    assert.ok(other.ok && other.z === 3);
    const outside = await slicePicture({ image: arc.images[0], z: 4 }, inspector);
    assert.ok(!outside.ok && /slice 4 is outside the volume/.test(outside.error), JSON.stringify(outside));
  });
});
