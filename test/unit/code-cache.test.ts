import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { codeCacheFile, compileBundle, loadBundle } from '../../server/src/cli/codeCache';
import { tempDir } from '../support/temp';

/** A bundle-like CommonJS file whose exports say which source ran and where it ran from. */
const source = (version: string) =>
  `exports.version = ${JSON.stringify(version)};\nexports.dirname = __dirname;\nexports.joined = require('node:path').join('a', 'b');\n`;

function bundle(version: string): string {
  const file = path.join(tempDir(), 'bundle.js');
  writeFileSync(file, source(version));
  return file;
}

/**
 * Saves the bundle's cache as the build does, in a process of its own: a source compiled in this
 * one would be found in V8's in-memory compilation cache, and the cache offered never looked at.
 */
function saveCache(file: string): void {
  execFileSync(process.execPath, [path.resolve(__dirname, '../../code-cache.js'), '--make', file, '[]']);
}

const version = (exports: unknown) => (exports as { version: string }).version;

test('a bundle with a cache that fits is compiled from it and runs as a module of its own folder', () => {
  const file = bundle('one');
  saveCache(file);
  const compiled = compileBundle(file, readFileSync(codeCacheFile(file)));
  assert.equal(compiled.cacheUsed, true);
  const exports = compiled.run() as Record<string, unknown>;
  assert.equal(exports.version, 'one');
  assert.equal(exports.dirname, path.dirname(file));
  assert.equal(exports.joined, path.join('a', 'b'));
  assert.equal(version(loadBundle(file)), 'one');
});

test('a cache left by another source of the same length is not used: the new source runs', () => {
  const file = bundle('one');
  saveCache(file);
  writeFileSync(file, source('two')); // the same length: V8's own check would take the old cache
  const compiled = compileBundle(file, readFileSync(codeCacheFile(file)));
  assert.equal(compiled.cacheUsed, false);
  assert.equal(version(compiled.run()), 'two');
  assert.equal(version(loadBundle(file)), 'two');
});

test('no cache, a cache cut short, or data V8 rejects: the bundle loads as require loads it', () => {
  const file = bundle('one');
  assert.equal(version(loadBundle(file)), 'one', 'no cache file');
  saveCache(file);
  const good = readFileSync(codeCacheFile(file));
  writeFileSync(codeCacheFile(file), good.subarray(0, 8));
  assert.equal(version(loadBundle(file)), 'one', 'cut inside the header');
  // A source this process has not compiled, with a header that fits and V8's data damaged.
  const other = bundle('thr');
  saveCache(other);
  const damaged = readFileSync(codeCacheFile(other));
  damaged.fill(0x55, 12);
  const compiled = compileBundle(other, damaged);
  assert.equal(compiled.cacheUsed, false, 'V8 rejects it');
  assert.equal(version(compiled.run()), 'thr');
});

test('the build leaves a cache beside each CLI bundle that V8 takes', () => {
  for (const name of ['cli-build.js', 'cli-main.js']) {
    const file = path.resolve(__dirname, '../..', name);
    assert.equal(compileBundle(file, readFileSync(codeCacheFile(file))).cacheUsed, true, name);
  }
});
