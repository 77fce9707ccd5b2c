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
import { NPZ_SUMMARY_KIND } from '../../server/src/engine/eeg/npz';
import { FingerprintStore } from '../../server/src/service/fingerprints';
import { CacheInspector } from '../../server/src/service/inspector';
import { WorkerPool } from '../../server/src/workers/pool';
import { eegNpz } from '../writers/npz';
import { tempDir } from '../support/python';

/** Writes a cache file, runs `look` with `truncateAt` installed to truncate it once, then checks the report. */
async function truncatedWhileRead(
  truncateAt: 'open' | 'first read',
  prepare: (inspector: CacheInspector, file: string) => Promise<void>,
) {
  const dir = tempDir();
  const file = path.join(dir, 'a_windows.npz');
  const write = () =>
    fs.writeFileSync(
      file,
      eegNpz({ windows: 4, channels: 2, samples: 64, labels: new Float32Array(256).fill(1, 0, 10) }),
    );
  write();
  const open = fs.promises.open;
  const probe = await open(__filename);
  const handleProto = Object.getPrototypeOf(probe) as { read: (...args: unknown[]) => Promise<unknown> };
  await probe.close();
  const read = handleProto.read;
  const pool = new WorkerPool(1);
  let armed = false;
  let truncated = false;
  const truncate = () => {
    if (armed && !truncated) {
      truncated = true;
      fs.truncateSync(file, 100);
    }
  };
  fs.promises.open = (async (target: fs.PathLike, ...rest: unknown[]) => {
    if (target === file && truncateAt === 'open') truncate();
    return (open as (...args: unknown[]) => Promise<fs.promises.FileHandle>)(target, ...rest);
  }) as typeof fs.promises.open;
  handleProto.read = function (this: unknown, ...args: unknown[]) {
    if (truncateAt === 'first read') truncate();
    return read.apply(this, args);
  };
  try {
    const store = new FingerprintStore();
    await prepare(new CacheInspector(pool, store), file);
    write(); // a new mtime: whatever the store knew no longer answers
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    armed = true;
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
    handleProto.read = read;
    await pool.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('an NPZ never seen before, truncated between its open and its read, is reported as changed while read', () =>
  // Opened without a stat before (the open's fstat is the stamp); the truncation comes after it.
  truncatedWhileRead('first read', async () => undefined));

test('an NPZ the store knows, truncated between its stat and its open, is reported as changed while read', () =>
  // A known file is stat-ed first (an unchanged one is then never opened); it changes before the open.
  truncatedWhileRead('open', async (inspector, file) => {
    assert.ok((await inspector.npz(file, true)).summary);
    assert.ok(inspector.store.knows(file, NPZ_SUMMARY_KIND));
  }));
