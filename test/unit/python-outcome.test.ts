/**
 * What a skip or an unreadable-cache-file message says the Python builder does: measured
 * exceptions are named, FIFOs and devices get their own text, and a failure only NeuroCache's
 * reader has (an internal guard, no exception measured) says the outcome is unknown instead of
 * borrowing the FIFO's text.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { describePythonOutcome } from '../../server/src/engine/eeg/manifestCheck';
import { loadFailure, notRegularFailure } from '../../server/src/engine/eeg/numpyLoad';
import { FormatError } from '../../server/src/engine/io/source';
import { NotRegularSource, openFileSource } from '../../server/src/workers/fileSource';

/** A stat-like object of one file type. */
function statOf(type: 'fifo' | 'char' | 'dir') {
  return {
    isFile: () => false,
    isDirectory: () => type === 'dir',
    isFIFO: () => type === 'fifo',
    isCharacterDevice: () => type === 'char',
    isBlockDevice: () => false,
    isSocket: () => false,
  };
}

test('a failure without a measured exception does not claim to be a FIFO', () => {
  const failure = loadFailure(new FormatError('labels data ended early'));
  assert.ok(failure);
  const text = describePythonOutcome(failure);
  assert.doesNotMatch(text, /FIFO|device/);
  assert.match(text, /cannot tell which exception np\.load raises/);
});

test('FIFOs and devices are described as never opened; a directory as IsADirectoryError, which the builder skips', () => {
  for (const type of ['fifo', 'char'] as const) {
    const failure = notRegularFailure(statOf(type));
    assert.equal(failure.exception, undefined);
    assert.match(describePythonOutcome(failure), /wait on a FIFO forever, or read a device until it ends/);
  }
  const directory = notRegularFailure(statOf('dir'));
  assert.equal(directory.exception, 'IsADirectoryError');
  assert.match(describePythonOutcome(directory), /numpy raises IsADirectoryError, which the Python builder catches/);
});

test("a worker's refusal of a non-regular file maps to the same failure as the inspector's", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'outcome-'));
  try {
    const inner = path.join(dir, 'a_windows.npz');
    mkdirSync(inner);
    const refusal = await openFileSource(inner).then(
      () => undefined,
      (error: unknown) => error,
    );
    assert.ok(refusal instanceof NotRegularSource, String(refusal));
    assert.deepEqual(loadFailure(refusal), notRegularFailure(statSync(inner)));
    assert.equal(loadFailure(refusal)?.exception, 'IsADirectoryError');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
