/**
 * Atomic writes replace no more than a write in place would: the old mode is kept exactly
 * (never widened), links, read-only files and non-regular files are refused and left as they
 * were, and concurrent writers to one file never collide on their temp files.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { prepareAtomicWrite, RefusedWrite, writeFileAtomic } from '../../server/src/service/atomic';
import { tempDir } from '../support/python';

test('the old mode is kept exactly, whatever the umask', async () => {
  const dir = tempDir();
  for (const mode of [0o600, 0o640, 0o664, 0o755, 0o666]) {
    const file = path.join(dir, `m${mode.toString(8)}.json`);
    writeFileSync(file, 'old');
    chmodSync(file, mode);
    await writeFileAtomic(file, 'new');
    assert.equal(readFileSync(file, 'utf8'), 'new');
    assert.equal(statSync(file).mode & 0o7777, mode, `mode ${mode.toString(8)}`);
  }
  const fresh = path.join(dir, 'fresh.json');
  await writeFileAtomic(fresh, 'x');
  assert.equal(statSync(fresh).mode & 0o7777, 0o666 & ~process.umask());
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.endsWith('.tmp')),
    [],
    'no temp files left',
  );
});

test('links, read-only files and non-regular files are refused and left untouched', async () => {
  const dir = tempDir();
  const outside = path.join(tempDir(), 'precious.txt');
  writeFileSync(outside, 'precious\n');
  const link = path.join(dir, 'manifest.json');
  symlinkSync(outside, link);
  await assert.rejects(
    writeFileAtomic(link, '{}'),
    (error: Error) => error instanceof RefusedWrite && /symbolic link/.test(error.message),
  );
  assert.ok(lstatSync(link).isSymbolicLink(), 'still a link');
  assert.equal(readlinkSync(link), outside);
  assert.equal(readFileSync(outside, 'utf8'), 'precious\n');

  const readOnly = path.join(dir, 'dataset_info.json');
  writeFileSync(readOnly, '{"image_paths": []}');
  chmodSync(readOnly, 0o444);
  await assert.rejects(writeFileAtomic(readOnly, '{}'), /read-only/);
  assert.equal(readFileSync(readOnly, 'utf8'), '{"image_paths": []}');
  assert.equal(statSync(readOnly).mode & 0o7777, 0o444);

  const fifo = path.join(dir, 'fifo.json');
  execFileSync('mkfifo', [fifo]);
  await assert.rejects(writeFileAtomic(fifo, '{}'), /not a regular file/);
  assert.ok(lstatSync(fifo).isFIFO());
  const directory = path.join(dir, 'folder.json');
  mkdirSync(directory);
  await assert.rejects(writeFileAtomic(directory, '{}'), /not a regular file/);
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.endsWith('.tmp')),
    [],
  );
});

test('concurrent writers to one file do not collide', async () => {
  const file = path.join(tempDir(), 'journal.json');
  const contents = Array.from({ length: 40 }, (_, i) => `{"writer": ${i}}`);
  await Promise.all(contents.map((c) => writeFileAtomic(file, c)));
  assert.ok(contents.includes(readFileSync(file, 'utf8')));
  assert.deepEqual(
    readdirSync(path.dirname(file)).filter((n) => n.endsWith('.tmp')),
    [],
  );
});

test('a write made ready early judges the target again at commit: replaced by a link meanwhile, refused; its mode changed, taken; abandoned, no temp file', async () => {
  const dir = tempDir();
  const outside = path.join(tempDir(), 'precious.txt');
  writeFileSync(outside, 'precious\n');
  const target = path.join(dir, 'manifest.json');
  const temps = () => readdirSync(dir).filter((n) => n.endsWith('.tmp'));
  writeFileSync(target, 'old');
  const early = await prepareAtomicWrite(target);
  assert.equal(temps().length, 1, 'the temp file exists once prepared');
  rmSync(target);
  symlinkSync(outside, target);
  await assert.rejects(
    early.commit('{}'),
    (error: Error) => error instanceof RefusedWrite && /symbolic link/.test(error.message),
  );
  assert.ok(lstatSync(target).isSymbolicLink(), 'still a link');
  assert.equal(readFileSync(outside, 'utf8'), 'precious\n');
  assert.deepEqual(temps(), []);

  rmSync(target);
  writeFileSync(target, 'old');
  chmodSync(target, 0o644);
  const modeChanges = await prepareAtomicWrite(target);
  chmodSync(target, 0o600);
  await modeChanges.commit('new');
  assert.equal(readFileSync(target, 'utf8'), 'new');
  assert.equal(statSync(target).mode & 0o7777, 0o600);

  const dropped = await prepareAtomicWrite(target);
  await dropped.abandon();
  assert.equal(readFileSync(target, 'utf8'), 'new');
  assert.deepEqual(temps(), []);
});
