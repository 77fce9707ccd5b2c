/**
 * `check` on a manifest against the cache as today's builder and training see it: entries an
 * older builder wrote for label-less files, files the builder skips vs files that stop it, and
 * the entries of a duplicated key that Python's json drops.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { analyzeDocument } from '../../server/src/service/analyze';
import { FingerprintStore } from '../../server/src/service/fingerprints';
import { CacheInspector } from '../../server/src/service/inspector';
import { WorkerPool } from '../../server/src/workers/pool';
import { eegNpz, writeNpz } from '../writers/npz';
import { encodeValues, npyHeader } from '../writers/npy';
import { tempDir } from '../support/python';

async function check(dir: string, manifest: unknown) {
  const text = JSON.stringify(manifest, null, 2);
  const file = path.join(dir, 'manifest.json');
  writeFileSync(file, text);
  const pool = new WorkerPool(2);
  try {
    const analysis = await analyzeDocument(file, text, new CacheInspector(pool, new FingerprintStore()), {
      content: true,
      cwd: dir,
    });
    return {
      analysis,
      found: analysis.diagnostics.map(
        (d) => `${d.severity} ${d.code} ${text.slice(d.offset, d.offset + d.length).replace(/\s+/g, ' ')}`,
      ),
    };
  } finally {
    await pool.close();
  }
}

const labelled = (windows: number, seizure: number) =>
  eegNpz({
    windows,
    channels: 1,
    samples: 10,
    labels: new Float32Array(windows * 10).fill(1, 0, seizure),
    compress: true,
  });
const entry = (cache_file: string, window_idx: number) => ({ cache_file, window_idx });

test("an older builder's entries for a file without labels are flagged no-labels; a rebuild drops them", async () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'a_windows.npz'), labelled(2, 5));
  const windowsOnly = Buffer.concat([npyHeader('<f4', [2, 1, 10]), encodeValues('<f4', new Float32Array(20))]);
  writeFileSync(
    path.join(dir, 'b_windows.npz'),
    writeNpz([{ name: 'windows.npy', bytes: windowsOnly }], { compress: false }),
  );
  writeFileSync(
    path.join(dir, 'c_windows.npz'),
    writeNpz([{ name: 'windows.npy', bytes: windowsOnly }], { compress: false }),
  );
  const { found, analysis } = await check(dir, {
    partial_seizure: [entry('a_windows.npz', 0)],
    full_seizure: [],
    no_seizure: [
      entry('a_windows.npz', 1),
      entry('b_windows.npz', 0),
      entry('b_windows.npz', 1),
      entry('b_windows.npz', 5),
    ],
  });
  assert.deepEqual(found, [
    'warning no-labels [', // c_windows.npz: not listed, and a rebuild will not list it either: on the first list's [
    'warning no-labels { "cache_file": "b_windows.npz", "window_idx": 0 }',
    'warning no-labels { "cache_file": "b_windows.npz", "window_idx": 1 }',
    'warning no-labels { "cache_file": "b_windows.npz", "window_idx": 5 }',
    'error window-out-of-range 5',
  ]);
  const message = analysis.diagnostics.find((d) => d.code === 'no-labels' && d.offset > 100)!.message;
  assert.match(message, /builder leaves such files out .*training uses this window with all-zero labels/);
});

test('a file the builder skips and one that stops it get different codes, on entries and in the directory', async () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'a_windows.npz'), labelled(2, 5));
  const good = labelled(2, 5);
  writeFileSync(path.join(dir, 'cut_windows.npz'), good.subarray(0, good.length - 30)); // truncated: BadZipFile
  writeFileSync(path.join(dir, '._cut_windows.npz'), Buffer.from('\x00\x05\x16\x07 AppleDouble')); // ValueError
  writeFileSync(path.join(dir, 'text_windows.npz'), 'not an archive'); // ValueError
  const { found, analysis } = await check(dir, {
    partial_seizure: [entry('a_windows.npz', 0), entry('cut_windows.npz', 0), entry('text_windows.npz', 0)],
    full_seizure: [],
    no_seizure: [entry('a_windows.npz', 1)],
  });
  assert.deepEqual(found, [
    // ._cut_windows.npz, not listed: on the first list's [; cut_windows.npz, listed: its entry, and the next rebuild, on its first entry.
    'warning unreadable-cache-file [',
    'error cache-file-stops-build "cut_windows.npz"',
    'error cache-file-stops-build "cut_windows.npz"',
    'error unreadable-cache-file "text_windows.npz"',
  ]);
  const messages = analysis.diagnostics.map((d) => d.message).join('\n');
  assert.match(
    messages,
    /cut_windows\.npz cannot be read: .*numpy raises zipfile\.BadZipFile, which the Python builder does not catch: its build stops/,
  );
  assert.match(
    messages,
    /\._cut_windows\.npz cannot be read: .*numpy raises ValueError, which the Python builder catches: it skips this file/,
  );
});

test("a duplicated category key: Python's json keeps the last list, and so do the statistics", async () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'a_windows.npz'), labelled(3, 5));
  const text =
    '{"partial_seizure": [{"cache_file": "a_windows.npz", "window_idx": 0}], "full_seizure": [], "no_seizure": [{"cache_file": "a_windows.npz", "window_idx": 1}, {"cache_file": "a_windows.npz", "window_idx": 2}], "partial_seizure": []}';
  const file = path.join(dir, 'manifest.json');
  writeFileSync(file, text);
  const pool = new WorkerPool(1);
  try {
    const analysis = await analyzeDocument(file, text, new CacheInspector(pool, new FingerprintStore()), {
      content: true,
      cwd: dir,
    });
    assert.equal(analysis.kind, 'seizure-manifest');
    if (analysis.kind !== 'seizure-manifest') return;
    assert.deepEqual(analysis.stats.windows, { partial_seizure: 0, full_seizure: 0, no_seizure: 2 });
    const codes = analysis.diagnostics.map((d) => d.code);
    assert.ok(codes.includes('no-partial-windows'), codes.join());
    assert.ok(analysis.diagnostics.some((d) => d.code === 'manifest-schema' && /keeps only the last/.test(d.message)));
    assert.ok(!codes.includes('category-mismatch'), 'the dropped entry is not checked against the labels');
  } finally {
    await pool.close();
  }
});
