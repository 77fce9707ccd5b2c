/**
 * Chunked line starts give what one flat array edited the same way gives, for splices within a
 * chunk, across chunks and at either end, and a version keeps its starts after later ones shift.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineStarts } from '../../server/src/service/lineStarts';

function generator(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
}

/** The reference: the flat array spliced the way `LineStarts.spliced` promises. */
function flatSpliced(flat: number[], from: number, to: number, inserted: number[], delta: number): number[] {
  return [...flat.slice(0, from), ...inserted, ...flat.slice(to).map((s) => s + delta)];
}

function assertSame(ours: LineStarts, flat: number[], context: string): void {
  assert.equal(ours.count, flat.length, `${context}: count`);
  for (let line = 0; line < flat.length; line++) assert.equal(ours.at(line), flat[line], `${context}: line ${line}`);
  // lineOf: every start, the offsets just before and after it, and past the end.
  for (let line = 0; line < flat.length; line++) {
    assert.equal(ours.lineOf(flat[line]), line, `${context}: lineOf start of ${line}`);
    if (line + 1 < flat.length && flat[line + 1] - flat[line] > 1)
      assert.equal(ours.lineOf(flat[line + 1] - 1), line, `${context}: lineOf end of ${line}`);
  }
  assert.equal(ours.lineOf(flat[flat.length - 1] + 1000), flat.length - 1, `${context}: past the end`);
}

test('splices of chunked line starts equal splices of one flat array', () => {
  for (let seed = 1; seed <= 12; seed++) {
    const next = generator(seed);
    // ~3 chunks of 16,384 lines, lines 1–4 characters long.
    let flat = [0];
    while (flat.length < 50_000) flat.push(flat[flat.length - 1] + 1 + next(4));
    let ours = LineStarts.from(Int32Array.from(flat));
    const versions: [LineStarts, number[]][] = [[ours, flat]];
    for (let edit = 0; edit < 40; edit++) {
      // Line 0 is always kept, as the text documents do; some splices span chunks, some reach the end.
      const from = 1 + next(flat.length - 1);
      const span = next(4) === 0 ? next(40_000) : next(5);
      const to = Math.min(flat.length, from + span);
      const low = flat[from - 1] + 1;
      // Starts stay increasing, as in any text: the first kept line still starts after line from − 1.
      const delta = Math.max(next(200) - 100, to < flat.length ? low - flat[to] : -Infinity);
      const high = (to < flat.length ? flat[to] + delta : low + 5000) - 1;
      const inserted: number[] = [];
      for (let i = next(next(10) === 0 ? 30_000 : 6); i > 0 && low + inserted.length <= high; i--)
        inserted.push(low + inserted.length);
      flat = flatSpliced(flat, from, to, inserted, delta);
      ours = ours.spliced(from, to, inserted, delta);
      assert.equal(ours.count, flat.length, `seed ${seed} edit ${edit}`);
      versions.push([ours, flat]);
    }
    for (const [index, [version, reference]] of versions.entries())
      assertSame(version, reference, `seed ${seed} v${index}`);
  }
});

test('a text of one line, and splices at its very end', () => {
  let ours = LineStarts.from(Int32Array.of(0));
  assertSame(ours, [0], 'one line');
  ours = ours.spliced(1, 1, [5, 9], 0);
  assertSame(ours, [0, 5, 9], 'appended');
  ours = ours.spliced(1, 3, [], -9);
  assertSame(ours, [0], 'removed again');
});
