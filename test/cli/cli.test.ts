/**
 * The `neurocache` CLI as a user runs it: real files, real processes, exit codes, --json shapes
 * (docs/cli.md), clear errors for bad arguments and unreadable paths, quiet progress off a TTY.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { eegNpz } from '../writers/npz';
import { cliPath, tempDir } from '../support/python';

const store = tempDir();
function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [cliPath(), ...args, ...(args.length ? ['--cache-dir', store] : [])], {
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function cacheWith(files: Record<string, number[]>): string {
  const dir = tempDir();
  for (const [name, fractions] of Object.entries(files)) {
    const samples = 100;
    const labels = new Float32Array(fractions.length * samples);
    fractions.forEach((f, w) => labels.fill(1, w * samples, w * samples + Math.round(f * samples)));
    writeFileSync(
      path.join(dir, name),
      eegNpz({ windows: fractions.length, channels: 2, samples, labels, compress: true }),
    );
  }
  return dir;
}

test('bad usage exits 2 with a clear message', () => {
  for (const args of [
    [],
    ['frobnicate'],
    ['manifest'],
    ['manifest', 'build'],
    ['check'],
    ['stats', 'a', 'b'],
    ['check', 'x.json', '--bogus'],
  ]) {
    const run = spawnSync(process.execPath, [cliPath(), ...args], { encoding: 'utf8' });
    assert.equal(run.status, 2, args.join(' '));
    assert.match(run.stderr, /^neurocache: .+\n\nUsage:/, args.join(' '));
  }
  const dir = cacheWith({ 'a_windows.npz': [0] });
  assert.match(cli('manifest', 'build', dir, '--jobs', '0').stderr, /--jobs takes a whole number/);
  assert.match(cli('manifest', 'build', path.join(dir, 'nope')).stderr, /is not a directory/);
  assert.match(cli('check', path.join(dir, 'missing.json')).stderr, /cannot read .*missing\.json: no such file/);
  assert.equal(cli('check', dir).code, 2);
  assert.equal(cli('--help').code, 0);
});

test('manifest build, check and stats agree, with --json shapes from the spec', () => {
  const dir = cacheWith({ 'b_windows.npz': [0, 0.5, 1, 0.995], 'a_windows.npz': [0.01, 0, 0] });
  const build = cli('manifest', 'build', dir, '--json');
  assert.equal(build.code, 0, build.stderr);
  assert.doesNotMatch(build.stderr, /\r/, 'no progress bar off a TTY');
  const result = JSON.parse(build.stdout);
  assert.deepEqual(result.windows, { partial_seizure: 2, full_seizure: 2, no_seizure: 3 });
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest.partial_seizure, [
    { cache_file: 'a_windows.npz', window_idx: 0 },
    { cache_file: 'b_windows.npz', window_idx: 1 },
  ]);

  const clean = cli('check', path.join(dir, 'manifest.json'), '--json');
  assert.equal(clean.code, 0);
  const cleanJson = JSON.parse(clean.stdout);
  assert.deepEqual(cleanJson.files, [
    { path: path.join(dir, 'manifest.json'), kind: 'seizure-manifest', diagnostics: [] },
  ]);
  assert.deepEqual(
    cleanJson.io,
    { bytesRead: 0, filesRead: 0, bytesInflated: 0 },
    'answered from the fingerprints the build left',
  );

  const stats = JSON.parse(cli('stats', path.join(dir, 'manifest.json'), '--json').stdout);
  assert.equal(stats.kind, 'seizure-manifest');
  assert.deepEqual(stats.windows, { partial_seizure: 2, full_seizure: 2, no_seizure: 3 });
  // int(0.3 * 2) = 0 full, int(2.5 * 2) = 5 -> all 3 background: ratio 2 / 5.
  assert.deepEqual([stats.balanced.partial, stats.balanced.full, stats.balanced.background], [2, 0, 3]);
  assert.equal(stats.balanced.seizureRatio, 0.4);
  assert.equal(stats.balanced.posWeight, Math.sqrt(0.6 / 0.4));
});

test('check reports planted problems with positions and exits 1; unrelated JSON exits 0 with nothing', () => {
  const dir = cacheWith({ 'a_windows.npz': [0, 0.5] });
  const text = [
    '{',
    '  "partial_seizure": [{"cache_file": "a_windows.npz", "window_idx": 0}],',
    '  "full_seizure": [{"cache_file": "a_windows.npz", "window_idx": 9}],',
    '  "no_seizure": [{"cache_file": "gone_windows.npz", "window_idx": 0}]',
    '}',
  ].join('\n');
  const file = path.join(dir, 'manifest.json');
  writeFileSync(file, text);
  const run = cli('check', file);
  assert.equal(run.code, 1);
  const lines = run.stdout.trim().split('\n');
  assert.ok(
    lines.includes(
      `${file}:2:23: error category-mismatch: Listed as partial_seizure, but 0 of 100 label samples (0.00%) are > 0: it is no_seizure. The manifest is stale; rebuild it.`,
    ),
    run.stdout,
  );
  assert.ok(
    lines.some((l) => l.startsWith(`${file}:3:66: error window-out-of-range:`)),
    run.stdout,
  );
  assert.ok(
    lines.some((l) => l.startsWith(`${file}:4:33: error missing-cache-file:`)),
    run.stdout,
  );
  assert.ok(
    lines.some((l) => /warning unreferenced-cache-file: a_windows.npz has 2 windows but the manifest lists 1/.test(l)),
    run.stdout,
  );
  const json = JSON.parse(cli('check', file, '--json', '--no-content').stdout);
  assert.deepEqual(
    json.files[0].diagnostics.map((d: { code: string }) => d.code),
    ['stale-manifest', 'missing-cache-file'],
  );
  assert.deepEqual(json.files[0].diagnostics[1].range, {
    start: { line: 3, character: 32 },
    end: { line: 3, character: 50 },
  });

  const other = path.join(tempDir(), 'manifest.json');
  mkdirSync(path.dirname(other), { recursive: true });
  writeFileSync(other, JSON.stringify({ manifest_version: 3, name: 'An extension', version: '1.0' }));
  const unrelated = cli('check', other, '--json');
  assert.equal(unrelated.code, 0);
  assert.deepEqual(JSON.parse(unrelated.stdout).files[0], { path: other, kind: 'unrelated', diagnostics: [] });
  assert.equal(cli('stats', other).code, 2);
});

test("files Python's json.load cannot read: check reports invalid-json (exit 1), stats refuses with what training does (exit 2)", () => {
  const dir = tempDir();
  const files: Record<string, string | Buffer> = {
    'manifest.json': '',
    '_dataset_index.json': '{"files": ["a',
    'dataset_info.json': 'not json',
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  const run = cli('check', ...Object.keys(files).map((n) => path.join(dir, n)), '--json');
  assert.equal(run.code, 1);
  const report = JSON.parse(run.stdout) as {
    files: { kind: string; diagnostics: { code: string; message: string; range: unknown }[] }[];
  };
  assert.deepEqual(
    report.files.map((f) => [f.kind, f.diagnostics.map((d) => d.code)]),
    [
      ['seizure-manifest', ['invalid-json']],
      ['eeg-dataset-index', ['invalid-json']],
      ['arc-dataset-info', ['invalid-json']],
    ],
  );
  assert.match(
    report.files[0].diagnostics[0].message,
    /json\.JSONDecodeError: Expecting value: line 1 column 1 \(char 0\)\. The training loop .* deletes/,
  );
  assert.match(
    report.files[1].diagnostics[0].message,
    /Unterminated string starting at: line 1 column 12 \(char 11\)\. EEGWindowDataset ignores it/,
  );
  assert.deepEqual(report.files[1].diagnostics[0].range, {
    start: { line: 0, character: 11 },
    end: { line: 0, character: 12 },
  });
  const stats = cli('stats', path.join(dir, 'manifest.json'), '--json');
  assert.equal(stats.code, 2);
  assert.equal(stats.stdout, '', 'no numbers from a partial parse');
  assert.match(
    stats.stderr,
    /^neurocache: .*manifest\.json: Python's json\.load raises json\.JSONDecodeError.*rescans every cache file/,
  );
  assert.doesNotMatch(stats.stderr, /Usage:/);

  // Deep nesting and bytes that are not UTF-8: reported, never a crash.
  writeFileSync(path.join(dir, 'manifest.json'), `{"partial_seizure": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
  const deep = cli('check', path.join(dir, 'manifest.json'));
  assert.equal(deep.code, 1, deep.stderr);
  assert.match(
    deep.stdout,
    /:1:1014: error invalid-json: Python's json\.load raises RecursionError: maximum recursion depth exceeded/,
  );
  writeFileSync(
    path.join(dir, 'manifest.json'),
    Buffer.concat([
      Buffer.from('{"partial_seizure": [], "full_seizure": [], "no_seizure": ["'),
      Buffer.from([0xff]),
      Buffer.from('"]}'),
    ]),
  );
  assert.match(
    cli('check', path.join(dir, 'manifest.json')).stdout,
    /:1:61: error invalid-json: .*UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 60: invalid start byte/,
  );

  // A valid JSON file of that name that is something else is still not ours.
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ manifest_version: 3, name: 'x' }));
  assert.equal(cli('check', path.join(dir, 'manifest.json')).code, 0);
});

test("_dataset_index.json: check compares counts with each cache's windows header, stats summarises it", () => {
  const dir = cacheWith({ 'a_windows.npz': [0, 0.5, 1], 'b_windows.npz': [0, 0] });
  const index = path.join(dir, '_dataset_index.json');
  writeFileSync(
    index,
    JSON.stringify({ files: ['/edf/a.edf', '/edf/b.edf', '/edf/c.edf'], window_counts: [3, 4, 2] })
      .replace(/,/g, ', ')
      .replace(/:/g, ': '),
  );
  const run = cli('check', index, '--json');
  assert.equal(run.code, 1);
  const found = (
    JSON.parse(run.stdout).files[0].diagnostics as { code: string; severity: string; message: string }[]
  ).map((d) => `${d.severity} ${d.code}`);
  assert.deepEqual(found, ['warning index-missing-cache-file', 'error index-window-count']);
  const stats = JSON.parse(cli('stats', index, '--json').stdout);
  assert.deepEqual(
    [stats.kind, stats.files, stats.windows, stats.missingCacheFiles, stats.outcome],
    ['eeg-dataset-index', 3, 9, 1, 'trusted'],
  );
});
