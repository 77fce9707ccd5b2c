/**
 * Where a run of one repeated element ends, found by a WebAssembly SIMD kernel over bytes that
 * zlib inflated straight into WebAssembly memory (a counting buffer, simdCount.ts): label data
 * is long runs of 0.0 and 1.0, and checkedCount.ts counts and CRC-checks a run from its length
 * alone. The kernel reads each byte once, 128 bytes a step (8 vectors XORed with the run's
 * first vector and ORed together); WebAssembly runs compiled from its first call, where the
 * JavaScript block loop it replaces ran interpreted through a short process's first files.
 */
import type { Instruction, WasmFunction } from './wasmModule';
import { V128 } from './wasmModule';
import { compiledKernel, kernelOver } from './simdCount';

/** Local indices: the parameters (start, end, element size), then the run's first vector. */
const [P, END, SIZE, FIRST] = [0, 1, 2, 3];
/** Vectors per step of the fast loop. */
const VECTORS = 8;

const at = (offset: number): Instruction[] => [
  ['local.get', P],
  ['v128.load', 0, offset],
];
const differs: Instruction[] = [['local.get', FIRST], 'v128.xor'];
const advance = (bytes: number): Instruction[] => [['local.get', P], ['i32.const', bytes], 'i32.add', ['local.set', P]];
/** `return p` unless the condition just computed holds. */
const returnPUnless = (condition: Instruction[]): Instruction[] => [
  ['block', 0x40],
  ...condition,
  ['br_if', 0],
  ['local.get', P],
  'return',
  'end',
];
/** Whether `p + bytes <= end`. */
const fits = (bytes: number): Instruction[] => [
  ['local.get', P],
  ['i32.const', bytes],
  'i32.add',
  ['local.get', END],
  'i32.le_u',
];

/**
 * `run(p, end, size)`: p when the 16 bytes at p are not one element of `size` bytes repeated
 * (they differ from the 16 bytes `size` further on) or fewer than 16 + size bytes are left;
 * otherwise the end of the whole vectors from p on, before `end`, that equal the first one.
 */
function runKernel(): WasmFunction {
  const group: Instruction[] = [...at(0), ...differs];
  for (let v = 1; v < VECTORS; v++) group.push(...at(v * 16), ...differs, 'v128.or');
  const body: Instruction[] = [
    ...returnPUnless([['local.get', P], ['local.get', SIZE], 'i32.add', ...fits(16).slice(1)]),
    ...at(0),
    ['local.set', FIRST],
    ...returnPUnless([
      ['local.get', P],
      ['local.get', SIZE],
      'i32.add',
      ['v128.load', 0, 0],
      ...differs,
      'v128.any_true',
      'i32.eqz',
    ]),
    ...advance(16),
    ['block', 0x40], // 1: on to the vector loop
    ['loop', 0x40], // 0: a group at a time
    ...fits(VECTORS * 16),
    'i32.eqz',
    ['br_if', 1],
    ...group,
    'v128.any_true',
    ['br_if', 1],
    ...advance(VECTORS * 16),
    ['br', 0],
    'end',
    'end',
    ['loop', 0x40], // a vector at a time, to the first that differs
    ...returnPUnless(fits(16)),
    ...returnPUnless([...at(0), ...differs, 'v128.any_true', 'i32.eqz']),
    ...advance(16),
    ['br', 0],
    'end',
    ['local.get', P],
  ];
  return { name: 'run', params: 3, locals: [V128], body };
}

type RunKernel = (p: number, end: number, size: number) => number;

/**
 * Finds runs in `bytes` when they lie in a counting buffer: `runEnd(at, end)` is the end of
 * the whole 16-byte vectors from `at` (before `end`) that all equal the first, when those 16
 * bytes are one element of `size` bytes repeated; else `at`. Undefined when `bytes` is not in a
 * counting buffer or there is no WebAssembly SIMD (the caller compares blocks instead).
 */
export function uniformRunFinder(bytes: Uint8Array, size: number): ((at: number, end: number) => number) | undefined {
  const module = compiledKernel('uniform-run', runKernel);
  const run = module && kernelOver<RunKernel>(bytes.buffer, 'uniform-run', module, 'run');
  if (!run) return undefined;
  const base = bytes.byteOffset;
  return (from, end) => run(base + from, base + end, size) - base;
}
