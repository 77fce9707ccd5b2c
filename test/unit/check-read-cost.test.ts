/**
 * `readCost: false` (what `check` passes): the same findings, without working out training's
 * read cost, which only `stats` and the hover show.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { analyzeDocument } from '../../server/src/service/analyze';
import { buildManifestFile } from '../../server/src/service/buildManifest';
import { FingerprintStore } from '../../server/src/service/fingerprints';
import { CacheInspector } from '../../server/src/service/inspector';
import { WorkerPool } from '../../server/src/workers/pool';
import { eegNpz } from '../writers/npz';
import { tempDir } from '../support/python';

test('a check asked not to work out the read cost leaves it out and finds the same as one that does', async () => {
  const dir = tempDir();
  const pool = new WorkerPool(1);
  try {
    for (let i = 0; i < 3; i++)
      fs.writeFileSync(
        path.join(dir, `s${i}_windows.npz`),
        eegNpz({ windows: 4, channels: 2, samples: 256, labels: new Float32Array(1024).fill(1, 0, 300 * i) }),
      );
    const inspector = new CacheInspector(pool, new FingerprintStore());
    await buildManifestFile(dir, inspector);
    const manifest = path.join(dir, 'manifest.json');
    const text = fs.readFileSync(manifest, 'utf8');
    const options = { content: true, cwd: dir };
    const full = await analyzeDocument(manifest, text, inspector, options);
    const lean = await analyzeDocument(manifest, text, inspector, { ...options, readCost: false });
    assert.equal(full.kind, 'seizure-manifest');
    assert.equal(lean.kind, 'seizure-manifest');
    assert.ok(full.kind === 'seizure-manifest' && full.readCost, 'worked out by default');
    assert.equal(lean.kind === 'seizure-manifest' ? lean.readCost : 'other kind', undefined);
    assert.deepEqual(lean.diagnostics, full.diagnostics);
  } finally {
    await pool.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
