/**
 * A build killed during its write leaves a 0-byte `.manifest.json.<16 hex>.tmp` behind. The next
 * build removes such leftovers of its own target, and only those: a fresh temp file (a concurrent
 * writer's), another file's temp files, names outside the pattern and links stay.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { STALE_TEMP_MS } from '../../server/src/service/atomic';
import { eegNpz } from '../writers/npz';
import { cliPath, tempDir } from '../support/python';

test('manifest build removes its own stale temp files, nothing else', () => {
  const dir = tempDir();
  try {
    writeFileSync(
      path.join(dir, 'a_windows.npz'),
      eegNpz({ windows: 2, channels: 1, samples: 10, labels: new Float32Array(20).fill(1, 0, 3) }),
    );
    const old = (Date.now() - 2 * STALE_TEMP_MS) / 1000;
    const put = (name: string, stale: boolean) => {
      writeFileSync(path.join(dir, name), '');
      if (stale) utimesSync(path.join(dir, name), old, old);
      return name;
    };
    const killed = put('.manifest.json.0123456789abcdef.tmp', true);
    const olderPattern = put('.manifest.json.4242.1700000000000.tmp', true);
    const kept = [
      put('.manifest.json.fedcba9876543210.tmp', false), // a concurrent writer's, being written now
      put('.dataset_info.json.0123456789abcdef.tmp', true), // another file's
      put('.manifest.json.my-notes.tmp', true), // not our pattern
    ];
    symlinkSync('/nonexistent', path.join(dir, '.manifest.json.aaaaaaaaaaaaaaaa.tmp'));
    kept.push('.manifest.json.aaaaaaaaaaaaaaaa.tmp');
    const run = spawnSync(
      process.execPath,
      [cliPath(), 'manifest', 'build', dir, '--cache-dir', path.join(dir, 'store')],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(run.status, 0, run.stderr);
    const left = readdirSync(dir);
    assert.ok(!left.includes(killed) && !left.includes(olderPattern), `stale temp files remain: ${left.join(', ')}`);
    for (const name of kept) assert.ok(left.includes(name), `${name} was removed`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
