/**
 * A reader that closes the pipe early (`neurocache stats … --selected | head -1`): the CLI ends
 * quietly, without "Unhandled 'error' event" or a stack trace, with the status a shell reports for
 * a command killed by SIGPIPE. The pipe is closed by the test after the first line arrives, as head does.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { cliPath, tempDir } from '../support/python';

test('stats --selected into a pipe closed after one line exits quietly with 141', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  try {
    const manifest = path.join(dir, 'manifest.json');
    // Many lines: far more than a pipe buffer holds, so writes go on after the reader has gone.
    const entries = Array.from({ length: 20_000 }, (_, i) => ({ cache_file: `a_${i}_windows.npz`, window_idx: 0 }));
    writeFileSync(manifest, JSON.stringify({ partial_seizure: entries, full_seizure: [], no_seizure: [] }));
    const child = spawn(
      process.execPath,
      [cliPath(), 'stats', manifest, '--selected', '--cache-dir', path.join(dir, 'store')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.once('close', (status) => resolve(status)));
    assert.equal(stderr, '');
    assert.equal(code, 141);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
