/**
 * `neurocache manifest build` writes manifest.json as a write in place would: it keeps the old
 * file's mode, and refuses (exit 1, link untouched) to replace a symbolic link.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { eegNpz } from '../writers/npz';
import { cliPath, tempDir } from '../support/python';

const build = (dir: string) =>
  spawnSync(process.execPath, [cliPath(), 'manifest', 'build', dir, '--cache-dir', tempDir()], { encoding: 'utf8' });

function cache(): string {
  const dir = tempDir();
  writeFileSync(
    path.join(dir, 'a_windows.npz'),
    eegNpz({ windows: 2, channels: 1, samples: 10, labels: new Float32Array(20).fill(1, 0, 5) }),
  );
  return dir;
}

test('manifest build keeps the existing manifest.json mode', () => {
  const dir = cache();
  const manifest = path.join(dir, 'manifest.json');
  writeFileSync(manifest, '{}');
  chmodSync(manifest, 0o600);
  const run = build(dir);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(JSON.parse(readFileSync(manifest, 'utf8')).partial_seizure.length, 1);
  assert.equal(statSync(manifest).mode & 0o777, 0o600);
});

test('manifest build refuses to replace a symbolic link', () => {
  const dir = cache();
  const elsewhere = path.join(tempDir(), 'notes.txt');
  writeFileSync(elsewhere, 'not a manifest\n');
  const manifest = path.join(dir, 'manifest.json');
  symlinkSync(elsewhere, manifest);
  const run = build(dir);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /manifest\.json is a symbolic link; NeuroCache does not replace links/);
  assert.ok(lstatSync(manifest).isSymbolicLink());
  assert.equal(readlinkSync(manifest), elsewhere);
  assert.equal(readFileSync(elsewhere, 'utf8'), 'not a manifest\n');
});
