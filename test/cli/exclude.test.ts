/**
 * Cache files left out of the build on purpose (issue 24.2), in the CLI: `--exclude` and the
 * project file's `build.exclude` take the file out of `manifest build` (which says its manifest
 * differs from Python's by that file's windows, and by nothing else) and out of `check`'s
 * findings about files the manifest does not list. Same fixture as the server's test.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { writeRebuiltCache } from '../support/workspaces';
import { cliPath, tempDir } from '../support/python';

const store = tempDir();
function cli(cwd: string, ...args: string[]) {
  const result = spawnSync(process.execPath, [cliPath(), ...args, '--cache-dir', store], { encoding: 'utf8', cwd });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

type Entry = { cache_file: string; window_idx: number };
const readManifest = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Record<string, Entry[]>;

function fileLevelCodes(stdout: string): string[] {
  const [file] = JSON.parse(stdout).files as { diagnostics: { code: string; message: string }[] }[];
  return file.diagnostics.map((d) => `${d.code} ${d.message.split(/[ :]/)[0]}`).sort();
}

test('check: --exclude and build.exclude drop the findings about files the manifest does not list', () => {
  const root = tempDir();
  const cache = writeRebuiltCache(path.join(root, 'eeg'));
  const all = fileLevelCodes(cli(root, 'check', cache.manifest, '--json').stdout);
  assert.deepEqual(all, cache.fileLevel.map((f) => `${f.code} ${f.name}`).sort());
  // A name matches in any folder; a pattern with a / is relative to the working directory.
  const flags = cli(
    root,
    'check',
    cache.manifest,
    '--json',
    '--exclude',
    'damaged_*',
    '--exclude',
    'eeg/extra_windows.npz',
  );
  assert.deepEqual(fileLevelCodes(flags.stdout), ['no-labels nolabels_windows.npz']);
  // Relative to another folder, the path pattern matches nothing.
  const elsewhere = cli(cache.directory, 'check', cache.manifest, '--json', '--exclude', 'eeg/extra_windows.npz');
  assert.deepEqual(fileLevelCodes(elsewhere.stdout), all);

  writeFileSync(
    path.join(root, '.neurocache.json'),
    JSON.stringify({ build: { exclude: ['eeg/nolabels_windows.npz'] } }),
  );
  const fromFile = cli(cache.directory, 'check', cache.manifest, '--json', '--exclude', 'extra_windows.npz');
  assert.deepEqual(fileLevelCodes(fromFile.stdout), ['unreadable-cache-file damaged_windows.npz']);
  rmSync(path.join(root, '.neurocache.json'));

  assert.equal(cli(root, 'check', cache.manifest, '--exclude', '').code, 2);
});

test('manifest build leaves excluded files out and says the manifest differs from Python’s by their windows only', () => {
  const root = tempDir();
  const cache = writeRebuiltCache(path.join(root, 'eeg'));
  const python = cli(root, 'manifest', 'build', cache.directory);
  assert.equal(python.code, 0, python.stderr);
  assert.doesNotMatch(python.stderr, /excluded/i);
  const upstream = readManifest(cache.manifest);
  assert.equal(upstream.partial_seizure.filter((e) => e.cache_file === 'extra_windows.npz').length, 2);

  const project = path.join(root, '.neurocache.json');
  writeFileSync(project, JSON.stringify({ build: { exclude: ['eeg/extra_windows.npz'] } }));
  const built = cli(root, 'manifest', 'build', cache.directory, '--exclude', 'damaged_windows.npz');
  assert.equal(built.code, 0, built.stderr);
  const manifest = readManifest(cache.manifest);
  // The manifest is upstream's without extra_windows.npz's windows; damaged_windows.npz was never listed.
  for (const category of Object.keys(upstream))
    assert.deepEqual(
      manifest[category],
      upstream[category].filter((e) => e.cache_file !== 'extra_windows.npz'),
      category,
    );
  assert.match(built.stdout, /4 \*\.npz found: 1 left out \(listed below\), 2 excluded on purpose/);
  assert.match(
    built.stderr,
    new RegExp(
      `excluded extra_windows\\.npz: by "eeg/extra_windows\\.npz" in ${project.replace(/[.\\/]/g, '\\$&')} \\[the Python builder lists its 2 windows\\]`,
    ),
  );
  assert.match(built.stderr, /excluded damaged_windows\.npz: by "damaged_windows\.npz" in --exclude \[.*skips/);
  assert.match(
    built.stderr,
    /This manifest deliberately differs from the Python builder's by 2 windows, which Python would list: excluded on purpose damaged_windows\.npz \(by "damaged_windows\.npz" in --exclude\), extra_windows\.npz \(by "eeg\/extra_windows\.npz" in .*\.neurocache\.json\)\./,
  );

  const json = cli(root, 'manifest', 'build', cache.directory, '--json');
  const result = JSON.parse(json.stdout);
  assert.deepEqual(
    result.excluded.map((e: { name: string; pythonWindows: number; source: string }) => [
      e.name,
      e.pythonWindows,
      e.source,
    ]),
    [['extra_windows.npz', 2, project]],
  );
  assert.equal(result.windows.partial_seizure, 1);
});

test('a project file whose build.exclude is not a list of patterns: named, ignored, and a broken file stops the build', () => {
  const root = tempDir();
  const cache = writeRebuiltCache(path.join(root, 'eeg'));
  writeFileSync(path.join(root, '.neurocache.json'), JSON.stringify({ build: { exclude: 'extra_windows.npz' } }));
  const wrong = cli(root, 'manifest', 'build', cache.directory);
  assert.equal(wrong.code, 0, wrong.stderr);
  assert.match(wrong.stderr, /build\.exclude must be a list of glob patterns; ignored/);
  assert.equal(readManifest(cache.manifest).partial_seizure.length, 3);
  writeFileSync(path.join(root, '.neurocache.json'), '{"build": ');
  const broken = cli(root, 'manifest', 'build', cache.directory);
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, /\.neurocache\.json is not valid JSON/);
});

test('a file the Python build stops on stays reported when excluded: Python’s own rebuild knows no exclusions', () => {
  const root = tempDir();
  const cache = writeRebuiltCache(path.join(root, 'eeg'));
  // PK magic, no archive: zipfile.BadZipFile, which the Python builder does not catch.
  writeFileSync(path.join(cache.directory, 'stops_windows.npz'), Buffer.from('PK\x03\x04 truncated'));
  const checked = cli(root, 'check', cache.manifest, '--json', '--exclude', 'stops_windows.npz');
  assert.ok(fileLevelCodes(checked.stdout).includes('cache-file-stops-build stops_windows.npz'), checked.stdout);
  const built = cli(root, 'manifest', 'build', cache.directory, '--exclude', 'stops_windows.npz');
  assert.equal(built.code, 1, 'the Python builder would stop: exit 1 as without the exclusion');
  assert.match(built.stderr, /The Python builder would stop at stops_windows\.npz \(zipfile\.BadZipFile\)/);
  assert.match(built.stderr, /excluded stops_windows\.npz: by "stops_windows\.npz" in --exclude/);
});
