/**
 * The CLI as a first-time user meets it: --help for every command and option, --version, usage
 * printed only for usage mistakes, no parser internals, and counts that agree between commands.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { COMMANDS } from '../../server/src/cli/spec';
import { eegNpz } from '../writers/npz';
import { cliPath, tempDir } from '../support/python';

const store = tempDir();
function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [cliPath(), ...args], {
    encoding: 'utf8',
    env: { ...process.env, NEUROCACHE_CACHE_DIR: store },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const version = JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')).version;

test('--version, -V and version print the package version', () => {
  for (const flag of ['--version', '-V', 'version']) {
    const run = cli(flag);
    assert.equal(run.code, 0, flag);
    assert.equal(run.stdout, `neurocache ${version}\n`, flag);
  }
});

test('neurocache --help lists every command; each command --help lists each of its options', () => {
  const general = cli('--help');
  assert.equal(general.code, 0);
  for (const command of COMMANDS) assert.match(general.stdout, new RegExp(`\\n  ${command.name} +\\S`), command.name);
  assert.match(general.stdout, /--version/);
  for (const command of COMMANDS) {
    for (const asked of [
      [...command.name.split(' '), '--help'],
      [...command.name.split(' '), '-h'],
      ['help', ...command.name.split(' ')],
      [...command.name.split(' '), 'x.json', '--bogus', '--help'],
    ]) {
      const run = cli(...asked);
      assert.equal(run.code, 0, asked.join(' '));
      assert.equal(run.stderr, '', asked.join(' '));
      assert.ok(run.stdout.startsWith(`Usage: neurocache ${command.name}`), asked.join(' '));
      for (const option of command.options) {
        assert.match(
          run.stdout,
          new RegExp(`\\n  --${option.name}${option.value ? ` ${option.value}` : ''} +\\S`),
          `${command.name} --${option.name}`,
        );
      }
    }
  }
});

test("mistakes get our own sentence and the command's usage; no parser internals", () => {
  const cases: [string[], RegExp][] = [
    [
      ['check', 'x.json', '--bogus'],
      /^neurocache: check has no option --bogus\n\nUsage: neurocache check <file\.json\|dir>\.\.\. \[options\]\nRun "neurocache check --help"/,
    ],
    [['stats', 'x.json', '--jsn'], /^neurocache: stats has no option --jsn \(did you mean --json\?\)/],
    [['check', 'x.json', '--jobs'], /^neurocache: --jobs needs a value: --jobs N\n/],
    [['check', 'x.json', '--json=yes'], /^neurocache: --json takes no value\n/],
    [['manifest'], /^neurocache: manifest needs a subcommand: manifest build\n\nUsage: neurocache manifest build/],
    [['arc', 'upload'], /^neurocache: arc has one subcommand, download, not "upload"/],
    [
      ['frobnicate'],
      /^neurocache: unknown command "frobnicate"\n\nUsage: neurocache <command> \[options\]\nRun "neurocache --help"/,
    ],
    [['lsp'], /^neurocache: lsp speaks LSP over stdio only: pass --stdio/],
  ];
  for (const [args, expected] of cases) {
    const run = cli(...args);
    assert.equal(run.code, 2, args.join(' '));
    assert.match(run.stderr, expected, args.join(' '));
    assert.doesNotMatch(
      run.stderr,
      /To specify|Unknown option '|ERR_PARSE_ARGS| {4}at /,
      `no parser text or stack: ${args.join(' ')}`,
    );
  }
});

test('unreadable input exits 2 with its reason but without the usage text', () => {
  const dir = tempDir();
  for (const args of [
    ['check', path.join(dir, 'missing.json')],
    ['check', dir],
    ['manifest', 'build', path.join(dir, 'nope')],
  ]) {
    const run = cli(...args);
    assert.equal(run.code, 2, args.join(' '));
    assert.doesNotMatch(run.stderr, /Usage:/, args.join(' '));
  }
});

test('manifest build and stats count the same files, and build says what else it found', () => {
  const dir = tempDir();
  const labels = (fractions: number[]) => {
    const out = new Float32Array(fractions.length * 10);
    fractions.forEach((f, w) => out.fill(1, w * 10, w * 10 + Math.round(f * 10)));
    return out;
  };
  writeFileSync(
    path.join(dir, 'a_windows.npz'),
    eegNpz({ windows: 2, channels: 1, samples: 10, labels: labels([0.5, 0]), compress: true }),
  );
  writeFileSync(
    path.join(dir, 'b_windows.npz'),
    eegNpz({ windows: 1, channels: 1, samples: 10, labels: labels([1]), compress: true }),
  );
  writeFileSync(
    path.join(dir, 'empty_windows.npz'),
    eegNpz({ windows: 0, channels: 1, samples: 10, labels: labels([]), compress: true }),
  );
  writeFileSync(
    path.join(dir, 'nolabels_windows.npz'),
    eegNpz({ windows: 2, channels: 1, samples: 10, compress: true }),
  );
  const build = cli('manifest', 'build', dir);
  assert.equal(build.code, 0, build.stderr);
  assert.match(
    build.stdout,
    /\n {2}2 cache files listed, 3 windows: 1 partial, 1 full, 1 no seizure\n {2}4 \*\.npz found: 1 without windows \(nothing to list\), 1 left out \(listed below\)\n/,
  );
  const json = JSON.parse(cli('manifest', 'build', dir, '--json').stdout);
  assert.deepEqual([json.files, json.found, json.withoutWindows], [2, 4, ['empty_windows.npz']]);
  const stats = cli('stats', path.join(dir, 'manifest.json'));
  assert.match(stats.stdout, /Cache files named by the manifest: 2\n/);
  assert.equal(JSON.parse(cli('stats', path.join(dir, 'manifest.json'), '--json').stdout).files, 2);
});
