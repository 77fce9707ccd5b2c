/**
 * `_dataset_index.json` against Python: what EEGWindowDataset does with each kind of index (a
 * reproduction of its constructor, test/reference/dataset_index.py), PurePosixPath stems, window
 * counts from the `.npy` header vs numpy's `windows.shape[0]`, and the rewrite fix producing the
 * bytes `json.dump(cache_data, f)` writes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  cacheFileFor,
  checkDatasetIndex,
  parseDatasetIndex,
  pythonStem,
  rewriteWindowCounts,
  trainingOutcome,
} from '../../server/src/engine/eeg/datasetIndex';
import { parsePythonTree } from '../../server/src/engine/json/pythonTree';
import { readWindowCount } from '../../server/src/engine/eeg/npz';
import { memorySource } from '../../server/src/engine/io/source';
import { pythonWith, repoRoot, runPython, tempDir } from '../support/python';

const numpy = pythonWith('numpy');
const skip = !numpy && 'python3 with numpy not found';
const reference = () => path.join(repoRoot(), 'test', 'reference', 'dataset_index.py');

/** Writes caches a (3 windows) and b (5 windows) with numpy. */
function cacheDir(): string {
  const dir = tempDir();
  runPython(
    numpy!,
    'import sys, numpy as np\nfor n, k in (("a", 3), ("b", 5)): np.savez_compressed(f"{sys.argv[1]}/{n}_windows.npz", windows=np.zeros((k, 2, 4), np.float32), labels=np.zeros((k, 4), np.float32))\nprint("{}")',
    [dir],
  );
  return dir;
}

test('what EEGWindowDataset does with each kind of index, as its constructor does it', { skip }, () => {
  const variants: [string, string][] = [
    ['valid', '{"files": ["/x/a.edf", "/x/b.edf"], "window_counts": [3, 5]}'],
    ['fewer counts', '{"files": ["/x/a.edf", "/x/b.edf"], "window_counts": [3]}'],
    ['bool and negative', '{"files": ["/x/a.edf", "/x/b.edf"], "window_counts": [true, -2]}'],
    ['root a list', '[["/x/a.edf"], [3]]'],
    ['no files', '{"window_counts": [3, 5]}'],
    ['no counts', '{"files": ["/x/a.edf", "/x/b.edf"]}'],
    ['files a number', '{"files": 7, "window_counts": [3, 5]}'],
    ['a file not a string', '{"files": ["/x/a.edf", 5], "window_counts": [3, 5]}'],
    ['counts an int', '{"files": ["/x/a.edf", "/x/b.edf"], "window_counts": 8}'],
    ['counts null', '{"files": ["/x/a.edf", "/x/b.edf"], "window_counts": null}'],
    ['counts a string', '{"files": ["/x/a.edf", "/x/b.edf"], "window_counts": "35"}'],
    ['counts empty string', '{"files": ["/x/a.edf", "/x/b.edf"], "window_counts": ""}'],
    ['counts empty dict', '{"files": ["/x/a.edf", "/x/b.edf"], "window_counts": {}}'],
    ['a string count', '{"files": ["/x/a.edf", "/x/b.edf"], "window_counts": [3, "5"]}'],
    ['a float count', '{"files": ["/x/a.edf", "/x/b.edf"], "window_counts": [3, 5.0]}'],
    ['a NaN count', '{"files": ["/x/a.edf", "/x/b.edf"], "window_counts": [NaN, 5]}'],
    [
      'duplicate keys, last wins',
      '{"files": ["/x/a.edf", "/x/b.edf"], "window_counts": "bad", "window_counts": [3, 5]}',
    ],
  ];
  for (const [label, text] of variants) {
    const dir = cacheDir();
    writeFileSync(path.join(dir, '_dataset_index.json'), text);
    const run = spawnSync(numpy!, [reference(), dir, JSON.stringify(['a.edf', 'b.edf'])], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const python = JSON.parse(run.stdout) as {
      outcome: string;
      exception?: string;
      duplicates?: number;
      rewritten?: string;
      caught?: string | null;
    };
    const parsed = parseDatasetIndex(text, true);
    // A root that is not an object does not look like an index (the editor says nothing), but training still reads it.
    assert.equal(parsed.isDatasetIndex, !text.startsWith('['), label);
    const ours = trainingOutcome(parsePythonTree(text)!);
    if (python.outcome === 'crash') {
      assert.equal(ours.kind, 'crash', label);
      assert.match(ours.kind === 'crash' ? ours.exception : '', new RegExp(`^${python.exception}`), label);
    } else if (python.outcome === 'trusted') {
      assert.equal(ours.kind, 'trusted', label);
    } else {
      // Rebuilt: cleanly (the rewritten index is just the fresh counts), or keeping the bad list.
      const fresh = '{"files": ["/data/edf/a.edf", "/data/edf/b.edf"], "window_counts": [3, 5]}';
      assert.equal(
        ours.kind,
        python.rewritten === fresh ? 'rebuilt' : 'rebuilt-corrupt',
        `${label}: ${python.rewritten}`,
      );
      if (ours.kind === 'rebuilt-corrupt') assert.equal(ours.duplicated, python.duplicates, label);
    }
    if (parsed.isDatasetIndex)
      assert.equal(
        parsed.schema.some((d) => d.severity === 'error'),
        ours.kind === 'crash' || ours.kind === 'rebuilt-corrupt',
        `${label}: ${parsed.schema.map((d) => d.message)}`,
      );
  }
});

test("cache file names: the stem of the EDF path as Python's PurePosixPath gives it", { skip }, () => {
  const paths = [
    '/data/x.edf',
    'x.edf',
    'a.b.edf',
    'x',
    '.edf',
    'x.',
    '/a/b/',
    'a/./b.edf',
    'a/..',
    '',
    '.',
    'C:\\data\\x.edf',
    'dir.d/x',
    '/a//b.EDF',
    'é😀.edf',
    '..x.edf',
  ];
  const stems = runPython<string[]>(
    numpy!,
    'import json, sys\nfrom pathlib import PurePosixPath\nprint(json.dumps([PurePosixPath(p).stem for p in json.loads(sys.argv[1])]))',
    [JSON.stringify(paths)],
  );
  paths.forEach((p, i) => assert.equal(pythonStem(p), stems[i], JSON.stringify(p)));
  assert.equal(cacheFileFor('/data/edf/aaaaaaac_s001_t000.edf'), 'aaaaaaac_s001_t000_windows.npz');
});

test("window counts come from the windows header and equal numpy's windows.shape[0]", { skip }, async () => {
  const dir = tempDir();
  const shapes = runPython<Record<string, number>>(
    numpy!,
    `
import json, sys, numpy as np
out = {}
for name, n, compressed, fortran in (("s", 7, False, False), ("z", 11, True, False), ("f", 4, True, True), ("e", 0, True, False)):
    w = np.zeros((n, 3, 5), np.float32)
    if fortran: w = np.asfortranarray(w)
    (np.savez_compressed if compressed else np.savez)(f"{sys.argv[1]}/{name}_windows.npz", labels=np.zeros((n, 5), np.float32), windows=w)
    with np.load(f"{sys.argv[1]}/{name}_windows.npz") as d: out[name] = int(d["windows"].shape[0])
print(json.dumps(out))`,
    [dir],
  );
  for (const [name, n] of Object.entries(shapes))
    assert.equal(await readWindowCount(memorySource(readFileSync(path.join(dir, `${name}_windows.npz`)))), n, name);
});

test(
  "the rewrite fix writes exactly what json.dump(cache_data, f) writes, and round-trips Python's own file",
  { skip },
  () => {
    const files = ['/data/edf/a.edf', '/data/é dir/b "q".edf', '/data/😀\\c.edf', '/data/\u007f\u0001.edf'];
    const counts = [3, 5, 0, 12];
    const dumped = runPython<{ text: string; fixed: string }>(
      numpy!,
      `
import io, json, sys
files, counts = json.loads(sys.argv[1]), json.loads(sys.argv[2])
f = io.StringIO(); json.dump({"files": files, "window_counts": counts}, f)
g = io.StringIO(); json.dump({"files": files, "window_counts": [4, 5, 0, 9]}, g)
print(json.dumps({"text": f.getvalue(), "fixed": g.getvalue()}))`,
      [JSON.stringify(files), JSON.stringify(counts)],
    );
    const parsed = parseDatasetIndex(dumped.text, true);
    assert.deepEqual(
      parsed.files.map((f) => [f.path, f.count]),
      files.map((f, i) => [f, counts[i]]),
    );
    // Same counts: the same bytes. Counts from the caches: Python's bytes for those counts.
    assert.equal(
      rewriteWindowCounts(
        parsed,
        counts.map((windows) => ({ exists: true, windows })),
      )!.text,
      dumped.text,
    );
    const facts = [
      { exists: true, windows: 4 },
      { exists: true, windows: 5 },
      { exists: false },
      { exists: true, windows: 9 },
    ];
    const rewritten = rewriteWindowCounts(parsed, facts)!;
    assert.equal(rewritten.text, dumped.fixed);
    assert.deepEqual([rewritten.changed, rewritten.kept], [2, 1]);
    const codes = checkDatasetIndex(parsed, facts).map((d) => `${d.severity} ${d.code}`);
    assert.deepEqual(codes, [
      'warning index-window-count',
      'warning index-missing-cache-file',
      'error index-window-count',
    ]);
  },
);
