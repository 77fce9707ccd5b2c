/**
 * Just enough of the WebAssembly binary format to write the SIMD counting kernels in TypeScript
 * (simdCount.ts): exported functions of i32 parameters returning an i32, over one imported
 * memory, and the instructions the kernels use, by their text-format names. The module is assembled when it
 * is first needed (a few hundred bytes, well under a millisecond), so the repository holds its
 * source and no binary.
 */

/** Instructions by their text-format names; SIMD ones are 0xfd and their opcode (LEB128). */
const PLAIN = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  br: 0x0c,
  br_if: 0x0d,
  return: 0x0f,
  'local.get': 0x20,
  'local.set': 0x21,
  'local.tee': 0x22,
  'i32.const': 0x41,
  'i32.eqz': 0x45,
  'i32.gt_u': 0x4b,
  'i32.le_u': 0x4d,
  'i32.ge_u': 0x4f,
  'i32.add': 0x6a,
} as const;
const SIMD = {
  'v128.load': 0x00,
  'v128.const': 0x0c,
  'i32x4.extract_lane': 0x1b,
  'i8x16.ne': 0x24,
  'i8x16.gt_s': 0x27,
  'i16x8.ne': 0x2e,
  'i16x8.gt_s': 0x31,
  'i32x4.ne': 0x38,
  'i32x4.gt_s': 0x3b,
  'i32x4.le_s': 0x3d,
  'f64x2.gt': 0x4a,
  'v128.and': 0x4e,
  'v128.or': 0x50,
  'v128.xor': 0x51,
  'v128.any_true': 0x53,
  'i8x16.sub': 0x71,
  'i16x8.extadd_pairwise_i8x16_u': 0x7d,
  'i32x4.extadd_pairwise_i16x8_u': 0x7f,
  'i32x4.add': 0xae,
  'i64x2.ne': 0xd7,
  'i64x2.gt_s': 0xd9,
} as const;

export type Op = keyof typeof PLAIN | keyof typeof SIMD;
/** An instruction and its immediates: a number is LEB128-encoded, an array is raw bytes (v128.const). */
export type Instruction = Op | [Op, ...(number | number[])[]];

export const I32 = 0x7f;
export const V128 = 0x7b;
/** Block type of a block or loop that leaves nothing on the stack. */
export const EMPTY = 0x40;

export interface WasmFunction {
  name: string;
  params: number;
  /** Local types after the parameters. */
  locals: number[];
  body: Instruction[];
}

function unsigned(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

function signed(value: number): number[] {
  const bytes: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && !(byte & 0x40)) || (value === -1 && byte & 0x40)) return [...bytes, byte];
    bytes.push(byte | 0x80);
  }
}

function vector(items: number[][]): number[] {
  return [...unsigned(items.length), ...items.flat()];
}

function named(name: string): number[] {
  return vector([...Buffer.from(name, 'utf8')].map((b) => [b]));
}

function section(id: number, content: number[]): number[] {
  return [id, ...unsigned(content.length), ...content];
}

/** Appends an instruction's bytes to `out` (pushes, not spreads: assembling runs cold, in the interpreter). */
function encode(instruction: Instruction, out: number[]): void {
  const op = typeof instruction === 'string' ? instruction : instruction[0];
  if (op in PLAIN) out.push(PLAIN[op as keyof typeof PLAIN]);
  else out.push(0xfd, ...unsigned(SIMD[op as keyof typeof SIMD]));
  if (typeof instruction === 'string') return;
  const [, ...immediates] = instruction;
  for (const value of immediates) {
    // i32.const takes a signed LEB128; every other immediate here is unsigned or raw bytes.
    if (Array.isArray(value)) for (const byte of value) out.push(byte);
    else out.push(...(op === 'i32.const' ? signed(value) : unsigned(value)));
  }
}

/** A module of `functions` (all of type (i32 × params) → i32, exported by name) over an imported memory `env.memory`. */
export function assemble(functions: WasmFunction[]): Uint8Array {
  const arities = [...new Set(functions.map((f) => f.params))];
  const types = vector(arities.map((n) => [0x60, ...vector(Array<number[]>(n).fill([I32])), ...vector([[I32]])]));
  const imports = vector([[...named('env'), ...named('memory'), 0x02, 0x00, ...unsigned(1)]]);
  const declared = vector(functions.map((f) => unsigned(arities.indexOf(f.params))));
  const exported = vector(functions.map((f, index) => [...named(f.name), 0x00, ...unsigned(index)]));
  const bodies = vector(
    functions.map((f) => {
      const code = vector(f.locals.map((type) => [1, type]));
      for (const instruction of f.body) encode(instruction, code);
      code.push(PLAIN.end);
      return [...unsigned(code.length), ...code];
    }),
  );
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, types),
    ...section(2, imports),
    ...section(3, declared),
    ...section(7, exported),
    ...section(10, bodies),
  ]);
}
