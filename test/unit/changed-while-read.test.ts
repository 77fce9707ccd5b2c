/**
 * A cache file that shrinks while NeuroCache reads it (a writer truncating it) is reported as
 * changed while read, not as what the half-read bytes suggest ("np.load would wait on a FIFO").
 * The truncation happens in a hook on the file's open, after the inspector's stat: exact, no sleeps.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { describeFailure } from '../../server/src/engine/eeg/manifestCheck';
import { FingerprintStore } from '../../server/src/service/fingerprints';
import { CacheInspector } from '../../server/src/service/inspector';
import { WorkerPool } from '../../server/src/workers/pool';
import { eegNpz } from '../writers/npz';
import { tempDir } from '../support/python';

test('an NPZ truncated between stat and read is reported as changed while read', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'a_windows.npz');
  fs.writeFileSync(
    file,
    eegNpz({ windows: 4, channels: 2, samples: 64, labels: new Float32Array(256).fill(1, 0, 10) }),
  );
  const open = fs.promises.open;
  let truncated = false;
  fs.promises.open = (async (target: fs.PathLike, ...rest: unknown[]) => {
    if (target === file && !truncated) {
      truncated = true;
      fs.truncateSync(file, 100);
    }
    return (open as (...args: unknown[]) => Promise<fs.promises.FileHandle>)(target, ...rest);
  }) as typeof fs.promises.open;
  const pool = new WorkerPool(1);
  try {
    const store = new FingerprintStore();
    const facts = await new CacheInspector(pool, store).npz(file, true);
    assert.ok(truncated, 'the hook ran');
    assert.ok(facts.failure, JSON.stringify(facts));
    const text = describeFailure('a_windows.npz', facts.failure);
    assert.match(
      text,
      /^a_windows\.npz cannot be read: it changed while NeuroCache read it \(\d+ bytes when it was opened, 100 bytes now; the read said: .+\)\. What np\.load makes of it depends on the bytes it finds when training reads it/,
    );
    assert.doesNotMatch(text, /FIFO/);
    // Not remembered: the next look reads the file as it is now.
    const again = await new CacheInspector(pool, store).npz(file, true);
    assert.doesNotMatch(JSON.stringify(again), /changed while/);
  } finally {
    fs.promises.open = open;
    await pool.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
