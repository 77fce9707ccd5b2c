/**
 * Issue 19's planted cache, as a user meets it: a held-out cache whose manifest upstream's own
 * scan wrote (test/reference/build_manifest.py), files written by np.savez_compressed. `check`
 * reports the header findings on the exact entries (and the root key), `check --deep` the bad
 * windows numpy finds, `manifest build` says it on stderr and in --json, and a second deep
 * check inflates nothing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { cliPath, pythonWith, repoRoot, runPython, tempDir } from '../support/python';

const numpy = pythonWith('numpy');

const PLANT = `
import json, sys, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(19)
def windows(n, channels=19, samples=15360):
    # z-scored and clipped, as current preprocessing writes them
    return np.clip(rng.standard_normal((n, channels, samples), dtype=np.float32), -10, 10)
def labels(n, samples=15360):
    l = np.zeros((n, samples), np.float32)
    l[0, :200] = 1
    return l
np.savez_compressed(f"{d}/a_five_windows.npz", windows=windows(5), labels=labels(6))
np.savez_compressed(f"{d}/b_seven_windows.npz", windows=windows(7), labels=labels(6))
np.savez_compressed(f"{d}/c_eighteen_channels.npz", windows=windows(6, channels=18), labels=labels(6))
np.savez_compressed(f"{d}/d_thirty_seconds.npz", windows=windows(6, samples=7680), labels=labels(6, 7680))
w = windows(6)
w[3, 4, 100] = np.nan
w[0, 0, 0] = np.inf
w[5, 18, 15359] = -np.inf
w[2, 7, 1000:1003] = 37.5
np.savez_compressed(f"{d}/e_bad_values.npz", windows=w, labels=labels(6))
for name in ["f_ok", "g_ok", "h_ok"]:
    np.savez_compressed(f"{d}/{name}.npz", windows=windows(6), labels=labels(6))
found = {}
for name in ["e_bad_values.npz"]:
    with np.load(f"{d}/{name}") as z:
        x = z["windows"]
        found[name] = {"nonFinite": [i for i in range(x.shape[0]) if not np.isfinite(x[i]).all()],
                       "unclipped": [i for i in range(x.shape[0]) if (np.abs(x[i][np.isfinite(x[i])]) > 10).any()]}
print(json.dumps(found))
`;

function run(args: string[], store: string) {
  const result = spawnSync(process.execPath, [cliPath(), ...args, '--cache-dir', store], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface JsonDiagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  severity: string;
  code: string;
  message: string;
}

test(
  "the issue's planted cache: header findings on every check and build, bad windows with --deep, equal to numpy",
  { skip: !numpy && 'python3 with numpy not found' },
  (t) => {
    const dir = tempDir();
    const store = tempDir();
    t.after(() => {
      rmSync(dir, { recursive: true, force: true });
      rmSync(store, { recursive: true, force: true });
    });
    const numpyFound = runPython<Record<string, { nonFinite: number[]; unclipped: number[] }>>(numpy!, PLANT, [dir]);
    const reference = spawnSync(numpy!, [path.join(repoRoot(), 'test', 'reference', 'build_manifest.py'), dir], {
      encoding: 'utf8',
    });
    assert.equal(reference.status, 0, reference.stderr);
    const manifest = path.join(dir, 'manifest.json');
    writeFileSync(manifest, reference.stdout);
    const text = reference.stdout;
    const lines = text.split('\n');
    /** The 0-based line of the entry (its `cache_file` line) listing window `w` of `file`. */
    const entryLine = (file: string, w: number) =>
      lines.findIndex((l, i) => l.includes(`"cache_file": "${file}"`) && lines[i + 1].includes(`"window_idx": ${w}`));

    const both = run(['check', manifest, '--deep', '--no-content'], store);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--deep reads the cache windows, which --no-content forbids/);

    const plain = run(['check', manifest, '--json'], store);
    assert.equal(plain.code, 1, plain.stderr);
    const diagnostics: JsonDiagnostic[] = JSON.parse(plain.stdout).files[0].diagnostics;
    const coded = (code: string) => diagnostics.filter((d) => d.code === code);
    // 6 label rows, 5 windows: the entry of window 5, on its window_idx value.
    const beyond = coded('windows-labels-count').filter((d) => d.severity === 'error');
    assert.equal(beyond.length, 1);
    assert.equal(beyond[0].range.start.line, entryLine('a_five_windows.npz', 5) + 1);
    assert.equal(
      lines[beyond[0].range.start.line].slice(beyond[0].range.start.character, beyond[0].range.end.character),
      '5',
    );
    assert.match(beyond[0].message, /IndexError mid-epoch/);
    // 7 windows, 6 label rows: about the file as a whole, on the cache_file of its first entry; window 6 never trained.
    const never = coded('windows-labels-count').filter((d) => d.severity === 'warning');
    assert.equal(never.length, 1);
    const firstEntry = lines.findIndex((l) => l.includes('"cache_file": "b_seven_windows.npz"'));
    assert.equal(never[0].range.start.line, firstEntry);
    assert.equal(
      lines[firstEntry].slice(never[0].range.start.character, never[0].range.end.character),
      '"b_seven_windows.npz"',
    );
    assert.match(never[0].message, /b_seven_windows\.npz has 7 windows but 6 label rows.*window 6 is never trained/);
    // 18 channels and 7680 samples against 19 × 15360: on every entry of those files, their cache_file.
    const shapes = coded('window-shape');
    assert.equal(shapes.length, 12);
    for (const d of shapes) {
      const value = lines[d.range.start.line].slice(d.range.start.character, d.range.end.character);
      assert.match(value, /^"(c_eighteen_channels|d_thirty_seconds)\.npz"$/);
    }
    assert.match(
      shapes.find((d) => d.message.startsWith('c_'))!.message,
      /18 × 15360 .* 19 × 15360 \(6 of 8 files\).*torch\.stack fails/,
    );
    assert.match(shapes.find((d) => d.message.startsWith('d_'))!.message, /19 × 7680/);
    assert.equal(coded('non-finite-windows').length, 0, 'values only with --deep');

    const deep = run(['check', manifest, '--deep', '--json'], store);
    const deepOut = JSON.parse(deep.stdout);
    const deepDiagnostics: JsonDiagnostic[] = deepOut.files[0].diagnostics;
    const windowsOf = (code: string) =>
      deepDiagnostics
        .filter((d) => d.code === code)
        .map((d) => {
          const line = d.range.start.line;
          assert.equal(lines[line].trim(), '{', 'on the entry object');
          assert.equal(lines[d.range.end.line].trim().replace(/,$/, ''), '}');
          assert.match(lines[line + 1], /e_bad_values\.npz/);
          return Number(/"window_idx": (\d+)/.exec(lines[line + 2])![1]);
        })
        .sort();
    assert.deepEqual(windowsOf('non-finite-windows'), numpyFound['e_bad_values.npz'].nonFinite);
    assert.deepEqual(windowsOf('unclipped-windows'), numpyFound['e_bad_values.npz'].unclipped);
    assert.deepEqual(numpyFound['e_bad_values.npz'], { nonFinite: [0, 3, 5], unclipped: [2] });
    const nan = deepDiagnostics.find((d) => d.code === 'non-finite-windows' && /window 3 /.test(d.message))!;
    assert.match(nan.message, /1 non-finite value \(1 NaN\) of 291,840/);
    assert.match(
      deepDiagnostics.find((d) => d.code === 'unclipped-windows')!.message,
      /3 values beyond ±10 \(largest \|x\| 37\.5\)/,
    );
    assert.ok(deepOut.io.bytesInflated > 8 * 5 * 19 * 15360 * 4, 'every listed file inflated');

    const again = JSON.parse(run(['check', manifest, '--deep', '--json'], store).stdout);
    assert.deepEqual(
      again.io,
      { bytesRead: 0, filesRead: 0, bytesInflated: 0 },
      'a re-check of an unchanged cache reads and inflates nothing',
    );
    assert.deepEqual(again.files[0].diagnostics, deepDiagnostics);

    // The read cost: per selected sample, zipfile's file_size of windows.npy and labels.npy (numpy inflates both whole).
    const statsJson = JSON.parse(run(['stats', manifest, '--json', '--deep'], store).stdout);
    const selected = JSON.parse(run(['stats', manifest, '--json', '--selected'], store).stdout).selected;
    const picked: string[] = Object.values(selected as Record<string, { cache_file: string }[]>)
      .flat()
      .map((e) => e.cache_file);
    const sizes = runPython<Record<string, { inflated: number; stored: number }>>(
      numpy!,
      `
import json, sys, zipfile, pathlib
out = {}
for p in sorted(pathlib.Path(sys.argv[1]).glob("*.npz")):
    with zipfile.ZipFile(p) as z:
        members = [z.getinfo(n) for n in ("windows.npy", "labels.npy")]
        out[p.name] = {"inflated": sum(m.file_size for m in members), "stored": sum(m.compress_size for m in members)}
print(json.dumps(out))`,
      [dir],
    );
    assert.equal(statsJson.readCost.epoch.samples, picked.length);
    assert.equal(
      statsJson.readCost.epoch.inflated,
      picked.reduce((n, f) => n + sizes[f].inflated, 0),
    );
    assert.equal(
      statsJson.readCost.epoch.stored,
      picked.reduce((n, f) => n + sizes[f].stored, 0),
    );
    const bad = statsJson.cacheFiles.find((f: { name: string }) => f.name === 'e_bad_values.npz');
    assert.deepEqual(bad.windowsShape, [6, 19, 15360]);
    assert.deepEqual(bad.labelsShape, [6, 15360]);
    assert.deepEqual(
      bad.badWindows.nonFinite.map((w: { window: number }) => w.window),
      [0, 3, 5],
    );
    assert.deepEqual(bad.badWindows.unclipped, [{ window: 2, values: 3, maxAbs: 37.5 }]);
    assert.match(run(['stats', manifest], store).stdout, /Training reads per sample: .* inflated from .* stored/);

    const build = run(['manifest', 'build', dir], store);
    assert.equal(build.code, 0, build.stderr);
    assert.match(build.stderr, /error a_five_windows\.npz \[windows-labels-count\]: .*lists window 5.*IndexError/);
    assert.match(build.stderr, /warning b_seven_windows\.npz \[windows-labels-count\]: .*window 6 is never trained/);
    assert.match(build.stderr, /error c_eighteen_channels\.npz \[window-shape\]/);
    assert.match(build.stderr, /error d_thirty_seconds\.npz \[window-shape\]/);
    const built = JSON.parse(run(['manifest', 'build', dir, '--json'], store).stdout);
    assert.deepEqual(
      built.windowFindings.map((f: { name: string; code: string }) => `${f.name} ${f.code}`),
      [
        'a_five_windows.npz windows-labels-count',
        'b_seven_windows.npz windows-labels-count',
        'c_eighteen_channels.npz window-shape',
        'd_thirty_seconds.npz window-shape',
      ],
    );
  },
);
