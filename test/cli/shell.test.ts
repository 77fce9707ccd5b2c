/**
 * The CLI as the shell expects it (issue 24.5): `check DIR`, severity overrides from the command
 * line and from the project file `.neurocache.json` (the same file the editor reads), group help,
 * "did you mean" for commands, an empty folder that is not built, a build Python would stop, and
 * values refused at once with what is wrong with them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { writeArcDataset, writeEegCache } from '../support/workspaces';
import { cliPath, tempDir } from '../support/python';

const store = tempDir();
function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [cliPath(), ...args, '--cache-dir', store], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
const codesOf = (stdout: string) =>
  JSON.parse(stdout)
    .files.flatMap((f: { diagnostics: { code: string; severity: string }[] }) =>
      f.diagnostics.map((d) => `${d.code}:${d.severity}`),
    )
    .sort();

/** A folder with a stale EEG cache (missing-cache-file errors) and an ARC dataset (a volume mismatch, a legacy path). */
function project(): string {
  const root = tempDir();
  writeEegCache(path.join(root, 'eeg'));
  writeArcDataset(path.join(root, 'arc', 'data'));
  // Not ours: found under the folder, never mentioned.
  mkdirSync(path.join(root, 'web'));
  writeFileSync(path.join(root, 'web', 'manifest.json'), JSON.stringify({ name: 'app', manifest_version: 3 }));
  return root;
}

test('check DIR finds the three kinds under it, and leaves out files that are not ours', () => {
  const root = project();
  const run = cli('check', root, '--json');
  assert.equal(run.code, 1, run.stderr);
  const files = JSON.parse(run.stdout).files.map((f: { path: string; kind: string }) => [
    path.relative(root, f.path),
    f.kind,
  ]);
  assert.deepEqual(files, [
    ['arc/data/dataset_info.json', 'arc-dataset-info'],
    ['eeg/manifest.json', 'seizure-manifest'],
  ]);
  const empty = tempDir();
  const none = cli('check', empty);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no manifest\.json, _dataset_index\.json or dataset_info\.json under/);
});

test('--severity and .neurocache.json change levels and exit codes alike; the command line wins', () => {
  const root = project();
  const before = codesOf(cli('check', root, '--json').stdout);
  assert.ok(before.includes('missing-cache-file:error') && before.includes('legacy-path:warning'), before.join(' '));

  const off = cli(
    'check',
    root,
    '--json',
    '--severity',
    'missing-cache-file=off',
    '--severity',
    'stale-manifest=off',
    '--severity',
    'lesion-volume-mismatch=hint',
    '--severity',
    'cv-split-fails=warning',
  );
  const offCodes = codesOf(off.stdout);
  assert.ok(
    !offCodes.some((c: string) => c.startsWith('missing-cache-file') || c.startsWith('stale-manifest')),
    offCodes.join(' '),
  );
  assert.ok(offCodes.includes('lesion-volume-mismatch:hint'));
  assert.equal(off.code, 0, `no error left: exit 0 (${offCodes.join(' ')})`);

  writeFileSync(
    path.join(root, '.neurocache.json'),
    JSON.stringify({
      diagnostics: {
        severity: {
          'missing-cache-file': 'off',
          'stale-manifest': 'off',
          'lesion-volume-mismatch': 'hint',
          'cv-split-fails': 'warning',
          'legacy-path': 'error',
        },
      },
    }),
  );
  const fromFile = cli('check', root, '--json');
  assert.deepEqual(
    codesOf(fromFile.stdout),
    offCodes.map((c: string) => (c === 'legacy-path:warning' ? 'legacy-path:error' : c)).sort(),
  );
  assert.equal(fromFile.code, 1, 'legacy-path is an error now');
  const overridden = cli('check', root, '--json', '--severity', 'legacy-path=warning');
  assert.equal(overridden.code, 0, 'the command line wins over the project file');

  // A nearer project file wins for the files below it.
  writeFileSync(path.join(root, 'eeg', '.neurocache.json'), JSON.stringify({ diagnostics: { severity: {} } }));
  const nearer = codesOf(cli('check', path.join(root, 'eeg', 'manifest.json'), '--json').stdout);
  assert.ok(nearer.includes('missing-cache-file:error'), nearer.join(' '));
});

test('bad severity overrides say what is wrong', () => {
  const root = project();
  const typo = cli('check', root, '--severity', 'missing-cache-fil=off');
  assert.equal(typo.code, 2);
  assert.match(
    typo.stderr,
    /"missing-cache-fil" is not a NeuroCache diagnostic code \(did you mean missing-cache-file\?\)/,
  );
  assert.match(
    cli('check', root, '--severity', 'legacy-path=loud').stderr,
    /"loud" for legacy-path is not one of off, hint, information, warning, error/,
  );
  assert.match(cli('check', root, '--severity', 'legacy-path').stderr, /--severity takes CODE=LEVEL/);
  writeFileSync(
    path.join(root, '.neurocache.json'),
    JSON.stringify({ diagnostics: { severity: { 'no-such-code': 'off' } }, extra: 1 }),
  );
  const unknown = cli('check', root);
  assert.match(unknown.stderr, /\.neurocache\.json: "no-such-code" is not a NeuroCache diagnostic code; ignored/);
  assert.match(unknown.stderr, /\.neurocache\.json: unknown key "extra"/);
  writeFileSync(path.join(root, '.neurocache.json'), '{"diagnostics": ');
  const broken = cli('check', root);
  assert.equal(broken.code, 2, 'a broken project file is not silently ignored: CI would disagree with the editor');
  assert.match(broken.stderr, /\.neurocache\.json is not valid JSON/);
});

test('manifest build on a folder without *.npz writes nothing and exits 1, unless --allow-empty', () => {
  const dir = tempDir();
  const run = cli('manifest', 'build', dir);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /no \*\.npz in .*: nothing written \(--allow-empty writes an empty manifest\.json\)/);
  assert.equal(existsSync(path.join(dir, 'manifest.json')), false);
  const json = cli('manifest', 'build', dir, '--json');
  assert.equal(json.code, 1);
  assert.equal(JSON.parse(json.stdout).written, false);
  assert.equal(cli('manifest', 'build', dir, '--allow-empty').code, 0);
  assert.equal(existsSync(path.join(dir, 'manifest.json')), true);
});

test('manifest build exits 1 when the Python build would stop, and says so first', () => {
  const dir = tempDir();
  writeEegCache(dir);
  // PK magic but no ZIP: numpy's zipfile raises BadZipFile, which the Python builder does not catch.
  writeFileSync(path.join(dir, 'b_windows.npz'), Buffer.from('PK\x03\x04 truncated'));
  const run = cli('manifest', 'build', dir);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.stderr.split('\n')[0], /^The Python builder would stop at b_windows\.npz/);
  assert.match(run.stdout, /^Wrote /);
});

test('group help, "did you mean" for commands, values refused at once', () => {
  for (const group of ['manifest', 'arc']) {
    const help = cli(group, '--help');
    assert.equal(help.code, 0, group);
    assert.match(help.stdout, new RegExp(`^Usage: neurocache ${group} <subcommand>`));
  }
  assert.match(cli('chek', 'x.json').stderr, /unknown command "chek" \(did you mean check\?\)/);
  assert.match(cli('stat', 'x.json').stderr, /did you mean stats\?/);
  const seed = cli('stats', 'x.json', '--seed', '-1');
  assert.equal(seed.code, 2);
  assert.match(seed.stderr, /--seed cannot be negative \("-1"\)/);
  const endpoint = spawnSync(
    process.execPath,
    [cliPath(), 'arc', 'download', '--endpoint', 'htp:/x', '--out', tempDir()],
    { encoding: 'utf8', timeout: 20_000 },
  );
  assert.equal(endpoint.status, 2, 'refused before any network');
  assert.match(endpoint.stderr, /invalid Hub endpoint "htp:\/x" \(expected an http:\/\/ or https:\/\/ URL/);
});

test('stats refuses a manifest training fails on, as check reports it', () => {
  const dir = tempDir();
  const cache = writeEegCache(dir);
  writeFileSync(cache.manifest, cache.text.replace('"window_idx": 0', '"window_idx": "one"'));
  const check = cli('check', cache.manifest);
  assert.match(check.stdout, /error manifest-schema: "window_idx" is "one": int\(\) raises ValueError/);
  const stats = cli('stats', cache.manifest);
  assert.equal(stats.code, 2);
  assert.equal(stats.stdout, '', 'no numbers');
  assert.match(
    stats.stderr,
    /1 schema error \(no statistics: training fails on this file\)\n.*manifest\.json:5:21: "window_idx" is "one"/,
  );
});
