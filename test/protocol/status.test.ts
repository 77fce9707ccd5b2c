/**
 * The status notification (`neurocache/status`) during a large workspace scan, over stdio: it
 * says how far the scan has got in SCAN_STATUS_STEPS steps, not once or several times per file
 * (each status walks every tracked file, so per-file statuses made a scan quadratic), and the
 * last one says where the server ended up.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { SCAN_STATUS_STEPS } from '../../server/src/handlers/status';
import { StatusNotification } from '../../server/src/protocol';
import { withLsp } from '../support/lsp';
import { tempDir } from '../support/python';

const FILES = 400;

test(`a scan of ${FILES} files sends about ${SCAN_STATUS_STEPS} statuses, not several per file`, async () => {
  const root = tempDir();
  for (let i = 0; i < FILES; i++) {
    const directory = path.join(root, 'caches', `run-${String(i).padStart(3, '0')}`);
    mkdirSync(directory, { recursive: true });
    writeFileSync(
      path.join(directory, 'manifest.json'),
      JSON.stringify({ partial_seizure: [{ cache_file: 'a.npz', window_idx: 0 }], full_seizure: [], no_seizure: [] }),
    );
  }
  await withLsp(root, async (lsp) => {
    const statuses = () =>
      lsp.notifications
        .filter((n) => n.method === StatusNotification.method)
        .map((n) => n.params as StatusNotification.Params);
    await lsp.until(() => statuses().some((s) => !s.activity && s.files === FILES));
    const sent = statuses();
    const during = sent.filter((s) => s.activity?.startsWith('Checking the workspace'));
    // One per step, a few around the scan (looking for files, its end); before, about four per file.
    assert.ok(sent.length <= SCAN_STATUS_STEPS + 10, `${sent.length} statuses for ${FILES} files`);
    assert.ok(during.length >= 2, 'the scan still reports its progress');
    const progress = during.map((s) => Number(/\((\d+)\//.exec(s.activity!)![1]));
    assert.deepEqual(
      progress,
      [...progress].sort((a, b) => a - b),
      'progress only moves forward',
    );
    assert.ok(
      during.every((s) => s.activity === `Checking the workspace (${/\((\d+)\//.exec(s.activity!)![1]}/${FILES})`),
    );
    const last = sent.at(-1)!;
    const { lastScan, ...rest } = last;
    assert.deepEqual(rest, {
      health: 'ok',
      pending: 0,
      files: FILES,
      errors: rest.errors,
      warnings: rest.warnings,
      message: `${FILES} files checked`,
    });
    assert.ok(rest.errors > 0 && rest.errors % FILES === 0, "every file's errors counted once");
    assert.equal(lastScan?.files, FILES);
  });
});
