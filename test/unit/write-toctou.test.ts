/**
 * Where a write lands is judged when it is written (issue 21.2): a folder of the target swapped
 * for a symbolic link after the caller checked the path (while a rebuild read the cache) makes the
 * write fail, and the file the link leads to is left byte for byte as it was. The swap runs in a
 * test hook at an exact stage of the write (atomicWriteHooks), never raced with sleeps.
 */
import assert from 'node:assert/strict';
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { atomicWriteHooks, RefusedWrite, writeFileAtomic } from '../../server/src/service/atomic';
import { buildManifestFile } from '../../server/src/service/buildManifest';
import { FingerprintStore } from '../../server/src/service/fingerprints';
import { CacheInspector } from '../../server/src/service/inspector';
import { WorkerPool } from '../../server/src/workers/pool';
import { eegNpz } from '../writers/npz';
import { tempDir } from '../support/python';

const PRECIOUS = '{"precious": true}\n';

/** root/cache (to be written) and outside/manifest.json (must never change). */
function layout() {
  const base = realpathSync(tempDir());
  const root = path.join(base, 'workspace');
  const cache = path.join(root, 'cache');
  const outside = path.join(base, 'outside');
  mkdirSync(cache, { recursive: true });
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'manifest.json'), PRECIOUS);
  writeFileSync(path.join(cache, 'manifest.json'), '{}');
  /** Moves the cache folder away and puts a link to `outside` in its place, as an attacker would. */
  const swap = () => {
    renameSync(cache, `${cache}.moved`);
    symlinkSync(outside, cache);
  };
  const temps = () =>
    [outside, `${cache}.moved`].flatMap((dir) =>
      readdirSync(dir)
        .filter((n) => n.endsWith('.tmp'))
        .map((n) => path.join(dir, n)),
    );
  return { base, root, cache, outside, swap, temps };
}

async function withHook<T>(stage: 'start' | 'before-rename', act: () => void, run: () => Promise<T>): Promise<T> {
  let done = false;
  atomicWriteHooks.stage = (at) => {
    if (at === stage && !done) {
      done = true;
      act();
    }
  };
  try {
    return await run();
  } finally {
    atomicWriteHooks.stage = undefined;
  }
}

for (const stage of ['start', 'before-rename'] as const) {
  test(`a folder swapped for a link at the write's ${stage} fails the write; the file outside is untouched`, async () => {
    const { base, root, cache, outside, swap, temps } = layout();
    try {
      const target = path.join(cache, 'manifest.json');
      await assert.rejects(
        withHook(stage, swap, () => writeFileAtomic(target, '{"rebuilt": 1}', { confine: [root] })),
        (error: Error) => error instanceof RefusedWrite && /nothing was written/.test(error.message),
      );
      assert.equal(readFileSync(path.join(outside, 'manifest.json'), 'utf8'), PRECIOUS);
      assert.deepEqual(readdirSync(outside).sort(), ['manifest.json'], 'no temp file outside');
      if (stage === 'start') assert.deepEqual(temps(), []);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
}

test('without a swap the confined write lands, also through a link that stays inside the workspace', async () => {
  const { base, root, cache } = layout();
  try {
    const alias = path.join(root, 'alias');
    symlinkSync(cache, alias);
    await writeFileAtomic(path.join(alias, 'manifest.json'), 'new', { confine: [root] });
    assert.equal(readFileSync(path.join(cache, 'manifest.json'), 'utf8'), 'new');
    await assert.rejects(
      writeFileAtomic(path.join(alias, 'manifest.json'), 'x', { confine: [path.join(base, 'elsewhere')] }),
      RefusedWrite,
    );
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('manifest build: the cache folder swapped for a link while the cache was read leaves the file outside untouched', async () => {
  const { base, cache, outside, swap } = layout();
  const pool = new WorkerPool(1);
  try {
    writeFileSync(
      path.join(cache, 'a_windows.npz'),
      eegNpz({ windows: 2, channels: 1, samples: 10, labels: new Float32Array(20).fill(1, 0, 3) }),
    );
    // The build has read the cache when the first write stage runs: the swap comes after every check it made.
    await assert.rejects(
      withHook('start', swap, () => buildManifestFile(cache, new CacheInspector(pool, new FingerprintStore()))),
      (error: Error) => error instanceof RefusedWrite && new RegExp(`now lies in ${outside}`).test(error.message),
    );
    assert.equal(readFileSync(path.join(outside, 'manifest.json'), 'utf8'), PRECIOUS);
    assert.deepEqual(readdirSync(outside).sort(), ['manifest.json']);
  } finally {
    await pool.close();
    rmSync(base, { recursive: true, force: true });
  }
});
