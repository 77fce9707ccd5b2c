/**
 * The builder lists cache files in Python's `sorted()` order (code points), not JavaScript's
 * (UTF-16 units): they differ where a surrogate meets a unit from U+E000 up, and for names
 * holding lone surrogates (Python's surrogateescape of undecodable bytes).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { compareCodePoints } from '../../server/src/engine/eeg/manifestBuild';

/** Code point order, read off arrays of code points (what compareCodePoints did before, unit by unit). */
function modelOrder(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

// Units that meet at a difference: ASCII, BMP below and above the surrogates, high and low surrogates.
const UNITS = [0x61, 0x62, 0x7a, 0xd7ff, 0xd800, 0xd83d, 0xdbff, 0xdc00, 0xdc80, 0xdfff, 0xe000, 0xfffd, 0xffff];

function randomName(random: () => number): string {
  const units = Array.from({ length: Math.floor(random() * 6) }, () => UNITS[Math.floor(random() * UNITS.length)]);
  return String.fromCharCode(...units);
}

function seeded(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

test('compareCodePoints orders as code points do, surrogates (paired and lone) included', () => {
  const random = seeded(7);
  for (let k = 0; k < 200_000; k++) {
    const a = randomName(random);
    // Often a shared prefix, so differences fall after pairs and lone surrogates alike.
    const b =
      random() < 0.5 ? a.slice(0, Math.floor(random() * (a.length + 1))) + randomName(random) : randomName(random);
    assert.equal(Math.sign(compareCodePoints(a, b)), Math.sign(modelOrder(a, b)), JSON.stringify([a, b]));
  }
});

test("sorted by compareCodePoints is Python's sorted()", () => {
  const random = seeded(11);
  const names = Array.from({ length: 2000 }, () => randomName(random) + '_windows.npz');
  // JSON carries lone surrogates both ways (\udc80 escapes), as surrogateescape'd str in Python.
  const python = execFileSync('python3', ['-c', 'import json,sys; print(json.dumps(sorted(json.load(sys.stdin))))'], {
    input: JSON.stringify(names),
    encoding: 'utf8',
  });
  assert.deepEqual([...names].sort(compareCodePoints), JSON.parse(python));
  assert.notDeepEqual([...names].sort(), JSON.parse(python), 'the sample tells the two orders apart');
});
