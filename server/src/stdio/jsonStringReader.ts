/**
 * One JSON string of a body that arrives in chunks (streamingJsonParse.ts), from after its
 * opening quote to its closing one: the escapes undone and the bytes decoded once, exactly as
 * JSON.parse decodes the whole body.
 * - Plain bytes are copied as they are (any UTF-8, valid or not) and decoded once at the end: a
 *   string's ends are ASCII `"`, which no multi-byte sequence contains, and an escape writes a
 *   whole UTF-8 sequence (never a continuation byte), so a broken sequence next to an escape is
 *   cut short the same way as when the whole body is decoded: the same U+FFFD.
 * - `\uD800`-style lone surrogates, which UTF-8 cannot carry, split the string into parts (the
 *   bytes so far decoded, the lone code unit, the rest), joined when it ends.
 * - The bytes go into one buffer that is never doubled: see `room`.
 */
import { unexpectedByte } from './jsonSyntax';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** A string's own buffer until it grows beyond it; reused from string to string. */
const SCRATCH_BYTES = 64 * 1024;
/** Free bytes kept in a string's buffer: more than one escape step writes (4, a UTF-8 sequence). */
const SLACK = 8;

/** Bytes a string holds as they are: all but `"`, `\` and the control characters JSON forbids there. */
const PLAIN = new Uint8Array(256).fill(1, 0x20);
PLAIN[QUOTE] = 0;
PLAIN[BACKSLASH] = 0;

const NOT_ESCAPE = 0xff;
/** What `\x` stands for, per byte x; NOT_ESCAPE: not an escape of one character (`u` is handled on its own). */
const SIMPLE_ESCAPES = new Uint8Array(256).fill(NOT_ESCAPE);
for (const [x, c] of [
  ['"', 0x22],
  ['\\', 0x5c],
  ['/', 0x2f],
  ['b', 0x08],
  ['f', 0x0c],
  ['n', 0x0a],
  ['r', 0x0d],
  ['t', 0x09],
] as const)
  SIMPLE_ESCAPES[x.charCodeAt(0)] = c;

/** Where a string is inside its escapes: after `\`, or after `\u` and that many hex digits. */
const enum Escape {
  None = -2,
  Backslash = -1,
  // 0..3: hex digits read after `\u`.
}

export class JsonStringReader {
  private out: Buffer;
  private written = 0;
  private escape: number = Escape.None;
  private unit = 0;
  /** A `\uD800`–`\uDBFF` escape waiting to see whether a low surrogate escape follows, or -1. */
  private pendingHigh = -1;
  /** Decoded pieces when a lone surrogate split the string, else undefined. */
  private parts: string[] | undefined;
  /** The string just closed by `read`, until `take`n. */
  private closed: string | undefined;

  /** Shared by the strings that outgrow `scratch`: sized once from the bytes still to come. */
  private large: Buffer | undefined;
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES);

  /** `totalBytes` is the body's length: no string can be longer, which sizes the string buffer. */
  constructor(private readonly totalBytes: number) {
    this.out = this.scratch;
  }

  /** Begins a string: its opening quote has just been read. */
  start(): void {
    this.out = this.scratch;
    this.written = 0;
    this.escape = Escape.None;
    this.pendingHigh = -1;
    this.parts = undefined;
    this.closed = undefined;
  }

  /** The string, once `read` has passed its closing quote; else undefined. */
  take(): string | undefined {
    const s = this.closed;
    this.closed = undefined;
    return s;
  }

  /** Lets go of the large buffer (the body is done). */
  release(): void {
    this.large = undefined;
  }

  /**
   * Reads string bytes of `chunk` from `i` until the closing quote (just past it: `take` then
   * has the string) or the chunk's end; returns where it stopped. `offset`: the body's bytes
   * before this chunk. Throws a SyntaxError where JSON.parse would reject the string.
   */
  read(chunk: Buffer, i: number, offset: number): number {
    const n = chunk.length;
    while (i < n) {
      // Each turn writes at most SLACK bytes, or (the copy loop) no more than there is room for.
      const out = this.room(offset + i);
      let o = this.written;
      if (this.escape === Escape.None && this.pendingHigh < 0) {
        // The hot loop: plain bytes are copied as they are (any UTF-8, valid or not), and the
        // escapes of one character unescaped, while both their bytes are in this chunk. A
        // pretty-printed document's text has one every few bytes (its quotes and line breaks).
        const stop = Math.min(n, i + (out.length - o));
        let b: number;
        for (;;) {
          b = chunk[i];
          if (PLAIN[b] === 1) {
            out[o++] = b;
            if (++i === stop) break;
            continue;
          }
          if (b !== BACKSLASH || i + 1 === stop) break;
          const c = SIMPLE_ESCAPES[chunk[i + 1]];
          if (c === NOT_ESCAPE) break;
          out[o++] = c;
          i += 2;
          if (i === stop) break;
        }
        this.written = o;
        if (i === stop) continue;
        if (b < 0x20) throw unexpectedByte(chunk, i, offset);
        if (b === QUOTE) {
          this.finish();
          return i + 1;
        }
        this.escape = Escape.Backslash;
        i++;
        continue;
      }
      const b = chunk[i];
      if (this.escape === Escape.None) {
        // A high surrogate escape is pending and something other than an escape follows: it stays alone.
        if (b !== BACKSLASH) this.lone(this.pendingHigh);
        else {
          this.escape = Escape.Backslash;
          i++;
        }
        continue;
      }
      if (this.escape === Escape.Backslash) {
        i++;
        if (b === 0x75) {
          this.escape = 0;
          this.unit = 0;
          continue;
        }
        const c = SIMPLE_ESCAPES[b];
        if (c === NOT_ESCAPE) throw unexpectedByte(chunk, i - 1, offset);
        if (this.pendingHigh >= 0) this.lone(this.pendingHigh);
        this.out[this.written++] = c;
        this.escape = Escape.None;
        continue;
      }
      // Hex digits of `\uXXXX`.
      const h = hexValue(b);
      if (h < 0) throw unexpectedByte(chunk, i, offset);
      this.unit = (this.unit << 4) | h;
      i++;
      if (++this.escape < 4) continue;
      this.escape = Escape.None;
      this.codeUnit(this.unit);
    }
    return i;
  }

  /**
   * Makes sure at least SLACK bytes are free in the string's buffer; `at` is the body offset of
   * the next byte to read. A string's output is never longer than its input (an escape writes
   * fewer bytes than it reads; one under way has written at most 4 bytes fewer than it read), so
   * `written` plus the body bytes still to come plus SLACK bounds it: that one buffer is
   * allocated the first time a string leaves the scratch buffer, and serves the rest of this
   * string and every later one of this body (the bound only shrinks). No doubling copies: the
   * pages of it that are never written are never resident.
   */
  private room(at: number): Buffer {
    if (this.out.length - this.written >= SLACK) return this.out;
    const bound = this.written + 2 * SLACK + (this.totalBytes - at);
    if (!this.large || this.large.length < bound) this.large = Buffer.allocUnsafe(bound);
    if (this.out !== this.large) this.out.copy(this.large, 0, 0, this.written);
    return (this.out = this.large);
  }

  /** A code unit from `\uXXXX`: UTF-8 bytes, a surrogate pair combined, or a lone surrogate kept as it is. */
  private codeUnit(u: number): void {
    const high = this.pendingHigh;
    if (high >= 0) {
      if (u >= 0xdc00 && u <= 0xdfff) {
        this.pendingHigh = -1;
        this.utf8(0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00));
        return;
      }
      this.lone(high);
    }
    if (u >= 0xd800 && u <= 0xdbff) this.pendingHigh = u;
    else if (u >= 0xdc00 && u <= 0xdfff) this.lone(u);
    else this.utf8(u);
  }

  /** Writes a code point's UTF-8 bytes (always fewer than the escape's six or twelve bytes read). */
  private utf8(cp: number): void {
    const out = this.out;
    let o = this.written;
    if (cp < 0x80) out[o++] = cp;
    else if (cp < 0x800) {
      out[o++] = 0xc0 | (cp >> 6);
      out[o++] = 0x80 | (cp & 0x3f);
    } else if (cp < 0x10000) {
      out[o++] = 0xe0 | (cp >> 12);
      out[o++] = 0x80 | ((cp >> 6) & 0x3f);
      out[o++] = 0x80 | (cp & 0x3f);
    } else {
      out[o++] = 0xf0 | (cp >> 18);
      out[o++] = 0x80 | ((cp >> 12) & 0x3f);
      out[o++] = 0x80 | ((cp >> 6) & 0x3f);
      out[o++] = 0x80 | (cp & 0x3f);
    }
    this.written = o;
  }

  /** A surrogate UTF-8 cannot carry: the bytes so far become a piece, then the code unit itself. */
  private lone(u: number): void {
    if (u === this.pendingHigh) this.pendingHigh = -1;
    (this.parts ??= []).push(this.out.toString('utf8', 0, this.written), String.fromCharCode(u));
    this.written = 0;
  }

  private finish(): void {
    if (this.pendingHigh >= 0) this.lone(this.pendingHigh);
    let s = this.out.toString('utf8', 0, this.written);
    if (this.parts) {
      this.parts.push(s);
      s = this.parts.join('');
      this.parts = undefined;
    }
    this.out = this.scratch;
    this.written = 0;
    this.closed = s;
  }
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  const l = b | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}
