/**
 * A bit-exact TypeScript re-implementation of numpy's legacy `np.random.RandomState(seed)`
 * (MT19937) for an integer seed, as far as scikit-learn's `StratifiedKFold(shuffle=True,
 * random_state=seed)` uses it: `rng.shuffle` of a 1-D array. `randomSample` and `randint` are
 * here so the tests can compare whole raw streams with numpy.
 *
 * Re-derived from numpy's sources (mtrand.pyx, _mt19937.pyx `_legacy_seeding`,
 * src/mt19937/mt19937.c, src/distributions/distributions.c `random_interval` and
 * `random_bounded_uint64_fill`), not copied. Note: an integer seed goes through MT19937's
 * `init_genrand` (a linear recurrence over the one 32-bit word), not `init_by_array` as
 * Python's `random.seed` does; the tests assert numpy's seeded key array.
 */

const STATE_WORDS = 624;
const SHIFT = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;
const MAX_SEED = 0xffffffff;

/** The message numpy's ValueError carries for a seed outside 0..2**32-1. */
export const SEED_RANGE_MESSAGE = 'Seed must be between 0 and 2**32 - 1';

/** True for the integer seeds `RandomState(seed)` accepts. */
export const isLegacySeed = (seed: number): boolean => Number.isInteger(seed) && seed >= 0 && seed <= MAX_SEED;

/** Smallest all-ones mask covering `max` (numpy's `gen_mask`). */
function maskFor(max: number): number {
  let mask = max;
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  mask |= mask >>> 16;
  return mask >>> 0;
}

export class LegacyRandomState {
  private readonly key = new Uint32Array(STATE_WORDS);
  private pos = STATE_WORDS;

  /** `np.random.RandomState(seed)`; throws a RangeError with numpy's message outside 0..2**32-1. */
  constructor(seed: number) {
    if (!isLegacySeed(seed)) throw new RangeError(SEED_RANGE_MESSAGE);
    // mt19937_seed (init_genrand): key[i] = 1812433253 * (key[i-1] ^ key[i-1] >>> 30) + i.
    this.key[0] = seed;
    for (let i = 1; i < STATE_WORDS; i++) {
      const previous = this.key[i - 1] ^ (this.key[i - 1] >>> 30);
      this.key[i] = Math.imul(1812433253, previous) + i;
    }
  }

  /** The seeded or current state as `get_state()` shows it: (key words, pos). */
  state(): { key: number[]; pos: number } {
    return { key: Array.from(this.key), pos: this.pos };
  }

  /** Regenerates all 624 words at once, as numpy's mt19937_gen does. */
  private regenerate(): void {
    const key = this.key;
    for (let i = 0; i < STATE_WORDS; i++) {
      const y = (key[i] & UPPER_MASK) | (key[(i + 1) % STATE_WORDS] & LOWER_MASK);
      key[i] = key[(i + SHIFT) % STATE_WORDS] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.pos = 0;
  }

  /** mt19937_next: one tempered 32-bit word. */
  nextUint32(): number {
    if (this.pos === STATE_WORDS) this.regenerate();
    let y = this.key[this.pos++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** mt19937_next64: the first word is the high half. */
  nextUint64(): bigint {
    const high = this.nextUint32();
    return (BigInt(high) << 32n) | BigInt(this.nextUint32());
  }

  /** `random_sample()`: 53 random bits from two words (27 + 26). */
  randomSample(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /**
   * `random_interval(max)`: a uniform integer in [0, max] by masked rejection, as the legacy
   * `shuffle` draws its swap partners. Arrays here never reach 2**32 items, so only numpy's
   * 32-bit branch is needed.
   */
  interval(max: number): number {
    if (max === 0) return 0;
    if (!Number.isInteger(max) || max < 0 || max > MAX_SEED)
      throw new RangeError(`interval bound ${max} is outside 0..2**32-1`);
    const mask = maskFor(max);
    let value: number;
    do value = (this.nextUint32() & mask) >>> 0;
    while (value > max);
    return value;
  }

  /** The legacy `shuffle` of a 1-D array, in place: Fisher–Yates from the end with `interval`. */
  shuffle<T>(items: T[]): void {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.interval(i);
      [items[i], items[j]] = [items[j], items[i]];
    }
  }

  /**
   * Legacy `randint(low, high)` (int64, high exclusive): masked rejection on 32-bit words for
   * ranges up to 2**32 - 1 (a raw word for exactly 2**32 - 1), on 64-bit words beyond.
   */
  randint(low: bigint, high: bigint): bigint {
    if (high <= low) throw new RangeError('low >= high');
    const range = high - 1n - low;
    if (range === 0n) return low;
    if (range < 0xffffffffn) return low + BigInt(this.interval(Number(range)));
    if (range === 0xffffffffn) return low + BigInt(this.nextUint32());
    if (range === (1n << 64n) - 1n) return low + this.nextUint64();
    let mask = range;
    for (let shift = 1n; shift <= 32n; shift <<= 1n) mask |= mask >> shift;
    let value: bigint;
    do value = this.nextUint64() & mask;
    while (value > range);
    return low + value;
  }
}
