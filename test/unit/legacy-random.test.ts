/**
 * LegacyRandomState against numpy's `np.random.RandomState(seed)`: the seeded key array
 * (`get_state()`), 1,500 raw 32-bit words (across two regenerations), `random_sample`,
 * `randint` over ranges on both sides of the 32-bit branch, and consecutive `shuffle`s of
 * 1-D arrays on one generator. One python invocation produces every reference.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LegacyRandomState, SEED_RANGE_MESSAGE } from '../../server/src/engine/numpy/legacyRandom';
import { pythonWith, runPython } from '../support/python';

const numpy = pythonWith('numpy');
const skip = !numpy && 'python3 with numpy not found';

const SEEDS = [0, 1, 2, 3, 42, 1234, 65535, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 2, 2 ** 32 - 1, 20240611, 987654321];
const HIGHS = [
  '1',
  '2',
  '3',
  '5',
  '7',
  '8',
  '100',
  '1000003',
  String(2 ** 31),
  String(2 ** 32 - 1),
  String(2 ** 32),
  String(2 ** 32 + 1),
  String(2 ** 40 + 5),
  String(2n ** 62n + 3n),
  String(2n ** 63n - 1n),
];
const LOWS = ['0', '-7', String(-(2n ** 62n))];
const SHUFFLE_SIZES = [0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 32, 33, 100, 257, 1000, 4097];

const SCRIPT = `
import json, sys, numpy as np
seeds, highs, lows, sizes = json.loads(sys.argv[1])
out = []
for s in seeds:
    seeded = np.random.RandomState(s).get_state()
    raw = np.random.RandomState(s).randint(0, 2**32, size=1500, dtype=np.uint64).tolist()
    rs = np.random.RandomState(s)
    samples = [float(rs.random_sample()) for _ in range(5)] + rs.random_sample(700).tolist()
    rs = np.random.RandomState(s)
    ints = [[str(rs.randint(int(lo), int(lo) + int(h))) for _ in range(4)] for lo in lows for h in highs]
    rs = np.random.RandomState(s)
    shuffles = []
    for n in sizes:
        a = np.arange(n)
        rs.shuffle(a)
        shuffles.append(a.tolist())
    out.append({'key': seeded[1].tolist(), 'pos': int(seeded[2]), 'raw': raw, 'samples': samples,
                'ints': ints, 'shuffles': shuffles, 'after': rs.get_state()[1][:4].tolist()})
errors = []
for s in [-1, 2**32, 2**40]:
    try:
        np.random.RandomState(s)
        errors.append(None)
    except ValueError as e:
        errors.append(str(e))
print(json.dumps({'cases': out, 'errors': errors}))
`;

interface Reference {
  cases: {
    key: number[];
    pos: number;
    raw: number[];
    samples: number[];
    ints: string[][];
    shuffles: number[][];
    after: number[];
  }[];
  errors: (string | null)[];
}

test('RandomState(seed) streams equal numpy', { skip }, () => {
  const reference = runPython<Reference>(numpy!, SCRIPT, [JSON.stringify([SEEDS, HIGHS, LOWS, SHUFFLE_SIZES])]);
  assert.equal(reference.cases.length, SEEDS.length);
  SEEDS.forEach((seed, c) => {
    const expected = reference.cases[c];
    const seeded = new LegacyRandomState(seed).state();
    assert.deepEqual(seeded, { key: expected.key, pos: expected.pos }, `seeded key, seed ${seed}`);

    let rs = new LegacyRandomState(seed);
    assert.deepEqual(
      Array.from({ length: 1500 }, () => rs.nextUint32()),
      expected.raw,
      `raw words, seed ${seed}`,
    );

    rs = new LegacyRandomState(seed);
    assert.deepEqual(
      Array.from({ length: 705 }, () => rs.randomSample()),
      expected.samples,
      `random_sample, seed ${seed}`,
    );

    rs = new LegacyRandomState(seed);
    const ints = LOWS.flatMap((low) =>
      HIGHS.map((h) => Array.from({ length: 4 }, () => String(rs.randint(BigInt(low), BigInt(low) + BigInt(h))))),
    );
    assert.deepEqual(ints, expected.ints, `randint, seed ${seed}`);

    rs = new LegacyRandomState(seed);
    const shuffles = SHUFFLE_SIZES.map((n) => {
      const items = Array.from({ length: n }, (_, i) => i);
      rs.shuffle(items);
      return items;
    });
    assert.deepEqual(shuffles, expected.shuffles, `shuffles, seed ${seed}`);
    assert.deepEqual(rs.state().key.slice(0, 4), expected.after, `state after the shuffles, seed ${seed}`);
  });
  // numpy refuses seeds outside 0..2**32-1 with the same message.
  assert.deepEqual(reference.errors, [SEED_RANGE_MESSAGE, SEED_RANGE_MESSAGE, SEED_RANGE_MESSAGE]);
});

test('RandomState refuses seeds numpy refuses', () => {
  for (const seed of [-1, 2 ** 32, 1.5, Number.NaN])
    assert.throws(() => new LegacyRandomState(seed), { message: SEED_RANGE_MESSAGE });
  assert.doesNotThrow(() => new LegacyRandomState(2 ** 32 - 1));
});

test('shuffle is a permutation and consumes nothing for fewer than two items', () => {
  const rs = new LegacyRandomState(7);
  const before = rs.state();
  rs.shuffle([]);
  rs.shuffle(['only']);
  assert.deepEqual(rs.state(), before);
  const items = Array.from({ length: 50 }, (_, i) => i);
  rs.shuffle(items);
  assert.notDeepEqual(
    items,
    [...items].sort((a, b) => a - b),
  );
  assert.deepEqual(
    [...items].sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i),
  );
});
