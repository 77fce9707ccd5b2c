/**
 * A build on a local file system starts a small libuv pool, not the 128 threads network storage
 * needs (issue 22: starting them is a cost in a short process); a size the user set is kept.
 * Counted from the built CLI's own threads (/proc/self/task) as it exits.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { LOCAL_IO_THREADS, onLocalFileSystem } from '../../server/src/cli/localIoThreads';
import { IO_THREADS } from '../../server/src/threadpool';
import { cliPath, tempDir } from '../support/python';
import { eegNpz } from '../writers/npz';

test('only Linux local file systems count as local; a missing folder does not', () => {
  assert.equal(onLocalFileSystem(tempDir(), 'darwin'), false);
  assert.equal(onLocalFileSystem(path.join(tempDir(), 'missing'), 'linux'), false);
});

test('a build on a local folder runs with a small I/O pool, unless the user sized it', (t) => {
  const dir = tempDir();
  if (process.platform !== 'linux' || !existsSync('/proc/self/task') || !onLocalFileSystem(dir)) {
    t.skip(`the temporary folder is not on a local Linux file system here`);
    return;
  }
  writeFileSync(path.join(dir, 's0_windows.npz'), eegNpz({ windows: 2, channels: 1, samples: 100, compress: true }));
  const probe = path.join(tempDir(), 'threads.js');
  writeFileSync(
    probe,
    "process.on('exit', () => process.stderr.write(`threads ${require('fs').readdirSync('/proc/self/task').length}\\n`));",
  );
  const threads = (env: NodeJS.ProcessEnv) => {
    const run = spawnSync(
      process.execPath,
      ['--require', probe, cliPath(), 'manifest', 'build', dir, '--cache-dir', tempDir()],
      { encoding: 'utf8', env: { ...process.env, UV_THREADPOOL_SIZE: undefined, ...env } },
    );
    assert.equal(run.status, 0, run.stderr);
    return Number(/threads (\d+)/.exec(run.stderr)?.[1]);
  };
  const local = threads({});
  assert.ok(local < IO_THREADS, `${local} threads (pool of ${LOCAL_IO_THREADS} expected)`);
  const chosen = threads({ UV_THREADPOOL_SIZE: String(IO_THREADS) });
  assert.ok(chosen >= IO_THREADS, `${chosen} threads with UV_THREADPOOL_SIZE=${IO_THREADS}`);
});
