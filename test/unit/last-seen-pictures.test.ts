/**
 * Hover pictures come from the stamps the last check saw, without a stat (a round trip on
 * network storage): a label trace is answered from the store even once its file is gone, until
 * a check finds it gone; a file the check saw change is drawn again from its new contents.
 */
import assert from 'node:assert/strict';
import { renameSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { FingerprintStore } from '../../server/src/service/fingerprints';
import { CacheInspector } from '../../server/src/service/inspector';
import { WorkerPool } from '../../server/src/workers/pool';
import { tempDir } from '../support/python';
import { eegNpz } from '../writers/npz';

const cache = (seizureWindows: number) => {
  const labels = new Float32Array(4 * 10).fill(1, 0, seizureWindows * 10);
  return eegNpz({ windows: 4, channels: 1, samples: 10, labels });
};

test('label traces answer from the stamp the last check saw; a check that finds the file gone or changed ends that', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'a_windows.npz');
  writeFileSync(file, cache(1));
  const pool = new WorkerPool(1);
  try {
    const inspector = new CacheInspector(pool, new FingerprintStore());
    assert.equal((await inspector.npz(file, true)).exists, true); // the check
    const drawn = await inspector.labelTrace(file);
    assert.ok(drawn && drawn.windows === 4);

    // Gone since the check: the hover still shows what its text describes (a stat would find nothing).
    renameSync(file, `${file}.away`);
    assert.deepEqual(await inspector.labelTrace(file), drawn);
    // A check sees it gone: no picture from the old stamp any more.
    assert.equal((await inspector.npz(file, true)).exists, false);
    assert.equal(await inspector.labelTrace(file), undefined);

    // Back with other labels and another mtime: the check's new stamp finds nothing stored, so it is drawn anew.
    writeFileSync(file, cache(3));
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    assert.equal((await inspector.npz(file, true)).exists, true);
    const redrawn = await inspector.labelTrace(file);
    assert.ok(redrawn);
    assert.notDeepEqual(redrawn.counts, drawn.counts);
  } finally {
    await pool.close();
  }
});
