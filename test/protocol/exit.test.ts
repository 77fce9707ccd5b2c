/**
 * `exit` always ends the server, over stdio: also while a thread is blocked in a system call
 * (a FIFO in the cache, or, simulated by a preloaded module, a hung file read and a hung worker)
 * that `process.exit` alone would wait for forever. Without anything blocked the exit is the
 * ordinary one (code 0 after shutdown, 1 without). The bound below is a guard against a hang,
 * not a speed requirement.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ExitNotification, ShutdownRequest } from 'vscode-languageserver-protocol/node';
import { LspSession, uriOf } from '../support/lsp';
import { tempDir } from '../support/python';

const GUARD_MS = 30_000;

/** Shutdown (answered), then exit; resolves with how the process ended, or rejects if it does not. */
async function shutdownAndExit(
  lsp: LspSession,
  shutdown = true,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let guard: NodeJS.Timeout | undefined;
  const hung = new Promise<never>(
    (_, reject) =>
      (guard = setTimeout(() => reject(new Error(`the server was still running ${GUARD_MS} ms after exit`)), GUARD_MS)),
  );
  try {
    if (shutdown) await Promise.race([lsp.connection.sendRequest(ShutdownRequest.type), hung]);
    await lsp.connection.sendNotification(ExitNotification.type);
    return await Promise.race([lsp.exited, hung]);
  } finally {
    clearTimeout(guard);
    lsp.child.kill('SIGKILL');
    lsp.connection.dispose();
  }
}

const fifo = (file: string) => (execFileSync('mkfifo', [file]), file);

/** Resolves once a thread of `pid` waits in open() for a FIFO's writer (Linux reports it in wchan), or `stop` is set. */
async function blockedOnFifo(pid: number, stop: { done: boolean }): Promise<void> {
  const waiting = () =>
    readdirSync(`/proc/${pid}/task`).some((task) => {
      try {
        return readFileSync(`/proc/${pid}/task/${task}/wchan`, 'utf8').includes('partner');
      } catch {
        return false;
      }
    });
  // The state is in /proc, not in any message: look again every few milliseconds.
  while (!stop.done && !waiting()) await new Promise((resolve) => setTimeout(resolve, 10));
}

test('exit ends the server while the scan waits on a FIFO named like a cache file', { timeout: 120_000 }, async () => {
  const root = tempDir();
  const cache = path.join(root, 'cache');
  mkdirSync(cache);
  fifo(path.join(cache, 'x_windows.npz'));
  const manifest = path.join(cache, 'manifest.json');
  writeFileSync(
    manifest,
    JSON.stringify({
      partial_seizure: [{ cache_file: 'x_windows.npz', window_idx: 0 }],
      full_seizure: [],
      no_seizure: [],
    }),
  );
  const lsp = new LspSession();
  await lsp.initialize(root);
  // Either a worker is stuck opening the FIFO, or (when cache files are opened only if regular) the check finishes.
  const stop = { done: false };
  await Promise.race([blockedOnFifo(lsp.child.pid!, stop), lsp.settled(uriOf(manifest))]);
  stop.done = true;
  const ended = await shutdownAndExit(lsp);
  assert.ok(ended.signal === 'SIGKILL' || ended.code === 0, JSON.stringify(ended));
});

test('exit ends the server while a file read and a worker thread hang', async () => {
  const dir = tempDir();
  const preload = path.join(dir, 'hang.cjs');
  // Main thread only: a read that never completes occupies a libuv thread; a worker blocks in open().
  writeFileSync(
    preload,
    `
    const { isMainThread, Worker } = require('node:worker_threads');
    if (isMainThread) {
      require('node:fs').open(${JSON.stringify(fifo(path.join(dir, 'read.fifo')))}, () => {});
      new Worker("require('node:fs').openSync(" + ${JSON.stringify(JSON.stringify(fifo(path.join(dir, 'worker.fifo'))))} + ")", { eval: true });
    }
  `,
  );
  const lsp = new LspSession({ NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${preload}` });
  await lsp.initialize(tempDir());
  const ended = await shutdownAndExit(lsp);
  assert.equal(ended.signal, 'SIGKILL', 'ended itself: process.exit could not have');
});

test('with nothing blocked, exit is the ordinary one: 0 after shutdown, 1 without', async () => {
  for (const shutdown of [true, false]) {
    const root = tempDir();
    writeFileSync(
      path.join(root, 'manifest.json'),
      JSON.stringify({ partial_seizure: [], full_seizure: [], no_seizure: [] }),
    );
    const lsp = new LspSession();
    await lsp.initialize(root);
    await lsp.settled(uriOf(path.join(root, 'manifest.json')));
    assert.deepEqual(await shutdownAndExit(lsp, shutdown), { code: shutdown ? 0 : 1, signal: null });
  }
});
