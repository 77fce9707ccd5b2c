/**
 * Random JSON texts as bytes, for the tests that compare a parser with JSON.parse: nested
 * containers, numbers of every shape, strings with every escape, raw non-ASCII and astral
 * characters, lone surrogate escapes, invalid UTF-8, `__proto__` and repeated keys, whitespace
 * of every kind between tokens. Built byte by byte (JSON.stringify writes none of the odd cases),
 * from a seeded PRNG so a failure can be replayed.
 */
import assert from 'node:assert/strict';
import { mulberry32 } from './arcSamples';

/** The seeded generator the other fixtures use (mulberry32). */
export const prng = mulberry32;

export class RandomJson {
  private bytes: number[] = [];
  constructor(private readonly random: () => number) {}

  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** A JSON text of one value, `depth` levels of containers at most. */
  text(depth = 5, options: { longStrings?: boolean } = {}): Buffer {
    this.bytes = [];
    this.space();
    this.value(depth, options.longStrings ?? false);
    this.space();
    return Buffer.from(this.bytes);
  }

  private ascii(s: string): void {
    for (let i = 0; i < s.length; i++) this.bytes.push(s.charCodeAt(i));
  }
  private raw(bytes: readonly number[]): void {
    for (const b of bytes) this.bytes.push(b);
  }
  private utf8(s: string): void {
    this.raw([...Buffer.from(s, 'utf8')]);
  }

  private space(): void {
    const n = this.int(4) === 0 ? this.int(4) : 0;
    for (let i = 0; i < n; i++) this.ascii(this.pick([' ', '\t', '\n', '\r']));
  }

  private value(depth: number, longStrings: boolean): void {
    const kind = depth <= 0 ? 2 + this.int(4) : this.int(7);
    switch (kind) {
      case 0:
      case 6:
        return this.object(depth, longStrings);
      case 1:
        return this.array(depth, longStrings);
      case 2:
        return this.string(longStrings && this.int(3) === 0 ? 70_000 + this.int(140_000) : this.int(12));
      case 3:
        return this.number();
      case 4:
        return this.ascii(this.pick(['true', 'false', 'null']));
      case 5:
        return this.string(this.int(4));
    }
  }

  private array(depth: number, longStrings: boolean): void {
    this.ascii('[');
    this.space();
    const n = this.int(5);
    for (let i = 0; i < n; i++) {
      if (i > 0) this.ascii(',');
      if (i > 0) this.space();
      this.value(depth - 1, longStrings);
      this.space();
    }
    this.ascii(']');
  }

  private object(depth: number, longStrings: boolean): void {
    this.ascii('{');
    this.space();
    const n = this.int(5);
    const keys: string[] = [];
    for (let i = 0; i < n; i++) {
      if (i > 0) this.ascii(',');
      if (i > 0) this.space();
      const roll = this.int(8);
      if (roll === 0) this.ascii('"__proto__"');
      else if (roll === 1)
        this.ascii(this.pick(['"\\u005f_proto__"', '"constructor"', '"toString"', '"0"', '"1"', '"-1"']));
      else if (roll === 2 && keys.length) this.ascii(this.pick(keys));
      else {
        const start = this.bytes.length;
        this.string(this.int(6));
        keys.push(Buffer.from(this.bytes.slice(start)).toString('latin1'));
      }
      this.space();
      this.ascii(':');
      this.space();
      this.value(depth - 1, longStrings);
      this.space();
    }
    this.ascii('}');
  }

  private number(): void {
    if (this.int(6) === 0)
      return this.ascii(
        this.pick([
          '-0',
          '0',
          '-0.0',
          '0e0',
          '0E-0',
          '1e400',
          '-1e400',
          '1e-400',
          '5e-324',
          '2.2250738585072011e-308',
          '1.7976931348623157e308',
          '9007199254740993',
          '0.1',
          '123456789012345678901234567890',
          '1E+2',
          '-12.5e-3',
        ]),
      );
    const digits = (n: number) => Array.from({ length: n }, () => String(this.int(10))).join('');
    let s = this.int(3) === 0 ? '-' : '';
    s += this.int(4) === 0 ? '0' : String(1 + this.int(9)) + digits(this.int(20));
    if (this.int(2) === 0) s += '.' + digits(1 + this.int(20));
    if (this.int(3) === 0) s += this.pick(['e', 'E']) + this.pick(['', '+', '-']) + digits(1 + this.int(4));
    this.ascii(s);
  }

  /** A string of about `pieces` random pieces (characters, escapes, odd bytes). */
  string(pieces: number): void {
    this.ascii('"');
    for (let i = 0; i < pieces; i++) this.piece();
    this.ascii('"');
  }

  private hex4(unit: number): string {
    const h = unit.toString(16).padStart(4, '0');
    return this.int(2) ? h.toUpperCase() : h;
  }

  private piece(): void {
    switch (this.int(16)) {
      case 0:
      case 1:
      case 2: {
        // Plain ASCII, a run of it.
        const n = 1 + this.int(8);
        for (let i = 0; i < n; i++) {
          let c = 0x20 + this.int(0x5f);
          if (c === 0x22 || c === 0x5c) c = 0x61;
          this.bytes.push(c);
        }
        return;
      }
      case 3:
        return this.ascii(this.pick(['\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t']));
      case 4: {
        // \u of a BMP unit that is no surrogate (control characters included).
        let u = this.int(2) ? this.int(0x100) : this.int(0x10000);
        if (u >= 0xd800 && u <= 0xdfff) u = 0xe000;
        return this.ascii(`\\u${this.hex4(u)}`);
      }
      case 5: {
        // A surrogate pair of escapes.
        const cp = 0x10000 + this.int(0x100000);
        return this.ascii(
          `\\u${this.hex4(0xd800 + ((cp - 0x10000) >> 10))}\\u${this.hex4(0xdc00 + ((cp - 0x10000) & 0x3ff))}`,
        );
      }
      case 6: {
        // Lone surrogates, in every arrangement.
        const high = () => `\\u${this.hex4(0xd800 + this.int(0x400))}`;
        const low = () => `\\u${this.hex4(0xdc00 + this.int(0x400))}`;
        return this.ascii(
          this.pick([high(), low(), high() + high(), low() + high(), high() + '\\n', high() + 'x', high() + '\\u0041']),
        );
      }
      case 7:
      case 8:
        // Raw UTF-8: Latin, CJK, astral, and the characters that look like breaks or marks.
        return this.utf8(
          this.pick(['é', 'ß', '€', '中', '𝄞', '😀', '\u{10FFFF}', '\uFEFF', '\u2028', '\u2029', '\u007f', 'ÿ']),
        );
      case 9:
      case 10:
        // Invalid UTF-8: stray continuation bytes, truncated sequences, overlong forms, encoded surrogates, bytes never used.
        return this.raw(
          this.pick([
            [0x80],
            [0xbf],
            [0xc3],
            [0xe2, 0x82],
            [0xf0, 0x9f, 0x98],
            [0xc0, 0x80],
            [0xe0, 0x80, 0x80],
            [0xed, 0xa0, 0x80],
            [0xed, 0xbf, 0xbf],
            [0xf5, 0x80, 0x80, 0x80],
            [0xff],
            [0xfe],
            [0xf4, 0x90, 0x80, 0x80],
            [0x80 + this.int(0x80)],
          ]),
        );
      default: {
        const u = 0x80 + this.int(0x7f80);
        return this.utf8(String.fromCharCode(u >= 0xd800 && u <= 0xdfff ? 0x41 : u));
      }
    }
  }
}

/** Splits `bytes` into chunks: 1-byte, small, random or whole. */
export function chunked(bytes: Buffer, random: () => number, mode = Math.floor(random() * 4)): Buffer[] {
  const chunks: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const size =
      mode === 0
        ? 1
        : mode === 1
          ? 1 + Math.floor(random() * 16)
          : mode === 2
            ? 1 + Math.floor(random() * bytes.length)
            : bytes.length;
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/**
 * Deep equality as JSON.parse's results can differ: primitives by Object.is (so -0 is not 0),
 * containers by prototype, own keys in order (an own `__proto__` included) and their descriptors.
 */
export function assertSame(actual: unknown, expected: unknown, path = '$'): void {
  if (typeof expected !== 'object' || expected === null) {
    assert.ok(Object.is(actual, expected), `${path}: ${String(actual)} is not ${String(expected)}`);
    return;
  }
  assert.ok(typeof actual === 'object' && actual !== null, `${path}: not an object`);
  assert.equal(Array.isArray(actual), Array.isArray(expected), `${path}: array or not`);
  assert.equal(Object.getPrototypeOf(actual), Object.getPrototypeOf(expected), `${path}: prototype`);
  const keys = Reflect.ownKeys(expected);
  assert.deepEqual(Reflect.ownKeys(actual), keys, `${path}: own keys`);
  for (const key of keys) {
    const a: PropertyDescriptor = Object.getOwnPropertyDescriptor(actual, key)!;
    const e: PropertyDescriptor = Object.getOwnPropertyDescriptor(expected, key)!;
    assert.deepEqual(
      [a.enumerable, a.writable, a.configurable],
      [e.enumerable, e.writable, e.configurable],
      `${path}.${String(key)}: descriptor`,
    );
    assertSame(a.value, e.value, `${path}.${String(key)}`);
  }
}
