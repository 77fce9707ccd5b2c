/**
 * Chunked entry columns give what one flat array edited the same way gives: replacements within a
 * chunk, across chunk boundaries, at either end and changing the count, offsets moved by a delta,
 * and every earlier version keeps its values (chunks are shared, never written).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHUNK, IntColumn, NumberColumn, OffsetColumn } from '../../server/src/engine/eeg/entryColumn';
import { mulberry32 } from '../support/arcSamples';

const values = (a: number[]) => ({ length: a.length, at: (k: number) => a[k] });

test('replacements of chunked columns equal replacements of one flat array, old versions kept', () => {
  for (let seed = 1; seed <= 6; seed++) {
    const random = mulberry32(seed);
    const next = (n: number) => Math.floor(random() * n);
    let flat = Array.from({ length: 3 * CHUNK + 17 }, (_, i) => i * 2);
    let flatNumbers = flat.map((x) => x + 0.5);
    let ints = IntColumn.of(Int32Array.from(flat));
    let numbers = NumberColumn.of(Float64Array.from(flatNumbers));
    const versions: [IntColumn, NumberColumn, number[], number[]][] = [[ints, numbers, flat, flatNumbers]];
    for (let edit = 0; edit < 30; edit++) {
      const from = next(flat.length + 1);
      const to = Math.min(flat.length, from + (next(3) === 0 ? next(2 * CHUNK) : next(4)));
      // Mostly the same count (a keystroke), sometimes more or fewer entries.
      const count = next(4) === 0 ? next(6) : to - from;
      const added = Array.from({ length: count }, () => next(1000) - 500);
      flat = [...flat.slice(0, from), ...added, ...flat.slice(to)];
      flatNumbers = [...flatNumbers.slice(0, from), ...added.map((v) => v / 4), ...flatNumbers.slice(to)];
      ints = ints.replaced(from, to, values(added));
      numbers = numbers.replaced(from, to, values(added.map((v) => v / 4)));
      versions.push([ints, numbers, flat, flatNumbers]);
    }
    for (const [v, [i, n, reference, referenceNumbers]] of versions.entries()) {
      assert.deepEqual([...i], reference, `seed ${seed} v${v}: ints`);
      assert.deepEqual([...n], referenceNumbers, `seed ${seed} v${v}: numbers`);
    }
  }
});

test('offsets replaced and moved by a delta equal a flat array moved the same way, old versions kept', () => {
  for (let seed = 1; seed <= 6; seed++) {
    const random = mulberry32(seed);
    const next = (n: number) => Math.floor(random() * n);
    let flat = Array.from({ length: 2 * CHUNK + 100 }, (_, i) => i * 10);
    let offsets = OffsetColumn.of(Int32Array.from(flat));
    const versions: [OffsetColumn, number[]][] = [[offsets, flat]];
    for (let edit = 0; edit < 40; edit++) {
      // Chunk boundaries now and then, exactly.
      const from = next(3) === 0 ? Math.min(flat.length, CHUNK * next(3)) : next(flat.length + 1);
      const to = Math.min(flat.length, from + next(3));
      const delta = next(21) - 10;
      const count = next(5) === 0 ? next(4) : to - from;
      const added = Array.from({ length: count }, () => next(100000));
      flat = [...flat.slice(0, from), ...added, ...flat.slice(to).map((x) => x + delta)];
      offsets = offsets.shifted(from, to, values(added), delta);
      versions.push([offsets, flat]);
    }
    for (const [v, [column, reference]] of versions.entries()) {
      assert.equal(column.length, reference.length, `seed ${seed} v${v}: length`);
      assert.deepEqual([...column], reference, `seed ${seed} v${v}`);
    }
  }
});

test('sameAs compares values, whether chunks are shared or copied', () => {
  const a = IntColumn.of(Int32Array.from({ length: CHUNK * 2 }, (_, i) => i));
  const same = a.replaced(5, 6, values([5]));
  const other = a.replaced(CHUNK + 1, CHUNK + 2, values([7]));
  assert.ok(a.sameAs(a) && a.sameAs(same) && same.sameAs(a));
  assert.ok(!a.sameAs(other) && !other.sameAs(a));
  assert.ok(!a.sameAs(a.replaced(0, 1, values([]))), 'a different count');
  const offsets = OffsetColumn.of(Int32Array.from([1, 2, 3]));
  assert.ok(offsets.sameAs(offsets.shifted(0, 0, values([]), 0)));
  assert.ok(!offsets.sameAs(offsets.shifted(1, 1, values([]), 1)));
});
