/**
 * A bit-exact TypeScript re-implementation of the slice of numpy.random (numpy >= 1.17 through
 * 2.x) that the training script's balanced window selection uses:
 *
 *     rng = np.random.default_rng(seed)              # PCG64 seeded through SeedSequence(seed)
 *     idx = rng.choice(n, size=k, replace=False)     # p=None, shuffle=True
 *
 * so the manifest tooling can predict exactly which windows a given seed selects. Every part
 * names the numpy function it mirrors; the algorithms were re-derived from numpy's sources
 * (bit_generator.pyx, src/pcg64/pcg64.h, src/distributions/distributions.c, _generator.pyx),
 * not copied. The generator's state after a call (including PCG64's cached 32-bit half) is
 * exact, so consecutive calls on one generator reproduce numpy's consecutive calls.
 */

const MASK32 = 0xffffffff;
const U32_LIMIT = 2 ** 32;
const MASK64 = (1n << 64n) - 1n;
const MASK128 = (1n << 128n) - 1n;

// ---------------------------------------------------------------------------------------------
// SeedSequence (numpy/random/bit_generator.pyx): hashes the seed's 32-bit words into a 128-bit
// pool, then stretches the pool into as many 32-bit words as the bit generator asks for.

/** Hash constants of SeedSequence (INIT_A, MULT_A, INIT_B, MULT_B, MIX_MULT_L, MIX_MULT_R). */
const INIT_A = 0x43b0d7e5;
const MULT_A = 0x931e8875;
const INIT_B = 0x8b51f9dd;
const MULT_B = 0x58f38ded;
const MIX_MULT_L = 0xca01f9dd;
const MIX_MULT_R = 0x4973f715;
/** DEFAULT_POOL_SIZE: four 32-bit words. */
const POOL_SIZE = 4;

/** Mirrors `_int_to_uint32_array`: little-endian 32-bit words; zero is the single word [0]. */
function seedWords(seed: bigint): number[] {
  if (seed === 0n) return [0];
  const words: number[] = [];
  for (let s = seed; s > 0n; s >>= 32n) words.push(Number(s & 0xffffffffn));
  return words;
}

/** Mirrors `SeedSequence.mix_entropy` (no spawn key): returns the 4-word entropy pool. */
function mixEntropy(entropy: number[]): number[] {
  let hashConst = INIT_A;
  // `hashmix`: every call also advances the shared multiplier, so call order matters.
  const hashmix = (value: number): number => {
    value = (value ^ hashConst) >>> 0;
    hashConst = Math.imul(hashConst, MULT_A) >>> 0;
    value = Math.imul(value, hashConst) >>> 0;
    return (value ^ (value >>> 16)) >>> 0;
  };
  // `mix`: (L*x - R*y) mod 2^32; the difference of two int32 products is exact in a double.
  const mix = (x: number, y: number): number => {
    const r = (Math.imul(MIX_MULT_L, x) - Math.imul(MIX_MULT_R, y)) >>> 0;
    return (r ^ (r >>> 16)) >>> 0;
  };
  const pool: number[] = [];
  for (let i = 0; i < POOL_SIZE; i++) pool.push(hashmix(i < entropy.length ? entropy[i] : 0));
  // Mix every pool word into every other one so late words affect early ones.
  for (let src = 0; src < POOL_SIZE; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++) {
      if (src !== dst) pool[dst] = mix(pool[dst], hashmix(pool[src]));
    }
  }
  // Seeds wider than 128 bits: fold each further word into every pool word.
  for (let src = POOL_SIZE; src < entropy.length; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++) pool[dst] = mix(pool[dst], hashmix(entropy[src]));
  }
  return pool;
}

/** Mirrors `SeedSequence.generate_state(nWords, np.uint64)`: pairs of 32-bit words, low first. */
function generateState64(pool: number[], nWords: number): bigint[] {
  let hashConst = INIT_B;
  const words32: number[] = [];
  for (let i = 0; i < 2 * nWords; i++) {
    let v = (pool[i % pool.length] ^ hashConst) >>> 0;
    hashConst = Math.imul(hashConst, MULT_B) >>> 0;
    v = Math.imul(v, hashConst) >>> 0;
    words32.push((v ^ (v >>> 16)) >>> 0);
  }
  const out: bigint[] = [];
  for (let i = 0; i < nWords; i++) out.push((BigInt(words32[2 * i + 1]) << 32n) | BigInt(words32[2 * i]));
  return out;
}

// ---------------------------------------------------------------------------------------------
// PCG64 (numpy/random/src/pcg64/pcg64.h): 128-bit LCG, XSL-RR output.

/** PCG_DEFAULT_MULTIPLIER_128 (high, low halves). */
const PCG_MULT = (2549297995355413924n << 64n) | 4865540595714422341n;

export class NumpyGenerator {
  private state = 0n;
  private inc = 0n;
  /** pcg64_state.has_uint32 / uinteger: the unused high half of the last 64-bit draw. */
  private hasUint32 = false;
  private uinteger = 0;

  private constructor() {}

  /** `np.random.default_rng(seed)`, i.e. `Generator(PCG64(SeedSequence(seed)))`. */
  static defaultRng(seed: number | bigint): NumpyGenerator {
    if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
      throw new Error(
        `seed must be an integer that a double holds exactly (pass a bigint for larger seeds), not ${seed}`,
      );
    }
    const s = BigInt(seed);
    if (s < 0n) throw new Error(`seed must be a non-negative integer, not ${s}`);
    const [seedHi, seedLo, incHi, incLo] = generateState64(mixEntropy(seedWords(s)), 4);
    const g = new NumpyGenerator();
    // pcg64_set_seed: words 0,1 are the initial state (high, low), words 2,3 the stream;
    // then pcg_setseq_128_srandom_r.
    const initState = (seedHi << 64n) | seedLo;
    const initSeq = (incHi << 64n) | incLo;
    g.inc = ((initSeq << 1n) | 1n) & MASK128;
    g.step();
    g.state = (g.state + initState) & MASK128;
    g.step();
    return g;
  }

  /** pcg_setseq_128_step_r: state = state * multiplier + inc (mod 2^128). */
  private step(): void {
    this.state = (this.state * PCG_MULT + this.inc) & MASK128;
  }

  /** pcg64_next64: step, then XSL-RR (xor the halves, rotate right by the top 6 bits). */
  nextUint64(): bigint {
    this.step();
    const hi = this.state >> 64n;
    const x = (hi ^ this.state) & MASK64;
    const rot = hi >> 58n;
    return ((x >> rot) | (x << ((64n - rot) & 63n))) & MASK64;
  }

  /**
   * pcg64_next32: a 64-bit draw serves two 32-bit requests, low half first; the high half is
   * cached in the generator (not the call), so it carries over between `choice` calls.
   */
  nextUint32(): number {
    if (this.hasUint32) {
      this.hasUint32 = false;
      return this.uinteger;
    }
    const x = this.nextUint64();
    this.hasUint32 = true;
    this.uinteger = Number(x >> 32n);
    return Number(x & 0xffffffffn);
  }

  /**
   * random_bounded_uint64(bitgen, off=0, rng, mask=0, use_masked=false): a uniform integer in
   * [0, rng] (inclusive). Ranges that fit 32 bits use 32-bit Lemire on next_uint32, which is
   * why the uint32 cache matters; wider ranges use 64-bit Lemire on next_uint64.
   */
  boundedUint64(rng: number): number {
    if (rng === 0) return 0;
    if (rng === MASK32) return this.nextUint32(); // 32-bit Lemire cannot take rng + 1 = 2^32
    if (rng < MASK32) return this.lemire32(rng);
    return Number(this.lemire64(BigInt(rng)));
  }

  /**
   * `Generator.integers(low, high)` for scalar int64 output (endpoint=False): numpy draws
   * `low + random_bounded_uint64(high - 1 - low)`; exposed mainly to test the bounded draws.
   */
  integers(low: number, high: number): number {
    if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high))
      throw new Error('integers: bounds must be safe integers');
    if (high <= low) throw new Error(`low >= high (low ${low}, high ${high})`);
    return low + this.boundedUint64(high - 1 - low);
  }

  /**
   * buffered_bounded_lemire_uint32 (the buffer is unused for 32 bits): m = u32 * (rng + 1) as a
   * 64-bit product; reject while its low word is below (2^32 - (rng + 1)) mod (rng + 1); answer
   * the high word. The product can exceed 2^53, so it is split to stay exact in doubles.
   */
  private lemire32(rng: number): number {
    const rngExcl = rng + 1;
    let x = this.nextUint32();
    let leftover = Math.imul(x, rngExcl) >>> 0;
    if (leftover < rngExcl) {
      const threshold = (MASK32 - rng) % rngExcl;
      while (leftover < threshold) {
        x = this.nextUint32();
        leftover = Math.imul(x, rngExcl) >>> 0;
      }
    }
    // High 32 bits of x * rngExcl: x = xh * 2^16 + xl, each partial product < 2^48.
    const a = (x >>> 16) * rngExcl;
    const b = (x & 0xffff) * rngExcl;
    return Math.floor(a / 65536) + Math.floor(((a % 65536) * 65536 + b) / U32_LIMIT);
  }

  /** bounded_lemire_uint64: the same rejection scheme on a 128-bit product (rng < 2^64 - 1). */
  private lemire64(rng: bigint): bigint {
    const rngExcl = rng + 1n;
    let m = this.nextUint64() * rngExcl;
    let leftover = m & MASK64;
    if (leftover < rngExcl) {
      const threshold = (MASK64 - rng) % rngExcl;
      while (leftover < threshold) {
        m = this.nextUint64() * rngExcl;
        leftover = m & MASK64;
      }
    }
    return m >> 64n;
  }

  /**
   * _shuffle_int(bitgen, n, first, data): Fisher-Yates from the back, swapping data[i] with
   * data[random_bounded_uint64(0..i)] for i = n-1 down to `first` (first=1 shuffles all).
   */
  /** The PCG64 state as numpy's `bit_generator.state` reports it (for checks and debugging). */
  bitGeneratorState(): { state: bigint; inc: bigint; hasUint32: boolean; uinteger: number } {
    return { state: this.state, inc: this.inc, hasUint32: this.hasUint32, uinteger: this.uinteger };
  }

  private shuffleInt(data: Float64Array | number[], n: number, first: number): void {
    for (let i = n - 1; i >= first; i--) {
      const j = this.boundedUint64(i);
      const t = data[j];
      data[j] = data[i];
      data[i] = t;
    }
  }

  /**
   * `Generator.choice(n, size=k, replace=False)` with p=None, shuffle=True (numpy's defaults).
   * Throws where numpy raises ValueError, with numpy's message.
   */
  choiceWithoutReplacement(n: number, k: number): number[] {
    if (!Number.isSafeInteger(n) || !Number.isSafeInteger(k)) {
      throw new Error(`choice: population ${n} and sample size ${k} must be integers`);
    }
    // Checked in numpy's order: empty population first, then size > population, then size < 0.
    if (n <= 0 && k !== 0) throw new Error('a must be a positive integer unless no samples are taken');
    if (k > n)
      throw new Error(
        `Cannot take a larger sample than population when replace is False (size ${k} > population ${n})`,
      );
    if (k < 0) throw new Error('negative dimensions are not allowed');

    // numpy's heuristic (with shuffle=True the cutoff is 50; it is 20 for shuffle=False):
    // a large population from which more than n // 50 items are wanted gets a partial
    // shuffle of arange(n); everything else takes Floyd's set-based algorithm.
    const cutoff = 50;
    if (n > 10000 && k > Math.floor(n / cutoff)) {
      // "Tail shuffle": shuffle positions n-1 .. max(n-k, 1) of arange(n) and keep the last k.
      // The tail already is in random order, so numpy shuffles nothing more here.
      const idx = new Float64Array(n);
      for (let i = 0; i < n; i++) idx[i] = i;
      this.shuffleInt(idx, n, Math.max(n - k, 1));
      return Array.from(idx.subarray(n - k));
    }

    // Floyd's algorithm: for j = n-k .. n-1 draw val in [0, j]; take val if unseen, else j
    // (j itself can't have been taken yet, every earlier pick being < j). numpy keeps the
    // picks in an open-addressing hash table sized to the power of two above 1.2 * k; the
    // table only answers membership, so a Set yields the same picks and draws.
    const idx: number[] = new Array(k);
    const seen = new Set<number>();
    for (let j = n - k; j < n; j++) {
      const val = this.boundedUint64(j);
      const pick = seen.has(val) ? j : val;
      seen.add(pick);
      idx[j - n + k] = pick;
    }
    // Floyd's picks come out in a biased order, so numpy (shuffle=True) shuffles all of them.
    this.shuffleInt(idx, k, 1);
    return idx;
  }
}

/**
 * The training script's balanced selection on one generator, in its order:
 *
 *     rng = np.random.default_rng(seed)
 *     if full and n_full > 0: full_idx = rng.choice(n_full, size=k_full, replace=False)
 *     ... then the same for the no-seizure (background) windows
 *
 * A call is skipped (no draws) when its population or its sample size is 0.
 */
export function balancedSelection(
  seed: number | bigint,
  nFull: number,
  kFull: number,
  nBackground: number,
  kBackground: number,
): { full: number[]; background: number[] } {
  const rng = NumpyGenerator.defaultRng(seed);
  const pick = (n: number, k: number): number[] => (n > 0 && k > 0 ? rng.choiceWithoutReplacement(n, k) : []);
  const full = pick(nFull, kFull);
  const background = pick(nBackground, kBackground);
  return { full, background };
}
