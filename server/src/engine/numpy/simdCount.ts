/**
 * Counting elements > 0 with WebAssembly SIMD (v128), in one pass over bytes that zlib inflated
 * straight into WebAssembly memory (`countingBuffer`), while they are still in the core's cache.
 *
 * Why: a lesion mask's count was bounded by a second pass over every inflated piece. The
 * self-shifted memcmp (Buffer.compare) that recognised uniform spans reads each byte twice, half
 * of the loads split across cache lines; measured on the bench's 256³ masks, in process after
 * warm-up: uint8 1.00 ms to inflate and count against 0.55 ms to inflate alone, float32 3.30 ms
 * against 2.05 ms. These kernels read each 256-byte group once (OR of 16 vectors: all-zero groups,
 * most of a mask, are skipped) and decide the other groups with one comparison per vector, exactly
 * as numpy's `> 0`: see PREDICATES.
 *
 * The kernels are written below as WebAssembly instructions by their text-format names and
 * assembled when first used (wasmModule.ts); nothing binary is kept in the repository.
 */
import { assemble, EMPTY, Instruction, V128, WasmFunction } from './wasmModule';

/**
 * Bytes a kernel looks at per step: 8 vectors. Measured on 256 KiB of zeros in WebAssembly
 * memory after tier-up: 8 vectors per step ~100 GB/s, 16 ~85 GB/s, 32 or more 40–65 GB/s
 * (TurboFan keeps 16 xmm registers and spills beyond them); 4 ~95 GB/s.
 */
const GROUP = 128;
const VECTORS = GROUP / 16;

const ZERO: Instruction = ['v128.const', Array<number>(16).fill(0)];

/** Four lanes of the 32-bit value `bits` (little-endian), as a v128.const. */
function splat32(bits: number): Instruction {
  return ['v128.const', Array.from({ length: 16 }, (_, i) => (bits >>> ((i % 4) * 8)) & 0xff)];
}

/** Local indices of every kernel: its two parameters, then its locals. */
const [P, END, TOTAL, LANES, VALUE] = [0, 1, 2, 3, 4];

/**
 * For each element type NIfTI volumes hold (kind and size), the code that turns a loaded vector
 * (on the stack) into lanes of all ones where the element is > 0 as numpy decides it, on the raw
 * little-endian bits: unsigned integers are > 0 when not zero, signed ones by a signed
 * comparison; float32 is > 0 exactly when its bits as a signed integer lie in 1 ..= +infinity
 * (negative numbers and -0 have the sign bit, NaNs lie above infinity, denormals are > 0);
 * float64 by the float comparison itself (NaN and -0 fail it). Every type's all-zero bits are
 * 0, not > 0: groups without a set bit are skipped.
 */
const PREDICATES: Record<string, Instruction[]> = {
  uint1: [ZERO, 'i8x16.ne'],
  int1: [ZERO, 'i8x16.gt_s'],
  uint2: [ZERO, 'i16x8.ne'],
  int2: [ZERO, 'i16x8.gt_s'],
  uint4: [ZERO, 'i32x4.ne'],
  int4: [ZERO, 'i32x4.gt_s'],
  float4: [
    ['local.tee', VALUE],
    ZERO,
    'i32x4.gt_s',
    ['local.get', VALUE],
    splat32(0x7f800000),
    'i32x4.le_s',
    'v128.and',
  ],
  uint8: [ZERO, 'i64x2.ne'],
  int8: [ZERO, 'i64x2.gt_s'],
  float8: [ZERO, 'f64x2.gt'],
};

/**
 * `count(p, end)`: over the bytes p .. end (a multiple of GROUP apart), how many bytes of
 * the predicate's lanes are set, that is the positives times the element size. An inner loop
 * skips groups whose vectors ORed together have no bit set (one load and one OR per vector);
 * a group with a set bit leaves it to be compared, its lanes subtracted (all ones = -1) from
 * byte counters (at most VECTORS per lane) that are widened into 32-bit totals.
 * The skipping loop is kept apart from the comparing so that it stays a tight loop: with the
 * comparing inside it, as an `if`, the same scan measured ~80 GB/s instead of ~100.
 */
function kernel(predicate: Instruction[]): WasmFunction {
  const load = (vector: number): Instruction[] => [
    ['local.get', P],
    ['v128.load', 0, vector * 16],
  ];
  const anySet: Instruction[] = [...load(0)];
  for (let v = 1; v < VECTORS; v++) anySet.push(...load(v), 'v128.or');
  const compare: Instruction[] = [ZERO, ['local.set', LANES]];
  for (let v = 0; v < VECTORS; v++)
    compare.push(['local.get', LANES], ...load(v), ...predicate, 'i8x16.sub', ['local.set', LANES]);
  const next: Instruction[] = [['local.get', P], ['i32.const', GROUP], 'i32.add', ['local.set', P]];
  const body: Instruction[] = [
    ['block', EMPTY], // 3 from the skipping loop: p reached end
    ['loop', EMPTY], // 2: the next group with a set bit
    ['block', EMPTY], // 1: found one at p
    ['loop', EMPTY], // 0: skipping
    ['local.get', P],
    ['local.get', END],
    'i32.ge_u',
    ['br_if', 3],
    ...anySet,
    'v128.any_true',
    ['br_if', 1],
    ...next,
    ['br', 0],
    'end',
    'end',
    ...compare,
    ['local.get', TOTAL],
    ['local.get', LANES],
    'i16x8.extadd_pairwise_i8x16_u',
    'i32x4.extadd_pairwise_i16x8_u',
    'i32x4.add',
    ['local.set', TOTAL],
    ...next,
    ['br', 0],
    'end',
    'end',
  ];
  for (let lane = 0; lane < 4; lane++) {
    body.push(['local.get', TOTAL], ['i32x4.extract_lane', lane]);
    if (lane > 0) body.push('i32.add');
  }
  return { name: 'count', params: 2, locals: [V128, V128, V128], body };
}

type Kernel = (p: number, end: number) => number;

/** elements.ts's ElementType and RunCounter, as far as used here (elements.ts imports this module). */
interface ElementType {
  kind: string;
  size: number;
  littleEndian: boolean;
}
type RunCounter = (bytes: Uint8Array, start: number, count: number) => number;

/** The part of the WebAssembly JS API used here: a global of Node's that lib ES2022 does not declare. */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => CompiledKernel;
  Instance: new (module: CompiledKernel, imports: object) => { exports: object };
  Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory;
};
export interface CompiledKernel {
  readonly compiledKernel?: never;
}
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

/**
 * Each element type's kernel is a module of its own, assembled and compiled when a counter for
 * the type is first made, or null where this runtime has no WebAssembly SIMD: a process counting
 * one mask pays for one kernel in its start-up (~1 ms cold; all ten in one module took ~7 ms
 * to assemble and compile, a worker counting one mask spent it on every start).
 */
const modules = new Map<string, CompiledKernel | null>();

/** The module of the kernel `make` writes, compiled once per `key`; null without WebAssembly SIMD. */
export function compiledKernel(key: string, make: () => WasmFunction): CompiledKernel | null {
  let module = modules.get(key);
  if (module === undefined) {
    try {
      module = new WebAssembly.Module(assemble([make()]));
    } catch {
      module = null;
    }
    modules.set(key, module);
  }
  return module;
}

/** Counting buffers' memories by their ArrayBuffer (never grown, so never detached), with the kernels instantiated over each. */
const memories = new WeakMap<ArrayBufferLike, { memory: WasmMemory; kernels: Map<string, unknown> }>();

/**
 * The function `name` of `module` (compiled under `key`) instantiated over the memory behind
 * `buffer`, or undefined when it is not a counting buffer's.
 */
export function kernelOver<K>(
  buffer: ArrayBufferLike,
  key: string,
  module: CompiledKernel,
  name: string,
): K | undefined {
  const counting = memories.get(buffer);
  if (counting === undefined) return undefined;
  let kernel = counting.kernels.get(key) as K | undefined;
  if (kernel === undefined) {
    const instance = new WebAssembly.Instance(module, { env: { memory: counting.memory } });
    kernel = (instance.exports as Record<string, K>)[name];
    counting.kernels.set(key, kernel);
  }
  return kernel;
}

const PAGE = 1 << 16;
/** Spare counting buffers (a fresh WebAssembly memory per file would be garbage for V8 to collect). */
const spares: Uint8Array[] = [];
const MAX_SPARES = 4;

/**
 * A buffer of `size` bytes (a multiple of the 64 KiB page) that the counters read in place, for
 * an inflater to write its pieces into; undefined without WebAssembly. Give it back with
 * `returnCountingBuffer` once nothing reads it any more.
 */
export function countingBuffer(size: number): Uint8Array | undefined {
  const spare = spares.findIndex((b) => b.length === size);
  if (spare >= 0) return spares.splice(spare, 1)[0];
  if (typeof WebAssembly === 'undefined') return undefined;
  const pages = Math.ceil(size / PAGE);
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  memories.set(memory.buffer, { memory, kernels: new Map() });
  return new Uint8Array(memory.buffer, 0, size);
}

export function returnCountingBuffer(buffer: Uint8Array): void {
  if (spares.length < MAX_SPARES && !spares.includes(buffer) && memories.has(buffer.buffer)) spares.push(buffer);
}

/**
 * A counter for `type`'s raw elements (no scaling) by the SIMD kernels, or undefined where there
 * is no kernel for it (big-endian, complex, longdouble) or no WebAssembly (without SIMD, every
 * call goes to `otherwise`). Bytes in a
 * counting buffer go to the kernel in place, whole groups of them; what is left of such a call
 * (under GROUP bytes) and bytes anywhere else go to `otherwise`. (Copying other bytes into
 * WebAssembly memory a 64 KiB slice at a time measured no faster than `otherwise`'s memcmp:
 * the 256³ masks counted in 1.6–1.8× their inflating either way.)
 */
export function simdRunCounter(type: ElementType, otherwise: RunCounter): RunCounter | undefined {
  const key = `${type.kind}${type.size}`;
  if (!type.littleEndian || !(key in PREDICATES) || typeof WebAssembly === 'undefined') return undefined;
  const size = type.size;
  // Compiled at the first bytes it can count in place, not with the counter: label data goes
  // to the run kernel (uniformRuns.ts), and this one then counts only the few bytes between
  // runs, often none in groups (assembling it cold cost a fresh thread's first file ~4 ms).
  return (bytes, start, elements) => {
    const length = elements * size;
    const whole = length - (length % GROUP);
    const module = whole > 0 && memories.has(bytes.buffer) ? compiledKernel(key, () => kernel(PREDICATES[key])) : null;
    const count = module ? kernelOver<Kernel>(bytes.buffer, key, module, 'count') : undefined;
    if (count === undefined) return otherwise(bytes, start, elements);
    const p = bytes.byteOffset + start;
    const positives = count(p, p + whole) / size;
    return whole === length ? positives : positives + otherwise(bytes, start + whole, (length - whole) / size);
  };
}
