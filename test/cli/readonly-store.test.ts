/**
 * A fingerprint store on a read-only file system: saving it fails with EROFS, and the CLI says
 * so (Node's recursive mkdir would report ENOENT, a file that does not exist, instead). Needs a
 * read-only mount: made here with tmpfs when permitted (root), skipped with a note otherwise.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { eegNpz } from '../writers/npz';
import { cliPath, tempDir } from '../support/python';

const base = tempDir();
const readOnly = path.join(base, 'ro');
mkdirSync(readOnly);
const mounted =
  spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', readOnly], { stdio: 'ignore' }).status === 0;

test(
  'a store on a read-only mount is reported as EROFS, not ENOENT',
  { skip: !mounted && 'cannot mount a read-only tmpfs here (needs root)' },
  () => {
    try {
      const cache = path.join(base, 'cache');
      mkdirSync(cache);
      writeFileSync(
        path.join(cache, 'a_windows.npz'),
        eegNpz({ windows: 2, channels: 1, samples: 10, labels: new Float32Array(20).fill(1, 0, 3) }),
      );
      writeFileSync(
        path.join(cache, 'manifest.json'),
        JSON.stringify({
          partial_seizure: [{ cache_file: 'a_windows.npz', window_idx: 0 }],
          full_seizure: [],
          no_seizure: [],
        }),
      );
      const run = spawnSync(
        process.execPath,
        [cliPath(), 'check', path.join(cache, 'manifest.json'), '--cache-dir', path.join(readOnly, 'store', 'deeper')],
        { encoding: 'utf8', timeout: 60_000 },
      );
      assert.match(run.stderr, /could not save fingerprints: EROFS: read-only file system/);
      assert.doesNotMatch(run.stderr, /ENOENT/);
    } finally {
      spawnSync('umount', [readOnly], { stdio: 'ignore' });
    }
  },
);

test.after(() => {
  if (mounted) spawnSync('umount', [readOnly], { stdio: 'ignore' });
  rmSync(base, { recursive: true, force: true });
});
