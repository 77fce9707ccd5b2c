/**
 * NumpyGenerator against numpy itself: `np.random.default_rng(seed)` then two consecutive
 * `rng.choice(n, size=k, replace=False)` calls on the same generator, compared element by
 * element, plus the PCG64 state (including the cached 32-bit half) after both calls. Raw
 * 64-bit draws, seeded states and bounded integers come first so a mismatch points at its layer.
 * All numpy output comes from one python invocation.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NumpyGenerator, balancedSelection } from '../../server/src/engine/numpy/random';
import { pythonWith, runPython } from '../support/python';

const numpy = pythonWith('numpy');
const skip = !numpy && 'python3 with numpy not found';

// Case parameters are drawn in python (with a fixed seed) and echoed back with the results.
const SCRIPT = `
import json, numpy as np
P = np.random.default_rng(20240611)   # picks case parameters only
seeds = [0, 1, 2, 42, 12345, 2**32 - 1, 2**32 + 5, 2**53 + 1, 2**63 - 1, 2**64 + 3, 2**128 + 7, 3**100]
seeds += [int(s) for s in P.integers(0, 2**63, size=4, dtype=np.uint64)]
seeds += [int(s) for s in P.integers(0, 10**6, size=4)]

def state(bg):
    st = bg.state
    return {'state': str(st['state']['state']), 'inc': str(st['state']['inc']),
            'has_uint32': int(st['has_uint32']), 'uinteger': int(st['uinteger'])}

raw = []
for s in seeds:
    bg = np.random.PCG64(s)
    seeded = state(bg)
    raw.append({'seed': str(s), 'seeded': seeded, 'raw': [str(v) for v in bg.random_raw(5)]})

highs = [1, 2, 3, 7, 10, 1000, 10001, 2**31, 2**32 - 1, 2**32, 2**32 + 1, 2**33 + 17, 2**40, 2**53 - 3]
ints = []
for s in seeds[:8]:
    rng = np.random.default_rng(s)
    ints.append({'seed': str(s), 'draws': [[h, [int(v) for v in rng.integers(0, h, size=3)]] for h in highs],
                 'after': state(rng.bit_generator)})

def second():
    n = int(P.choice([0, 1, 3, 17, 250, 20000]))
    return [n, int(P.integers(0, n + 1))]

pairs = []
small = [(n, k) for n in range(6) for k in range(n + 1)]
for s in seeds:
    for nk in small:
        pairs.append((s, list(nk), second()))
# Branch thresholds (n > 10000 and k > n // 50 -> partial shuffle, else Floyd), k = n, k = 0,
# large populations, collision-heavy Floyd, and ranges that cross the 32-bit Lemire limit.
edge = [(10000, 200), (10000, 201), (10000, 9999), (10000, 10000), (10001, 200), (10001, 201),
        (10001, 10001), (12345, 246), (12345, 247), (10050, 201), (10050, 202),
        (150000, 0), (150000, 1), (150000, 10), (150000, 3000), (150000, 3001), (150000, 45000),
        (150000, 149999), (150000, 150000), (7, 7), (100, 99), (1000, 999), (1000, 500), (9999, 9999),
        (2**32 - 1, 3), (2**32, 3), (2**32 + 3, 5), (2**40, 50), (2**53 - 1, 4)]
for s in seeds[:4]:
    for nk in edge:
        pairs.append((s, list(nk), second()))
for _ in range(60):
    s = int(P.integers(0, 2**31))
    n = int(P.choice([int(P.integers(1, 60)), int(P.integers(9000, 12000)), int(P.integers(12000, 60000))]))
    k = int(P.choice([int(P.integers(0, n + 1)), min(n, int(P.integers(0, 400))), int(0.3 * n)]))
    pairs.append((s, [n, k], second()))
# The training order: full windows k = min(int(0.3 * P), n), then background windows.
balanced = []
for s in [0, 42, 2**63 - 1] + [int(x) for x in P.integers(0, 2**31, size=5)]:
    nf = int(P.integers(0, 400)); nb = int(P.integers(0, 30000)); pos = int(P.integers(0, 3000))
    kf = min(int(0.3 * pos), nf); kb = min(int(P.integers(0, 3 * pos + 1)), nb)
    rng = np.random.default_rng(s)
    full = rng.choice(nf, size=kf, replace=False).tolist() if nf > 0 and kf > 0 else []
    bg = rng.choice(nb, size=kb, replace=False).tolist() if nb > 0 and kb > 0 else []
    balanced.append({'seed': str(s), 'args': [nf, kf, nb, kb], 'full': full, 'background': bg})

choices = []
for s, a, b in pairs:
    rng = np.random.default_rng(s)
    out = [rng.choice(n, size=k, replace=False).tolist() for n, k in (a, b)]
    choices.append({'seed': str(s), 'calls': [a, b], 'out': out, 'after': state(rng.bit_generator)})

errors = {}
for n, k in [(3, 4), (0, 1), (5, -1)]:
    try:
        np.random.default_rng(0).choice(n, size=k, replace=False)
        errors[f'{n},{k}'] = None
    except ValueError as e:
        errors[f'{n},{k}'] = str(e)
print(json.dumps({'raw': raw, 'ints': ints, 'choices': choices, 'balanced': balanced, 'errors': errors}))
`;

interface State {
  state: string;
  inc: string;
  has_uint32: number;
  uinteger: number;
}
interface Reference {
  raw: { seed: string; seeded: State; raw: string[] }[];
  ints: { seed: string; draws: [number, number[]][]; after: State }[];
  choices: { seed: string; calls: [number, number][]; out: number[][]; after: State }[];
  balanced: { seed: string; args: [number, number, number, number]; full: number[]; background: number[] }[];
  errors: Record<string, string | null>;
}

let cached: Reference | undefined;
const reference = (): Reference => (cached ??= runPython<Reference>(numpy!, SCRIPT));

function stateOf(g: NumpyGenerator): State {
  const s = g.bitGeneratorState();
  return { state: String(s.state), inc: String(s.inc), has_uint32: s.hasUint32 ? 1 : 0, uinteger: s.uinteger };
}

test('SeedSequence-seeded PCG64 state and raw 64-bit draws equal numpy', { skip }, () => {
  const { raw } = reference();
  assert.ok(raw.length >= 20);
  for (const r of raw) {
    const g = NumpyGenerator.defaultRng(BigInt(r.seed));
    assert.deepEqual(stateOf(g), r.seeded, `seeded state, seed ${r.seed}`);
    assert.deepEqual(
      Array.from({ length: 5 }, () => g.nextUint64().toString()),
      r.raw,
      `random_raw(5), seed ${r.seed}`,
    );
  }
});

test('bounded integers (32-bit Lemire with the uint32 cache, 2^32-1, 64-bit Lemire) equal numpy', { skip }, () => {
  for (const r of reference().ints) {
    const g = NumpyGenerator.defaultRng(BigInt(r.seed));
    for (const [high, draws] of r.draws) {
      assert.deepEqual(
        [0, 1, 2].map(() => g.integers(0, high)),
        draws,
        `integers(0, ${high}), seed ${r.seed}`,
      );
    }
    assert.deepEqual(stateOf(g), r.after, `state after integers, seed ${r.seed}`);
  }
});

test('two consecutive choice(n, k, replace=False) calls and the state after them equal numpy', { skip }, () => {
  const { choices } = reference();
  assert.ok(choices.length >= 300, `${choices.length} cases`);
  for (const c of choices) {
    const g = NumpyGenerator.defaultRng(BigInt(c.seed));
    c.calls.forEach(([n, k], i) => {
      const got = g.choiceWithoutReplacement(n, k);
      // deepEqual on 150 000-element arrays would print unreadably; find the first difference.
      const at = got.findIndex((v, j) => v !== c.out[i][j]);
      assert.ok(
        got.length === c.out[i].length && at < 0,
        `seed ${c.seed}, call ${i + 1} choice(${n}, ${k}): first difference at ${at} (length ${got.length} vs ${c.out[i].length})`,
      );
    });
    assert.deepEqual(stateOf(g), c.after, `state after both calls, seed ${c.seed}, calls ${JSON.stringify(c.calls)}`);
  }
});

test('balancedSelection equals the training script on one generator', { skip }, () => {
  for (const b of reference().balanced) {
    const [nf, kf, nb, kb] = b.args;
    assert.deepEqual(
      balancedSelection(BigInt(b.seed), nf, kf, nb, kb),
      { full: b.full, background: b.background },
      `seed ${b.seed} ${b.args}`,
    );
  }
});

test("choice raises where numpy raises, with numpy's message", { skip }, () => {
  for (const [key, message] of Object.entries(reference().errors)) {
    const [n, k] = key.split(',').map(Number);
    assert.ok(message, `numpy accepted choice(${key})`);
    assert.throws(
      () => NumpyGenerator.defaultRng(0).choiceWithoutReplacement(n, k),
      (e: Error) => e.message.startsWith(message),
      key,
    );
  }
});

test('edge cases without numpy: empty draws, k = n, bad seeds, skipped calls', () => {
  const g = NumpyGenerator.defaultRng(5);
  const before = g.bitGeneratorState();
  assert.deepEqual(g.choiceWithoutReplacement(0, 0), []);
  assert.deepEqual(g.choiceWithoutReplacement(150000, 0), []);
  assert.deepEqual(g.bitGeneratorState(), before, 'k = 0 draws nothing');
  assert.deepEqual(g.choiceWithoutReplacement(1, 1), [0]);
  assert.deepEqual(
    [...g.choiceWithoutReplacement(20000, 20000)].sort((a, b) => a - b),
    Array.from({ length: 20000 }, (_, i) => i),
  );
  assert.throws(() => g.choiceWithoutReplacement(3, 4), /larger sample than population/);
  assert.throws(() => NumpyGenerator.defaultRng(-1), /non-negative/);
  assert.throws(() => NumpyGenerator.defaultRng(2 ** 63), /bigint/);
  assert.throws(() => NumpyGenerator.defaultRng(1.5), /integer/);
  // Seeds given as number and as bigint are the same seed.
  assert.deepEqual(
    NumpyGenerator.defaultRng(42).bitGeneratorState(),
    NumpyGenerator.defaultRng(42n).bitGeneratorState(),
  );
  // The training code skips empty populations and empty samples (n = 0 with k > 0 included).
  const one = balancedSelection(9, 0, 5, 10, 3);
  assert.deepEqual(one, { full: [], background: NumpyGenerator.defaultRng(9).choiceWithoutReplacement(10, 3) });
});
