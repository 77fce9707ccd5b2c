/**
 * The header checks' rules (SPEC §1.2c) on summaries, and the hovers saying them: the cache's
 * shape is the one of the most files (a tie goes to the first by name), labels of another
 * sample count than the windows, files no entry lists on the root key; an entry's hover names
 * its file's shapes, the bytes each sample inflates and the window findings on it.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { NpzSummary } from '../../server/src/engine/eeg/npz';
import { parseManifest } from '../../server/src/engine/eeg/manifestParse';
import {
  cacheWindowShape,
  fileWindowFindings,
  windowHeaderDiagnostics,
} from '../../server/src/engine/eeg/windowHeaders';
import { analyzeDocument } from '../../server/src/service/analyze';
import { FingerprintStore } from '../../server/src/service/fingerprints';
import { hoverAt } from '../../server/src/service/hover';
import { CacheInspector } from '../../server/src/service/inspector';
import { WorkerPool } from '../../server/src/workers/pool';
import { eegNpz } from '../writers/npz';
import { tempDir } from '../support/python';

function summary(windows: number[], labels: number[] | undefined): NpzSummary {
  const samples = labels ? labels.slice(1).reduce((a, b) => a * b, 1) : 0;
  return {
    windowCount: labels ? labels[0] : windows[0],
    hasLabels: !!labels,
    positives: labels ? new Array(labels[0]).fill(0) : [],
    samplesPerWindow: samples,
    windowsShape: windows,
    labelsShape: labels,
    windowsDtype: '<f4',
    members: {},
    notes: [],
  };
}

test("the cache's shape is the most files', a tie going to the first by name", () => {
  const a = { name: 'a.npz', summary: summary([2, 18, 100], [2, 100]) };
  const b = { name: 'b.npz', summary: summary([2, 19, 100], [2, 100]) };
  const c = { name: 'c.npz', summary: summary([2, 19, 100], [2, 100]) };
  assert.deepEqual(cacheWindowShape([a, b, c]), { shape: [19, 100], files: 2, of: 3 });
  assert.deepEqual(cacheWindowShape([a, b])?.shape, [18, 100], 'a tie: the first file');
  const cache = cacheWindowShape([a, b, c]);
  assert.deepEqual(
    fileWindowFindings('a.npz', a.summary, cache, true).map((f) => f.code),
    ['window-shape'],
  );
  assert.deepEqual(fileWindowFindings('b.npz', b.summary, cache, true), []);
  // Labels of another length than the windows: the loss compares them.
  const short = fileWindowFindings('d.npz', summary([2, 19, 100], [2, 50]), cache, true);
  assert.equal(short.length, 1);
  assert.match(short[0].message, /labels hold 50 samples per window but its windows 100/);
  // Without labels the builder leaves the file out: nothing to say about label rows.
  assert.deepEqual(fileWindowFindings('e.npz', summary([3, 19, 100], undefined), cache, true), []);
});

test('a file no entry lists is judged on the [ of the first list (not the key: its hover is the statistics), as a warning a rebuild would make real', () => {
  const text = JSON.stringify(
    { partial_seizure: [{ cache_file: 'a.npz', window_idx: 0 }], full_seizure: [], no_seizure: [] },
    null,
    2,
  );
  const parsed = parseManifest(text);
  const listed = { exists: true, summary: summary([1, 19, 100], [1, 100]) };
  const odd = { exists: true, summary: summary([4, 18, 100], [3, 100]) };
  const third = { exists: true, summary: summary([1, 19, 100], [1, 100]) };
  const diagnostics = windowHeaderDiagnostics(parsed, {
    files: [listed],
    directory: [
      { name: 'a.npz', facts: listed },
      { name: 'b.npz', facts: odd },
      { name: 'c.npz', facts: third },
    ],
  });
  assert.deepEqual(
    diagnostics.map((d) => `${d.code} ${d.severity} ${d.offset}`),
    [`windows-labels-count warning ${text.indexOf('[')}`, `window-shape warning ${text.indexOf('[')}`],
  );
  assert.match(
    diagnostics[0].message,
    /b\.npz has 4 windows but 3 label rows.*window 3 is never trained.*A rebuild lists this file/,
  );
  assert.ok(diagnostics.every((d) => d.length === 1));
});

test('findings kept for one set of facts are not reused for other names or another directory', () => {
  // One facts array, as an edit's check passes it again (analyze.ts), with manifests naming files differently.
  const odd = { exists: true, summary: summary([4, 3, 8], [4, 8]) };
  const usual = { exists: true, summary: summary([4, 1, 8], [4, 8]) };
  const files = [odd, usual];
  const directory = [
    { name: 'a.npz', facts: odd },
    { name: 'b.npz', facts: usual },
    { name: 'c.npz', facts: usual },
  ];
  const manifest = (first: string, second: string) =>
    parseManifest(
      JSON.stringify({
        partial_seizure: [{ cache_file: first, window_idx: 0 }],
        full_seizure: [{ cache_file: second, window_idx: 1 }],
        no_seizure: [],
      }),
    );
  const plain = (d: { offset: number; code: string; message: string }[]) => d.map((x) => [x.offset, x.code, x.message]);
  for (const parsed of [manifest('a.npz', 'b.npz'), manifest('b.npz', 'a.npz'), manifest('a.npz', 'b.npz')]) {
    const again = windowHeaderDiagnostics(parsed, { files, directory });
    // A fresh array of the same facts is never found in the cache: the reference.
    const fresh = windowHeaderDiagnostics(parsed, { files: [...files], directory: [...directory] });
    assert.deepEqual(plain(again), plain(fresh));
  }
  // The same facts and names, but another directory listing: its unlisted files change.
  const parsed = manifest('a.npz', 'b.npz');
  const fewer = directory.slice(0, 2);
  assert.deepEqual(
    plain(windowHeaderDiagnostics(parsed, { files, directory: fewer })),
    plain(windowHeaderDiagnostics(parsed, { files: [...files], directory: [...fewer] })),
  );
});

test("an entry's hover names its file's shapes, the bytes a sample inflates and the findings on it", async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const labels = (n: number, s: number) => new Float32Array(n * s);
  writeFileSync(
    path.join(dir, 'a_windows.npz'),
    eegNpz({ windows: 2, channels: 19, samples: 64, labels: labels(2, 64), compress: true }),
  );
  writeFileSync(
    path.join(dir, 'b_windows.npz'),
    eegNpz({ windows: 2, channels: 19, samples: 64, labels: labels(2, 64), compress: true }),
  );
  writeFileSync(
    path.join(dir, 'c_windows.npz'),
    eegNpz({ windows: 2, channels: 18, samples: 64, labels: labels(2, 64), compress: true }),
  );
  const entries = ['a', 'b', 'c'].map((f) => ({ cache_file: `${f}_windows.npz`, window_idx: 0 }));
  const text = JSON.stringify({ partial_seizure: entries, full_seizure: [], no_seizure: [] }, null, 2);
  const file = path.join(dir, 'manifest.json');
  writeFileSync(file, text);
  const pool = new WorkerPool(1);
  try {
    const analysis = await analyzeDocument(file, text, new CacheInspector(pool, new FingerprintStore()), {
      content: true,
      cwd: dir,
    });
    const entry = hoverAt(analysis, text.indexOf('"c_windows.npz"'))!;
    assert.match(entry.markdown, /window-shape: c_windows\.npz holds windows of 18 × 64/);
    assert.match(entry.after!, /windows: 2 × 18 × 64 of 32-bit floating-point numbers; labels: 2 × 64/);
    assert.match(
      entry.after!,
      /Each sample training takes from this file inflates \d.* \(the whole windows and labels members\)/,
    );
    const other = hoverAt(analysis, text.indexOf('"a_windows.npz"'))!;
    assert.doesNotMatch(other.markdown, /window-shape/);
    const key = hoverAt(analysis, text.indexOf('"partial_seizure"') + 2)!;
    assert.match(key.after!, /Training reads per sample: .* inflated from .* stored/);
    assert.match(key.after!, /Per epoch of the balanced set \(seed 42, 3 samples\)/);
  } finally {
    await pool.close();
  }
});
