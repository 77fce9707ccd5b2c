/**
 * Only regular files are opened (issue 10 items 6, 13): the worker refuses a FIFO even when
 * handed one directly (open with O_NONBLOCK, then fstat), bounded text reads refuse devices and
 * oversized files, the workspace scan never lists a FIFO. What Python does with the same
 * files is established by running it.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, promises, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { NotReadableFile, readRegularText } from '../../server/src/service/regularFile';
import { findWorkspaceFiles } from '../../server/src/service/workspace';
import { WorkerPool } from '../../server/src/workers/pool';
import { eegNpz } from '../writers/npz';
import { pythonWith, tempDir } from '../support/python';

const noFifo = spawnSync('mkfifo', ['--version'], { stdio: 'ignore' }).status !== 0 && 'mkfifo not available';
const numpy = pythonWith('numpy');

test('the worker refuses a FIFO or a device handed to it directly, at once', { skip: noFifo }, async () => {
  const dir = tempDir();
  const pipe = path.join(dir, 'x_windows.npz');
  execFileSync('mkfifo', [pipe]);
  const pool = new WorkerPool(1);
  try {
    const results = await Promise.all([
      pool.npz(pipe),
      pool.nifti(pipe, true),
      pool.npz('/dev/zero'),
      pool.labelTrace(pipe),
    ]);
    assert.deepEqual(
      results.map((r) => r.ok),
      [false, false, false, false],
    );
    assert.match(!results[0].ok ? results[0].error : '', /^a FIFO \(named pipe\), not a regular file/);
    assert.match(!results[2].ok ? results[2].error : '', /^a character device, not a regular file/);
    assert.equal(pool.bytesRead, 0);
    // The pool is not left with a thread blocked in open(): a regular file is read next.
    const good = path.join(dir, 'good.npz');
    writeFileSync(good, eegNpz({ windows: 1, channels: 1, samples: 4, labels: new Float32Array(4) }));
    assert.equal((await pool.npz(good)).ok, true);
  } finally {
    await pool.close();
  }
});

test('bounded text reads: regular files only, at most the bound', { skip: noFifo }, async () => {
  const dir = tempDir();
  const pipe = path.join(dir, 'p.json');
  execFileSync('mkfifo', [pipe]);
  await assert.rejects(
    readRegularText(pipe),
    (e: Error) => e instanceof NotReadableFile && /is a FIFO/.test(e.message),
  );
  await assert.rejects(
    readRegularText('/dev/zero'),
    (e: Error) => e instanceof NotReadableFile && /character device/.test(e.message),
  );
  await assert.rejects(
    readRegularText(dir),
    (e: Error) => e instanceof NotReadableFile && /is a directory/.test(e.message),
  );
  const file = path.join(dir, 'a.json');
  writeFileSync(file, '{"é": 1}');
  assert.equal(await readRegularText(file), '{"é": 1}');
  await assert.rejects(
    readRegularText(file, 4),
    (e: Error) => e instanceof NotReadableFile && /over 4 bytes/.test(e.message),
  );
  await assert.rejects(readRegularText(path.join(dir, 'none.json')), { code: 'ENOENT' });
});

test(
  'a path stat that saw a regular file does not let a swapped-in FIFO or a changed file through: the open handle decides',
  { skip: noFifo },
  async () => {
    const dir = tempDir();
    const pipe = path.join(dir, 'p.json');
    execFileSync('mkfifo', [pipe]);
    const file = path.join(dir, 'a.json');
    writeFileSync(file, '{"a": [1, 2, 3]}');
    const stale = await promises.stat(file);
    // The stat alongside the open answers for what was there a moment before (the regular file as it was).
    const original = promises.stat;
    promises.stat = (async () =>
      Object.assign(Object.create(Object.getPrototypeOf(stale)), stale, { size: 3 })) as typeof promises.stat;
    try {
      await assert.rejects(
        readRegularText(pipe),
        (e: Error) => e instanceof NotReadableFile && /is a FIFO/.test(e.message),
      );
      assert.equal(await readRegularText(file), '{"a": [1, 2, 3]}');
    } finally {
      promises.stat = original;
    }
  },
);

test('the workspace scan lists regular files and links, never a FIFO', { skip: noFifo }, async () => {
  const root = tempDir();
  mkdirSync(path.join(root, 'a'));
  mkdirSync(path.join(root, 'b'));
  writeFileSync(path.join(root, 'a', 'manifest.json'), '{}');
  execFileSync('mkfifo', [path.join(root, 'b', 'manifest.json')]);
  execFileSync('mkfifo', [path.join(root, 'b', 'dataset_info.json')]);
  symlinkSync(path.join(root, 'a', 'manifest.json'), path.join(root, 'dataset_info.json'));
  assert.deepEqual(await findWorkspaceFiles([root], []), [
    path.join(root, 'a', 'manifest.json'),
    path.join(root, 'dataset_info.json'),
  ]);
});

test(
  'Python: the builder globs FIFOs and dangling links; np.load blocks on a FIFO and raises an OSError on a dangling link',
  { skip: (!numpy && 'python3 with numpy not found') || noFifo },
  async () => {
    const dir = tempDir();
    execFileSync('mkfifo', [path.join(dir, 'b.npz')]);
    symlinkSync('/nonexistent/c.npz', path.join(dir, 'c.npz'));
    const script = `
import pathlib, sys, numpy as np
d = pathlib.Path(sys.argv[1])
print(sorted(p.name for p in d.glob('*.npz')))
try:
    np.load(d / 'c.npz')
except Exception as e:
    print(type(e).__name__, isinstance(e, OSError))
print('opening fifo', flush=True)
np.load(d / 'b.npz')
print('returned', flush=True)
`;
    const child = spawn(numpy!, ['-c', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let exited = false;
    // Waits for Python to reach the FIFO, then gives it a full second more: it never returns.
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk) => {
        out += chunk;
        if (out.includes('opening fifo')) resolve();
      });
      child.on('exit', () => {
        exited = true;
        resolve();
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    child.kill();
    assert.equal(exited, false, 'Python returned');
    assert.equal(out, "['b.npz', 'c.npz']\nFileNotFoundError True\nopening fifo\n");
  },
);
