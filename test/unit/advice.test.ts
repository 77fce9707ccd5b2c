/**
 * No advice that cannot work: where a diagnostic tells the user to rebuild the manifest, a
 * rebuild makes that diagnostic go. A cache file with no windows is not reported as left out
 * (no build lists it: there is nothing to list).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { analyzeDocument } from '../../server/src/service/analyze';
import { computeManifest } from '../../server/src/service/buildManifest';
import { FingerprintStore } from '../../server/src/service/fingerprints';
import { CacheInspector } from '../../server/src/service/inspector';
import { WorkerPool } from '../../server/src/workers/pool';
import { eegNpz } from '../writers/npz';
import { tempDir } from '../support/python';

test('"rebuild to include it" is true: after a rebuild nothing is left out; a 0-window file is never reported', async () => {
  const dir = tempDir();
  const labels = (windows: number, seizure: number) => new Float32Array(windows * 10).fill(1, 0, seizure);
  writeFileSync(
    path.join(dir, 'a_windows.npz'),
    eegNpz({ windows: 2, channels: 1, samples: 10, labels: labels(2, 5) }),
  );
  writeFileSync(
    path.join(dir, 'b_windows.npz'),
    eegNpz({ windows: 3, channels: 1, samples: 10, labels: labels(3, 10) }),
  );
  writeFileSync(
    path.join(dir, 'empty_windows.npz'),
    eegNpz({ windows: 0, channels: 1, samples: 10, labels: labels(0, 0) }),
  );
  const manifest = path.join(dir, 'manifest.json');
  const pool = new WorkerPool(1);
  try {
    const inspector = new CacheInspector(pool, new FingerprintStore());
    const findings = async (text: string) =>
      (await analyzeDocument(manifest, text, inspector, { content: true, cwd: dir })).diagnostics;
    const stale = JSON.stringify({
      partial_seizure: [{ cache_file: 'a_windows.npz', window_idx: 0 }],
      full_seizure: [],
      no_seizure: [],
    });
    const before = (await findings(stale)).filter((d) => d.code === 'unreferenced-cache-file').map((d) => d.message);
    // In text order: b (not listed) on the [ of the first list, a (listed) on its entry's cache_file.
    assert.deepEqual(before, [
      'b_windows.npz (3 windows) is in the cache directory but not in the manifest; rebuild to include it.',
      'a_windows.npz has 2 windows but the manifest lists 1; rebuild to include the rest.',
    ]);
    const { text } = await computeManifest(dir, inspector);
    assert.deepEqual(
      (await findings(text)).filter((d) => d.code === 'unreferenced-cache-file'),
      [],
    );
    assert.ok(!text.includes('empty_windows.npz'), 'the builder lists no window of the empty file');
  } finally {
    await pool.close();
  }
});
