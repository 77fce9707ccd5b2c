/**
 * `JSON.parse(body.toString('utf8'))` for a body that arrives in chunks, without ever holding
 * the body: each chunk is parsed as it comes and dropped. The language server receives whole
 * documents in `didOpen` (an 88 MB manifest is a 100 MB message once JSON escapes its quotes and
 * line breaks); read the usual way, the chunks, their concatenation, the decoded body and the
 * parsed text are all held at once (four copies, ~390 MB). Here only the parsed value is built:
 * a string's bytes are unescaped into one buffer and decoded once (so a 100 MB message costs its
 * string's bytes and the string, not four copies).
 *
 * The result is exactly what JSON.parse gives for the same bytes, on every input:
 * - invalid UTF-8 inside a string: each string's bytes are decoded on their own, and a string's
 *   ends are ASCII `"`, which no multi-byte sequence contains. An escape starts with ASCII `\`
 *   and writes a whole UTF-8 sequence (never a continuation byte), so a broken sequence next to
 *   an escape is cut short the same way as when the whole body is decoded: the same U+FFFD;
 * - `\uD800`-style lone surrogates, which UTF-8 cannot carry: the string is then built in parts
 *   (the bytes so far decoded, the lone code unit, the rest);
 * - numbers: checked against the JSON grammar, then converted by `Number`, which rounds the same
 *   text to the same double as JSON.parse (`-0` included);
 * - `__proto__` keys become own properties (JSON.parse defines properties, it does not assign);
 *   a repeated key keeps its first place and its last value, as JSON.parse does;
 * - any depth (JSON.parse has no limit either: the containers are an explicit stack, no recursion);
 * - invalid JSON is rejected exactly when JSON.parse rejects it, with a SyntaxError (its message
 *   names the byte offset, where JSON.parse's names the character).
 *
 * Hand-written: the npm streaming parsers (stream-json, @streamparser/json, jsonparse) build
 * strings from decoded pieces that are joined at the end (a second copy of a 100 MB string) and
 * none states the equalities above (lone surrogates, invalid UTF-8, `__proto__`); checking them
 * would have meant this parser's random test anyway. Measured on the bench's 88 MB manifest as
 * a 100 MB didOpen body in 64 KiB chunks (Node 20, one core): 450–520 ms here against 250–320 ms
 * for `JSON.parse(body.toString())`; in the server it runs while the bytes arrive, so the message
 * is ready about as soon (stdioMessageReader.ts has the server's figures).
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Bytes JSON.parse skips between tokens: space, tab, line feed, carriage return. */
const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

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

const enum State {
  /** A value must come (top level, after `:`, after `,` in an array). */
  Value,
  /** After `[`: a value or `]`. */
  ArrayStart,
  /** After `{`: a key or `}`. */
  ObjectStart,
  /** After `,` in an object: a key. */
  Key,
  /** After a key: `:`. */
  Colon,
  /** After a value in a container: `,` or its closing bracket. */
  AfterValue,
  /** After the top-level value: only whitespace. */
  End,
  InString,
  InNumber,
  InLiteral,
}

/** Where a string is inside its escapes: after `\`, or after `\u` and that many hex digits. */
const enum Escape {
  None = -2,
  Backslash = -1,
  // 0..3: hex digits read after `\u`.
}

/** Number grammar states (RFC 8259 section 6). */
const enum Num {
  Minus, // after `-`: a digit must come
  Zero, // a leading 0: no more integer digits
  Int, // in integer digits
  Dot, // after `.`: a digit must come
  Frac, // in fraction digits
  E, // after `e`/`E`: sign or digit
  ESign, // after the exponent's sign: a digit must come
  Exp, // in exponent digits
}

type Container = unknown[] | Record<string, unknown>;

export class StreamingJsonParser {
  private state = State.Value;
  /** Open containers, innermost last; for objects, the key their next value goes under. */
  private readonly containers: Container[] = [];
  private readonly keys: string[] = [];
  private root: unknown;
  /** Bytes consumed so far: positions in errors, and how many may still come. */
  private offset = 0;

  // The string under way.
  private isKey = false;
  private out: Buffer;
  private written = 0;
  private escape: number = Escape.None;
  private unit = 0;
  /** A `\uD800`–`\uDBFF` escape waiting to see whether a low surrogate escape follows, or -1. */
  private pendingHigh = -1;
  /** Decoded pieces when a lone surrogate split the string, else undefined. */
  private parts: string[] | undefined;

  /** Shared by the strings that outgrow `scratch`: sized once from the bytes still to come. */
  private large: Buffer | undefined;
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_BYTES);

  // The number or literal under way.
  private num = Num.Int;
  private numText = '';
  private literal = '';
  private literalAt = 0;

  /** `totalBytes` is the body's length: no string can be longer, which sizes the string buffer. */
  constructor(private readonly totalBytes: number) {
    this.out = this.scratch;
  }

  /** Parses the next bytes of the body; throws a SyntaxError at the first byte JSON.parse would reject. */
  push(chunk: Buffer): void {
    if (this.offset + chunk.length > this.totalBytes) throw new RangeError('more bytes than the body length given');
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.state) {
        case State.InString:
          i = this.string(chunk, i);
          continue;
        case State.InNumber:
          i = this.number(chunk, i);
          continue;
        case State.InLiteral:
          i = this.literalBytes(chunk, i);
          continue;
      }
      const b = chunk[i];
      if (isSpace(b)) {
        i++;
        continue;
      }
      switch (this.state) {
        case State.Value:
        case State.ArrayStart:
          if (b === 0x5d && this.state === State.ArrayStart) {
            i++;
            this.close();
            continue;
          }
          i = this.startValue(chunk, i);
          continue;
        case State.ObjectStart:
        case State.Key:
          if (b === QUOTE) {
            this.startString(true);
            i++;
            continue;
          }
          if (b === 0x7d && this.state === State.ObjectStart) {
            i++;
            this.close();
            continue;
          }
          throw this.unexpected(chunk, i);
        case State.Colon:
          if (b !== 0x3a) throw this.unexpected(chunk, i);
          this.state = State.Value;
          i++;
          continue;
        case State.AfterValue: {
          const top = this.containers[this.containers.length - 1];
          const isArray = Array.isArray(top);
          if (b === 0x2c) this.state = isArray ? State.Value : State.Key;
          else if (b === (isArray ? 0x5d : 0x7d)) this.close();
          else throw this.unexpected(chunk, i);
          i++;
          continue;
        }
        case State.End:
          throw this.unexpected(chunk, i);
      }
    }
    this.offset += n;
  }

  /** The value, once the whole body has been pushed; throws if the body ended inside it. */
  end(): unknown {
    if (this.offset !== this.totalBytes) throw new RangeError('fewer bytes than the body length given');
    if (this.state === State.InNumber && this.numberMayEnd()) this.finishNumber('');
    if (this.state !== State.End) throw new SyntaxError('Unexpected end of JSON input');
    const value = this.root;
    this.root = undefined;
    this.large = undefined;
    return value;
  }

  private startValue(chunk: Buffer, i: number): number {
    const b = chunk[i];
    switch (b) {
      case QUOTE:
        this.startString(false);
        return i + 1;
      case 0x7b:
        this.containers.push({});
        this.state = State.ObjectStart;
        return i + 1;
      case 0x5b:
        this.containers.push([]);
        this.state = State.ArrayStart;
        return i + 1;
      case 0x74:
        return this.startLiteral('true', chunk, i);
      case 0x66:
        return this.startLiteral('false', chunk, i);
      case 0x6e:
        return this.startLiteral('null', chunk, i);
    }
    if (b === 0x2d || (b >= 0x30 && b <= 0x39)) {
      this.state = State.InNumber;
      this.num = b === 0x2d ? Num.Minus : b === 0x30 ? Num.Zero : Num.Int;
      this.numText = '';
      return this.number(chunk, i + 1, i);
    }
    throw this.unexpected(chunk, i);
  }

  /** Puts a finished value into its container, or makes it the result. */
  private value(v: unknown): void {
    const depth = this.containers.length;
    if (depth === 0) {
      this.root = v;
      this.state = State.End;
      return;
    }
    const top = this.containers[depth - 1];
    if (Array.isArray(top)) top.push(v);
    else {
      const key = this.keys.pop()!;
      // Assigning `__proto__` would set the prototype; JSON.parse makes it an own property.
      if (key === '__proto__')
        Object.defineProperty(top, key, { value: v, writable: true, enumerable: true, configurable: true });
      else top[key] = v;
    }
    this.state = State.AfterValue;
  }

  private close(): void {
    this.value(this.containers.pop());
  }

  private startLiteral(word: string, chunk: Buffer, i: number): number {
    this.state = State.InLiteral;
    this.literal = word;
    this.literalAt = 0;
    return this.literalBytes(chunk, i);
  }

  private literalBytes(chunk: Buffer, i: number): number {
    const word = this.literal;
    while (i < chunk.length && this.literalAt < word.length) {
      if (chunk[i] !== word.charCodeAt(this.literalAt)) throw this.unexpected(chunk, i);
      i++;
      this.literalAt++;
    }
    if (this.literalAt === word.length) this.value(word === 'true' ? true : word === 'false' ? false : null);
    return i;
  }

  /** Follows the number grammar from `i`; `start` is where this chunk's part of the number began. */
  private number(chunk: Buffer, i: number, start = i): number {
    const n = chunk.length;
    let num = this.num;
    for (; i < n; i++) {
      const b = chunk[i];
      const digit = b >= 0x30 && b <= 0x39;
      switch (num) {
        case Num.Minus:
          if (!digit) throw this.unexpected(chunk, i);
          num = b === 0x30 ? Num.Zero : Num.Int;
          continue;
        case Num.Zero:
        case Num.Int:
          if (digit && num === Num.Int) continue;
          if (b === 0x2e) num = Num.Dot;
          else if (b === 0x65 || b === 0x45) num = Num.E;
          else break;
          continue;
        case Num.Dot:
          if (!digit) throw this.unexpected(chunk, i);
          num = Num.Frac;
          continue;
        case Num.Frac:
          if (digit) continue;
          if (b === 0x65 || b === 0x45) num = Num.E;
          else break;
          continue;
        case Num.E:
          if (b === 0x2b || b === 0x2d) num = Num.ESign;
          else if (digit) num = Num.Exp;
          else throw this.unexpected(chunk, i);
          continue;
        case Num.ESign:
          if (!digit) throw this.unexpected(chunk, i);
          num = Num.Exp;
          continue;
        case Num.Exp:
          if (digit) continue;
          break;
      }
      // A byte that cannot continue the number ends it (it is then read as what follows the value).
      this.num = num;
      if (!this.numberMayEnd()) throw this.unexpected(chunk, i);
      this.finishNumber(chunk.toString('latin1', start, i));
      return i;
    }
    this.num = num;
    this.numText += chunk.toString('latin1', start, n);
    return n;
  }

  private numberMayEnd(): boolean {
    return this.num === Num.Zero || this.num === Num.Int || this.num === Num.Frac || this.num === Num.Exp;
  }

  private finishNumber(last: string): void {
    const text = this.numText + last;
    this.numText = '';
    this.value(Number(text));
  }

  private startString(isKey: boolean): void {
    this.state = State.InString;
    this.isKey = isKey;
    this.out = this.scratch;
    this.written = 0;
    this.escape = Escape.None;
    this.pendingHigh = -1;
    this.parts = undefined;
  }

  /**
   * Makes sure at least SLACK bytes are free in the string's buffer. A string's output is never
   * longer than its input (an escape writes fewer bytes than it reads; one under way has written
   * at most 4 bytes fewer than it read), so `written` plus the body bytes still to come from `i`
   * plus SLACK bounds it: that one buffer is allocated the first time a string leaves the
   * scratch buffer, and serves the rest of this string and every later one of this body (the
   * bound only shrinks). No doubling copies: the pages of it that are never written are never
   * resident.
   */
  private room(i: number): Buffer {
    if (this.out.length - this.written >= SLACK) return this.out;
    const bound = this.written + 2 * SLACK + (this.totalBytes - this.offset - i);
    if (!this.large || this.large.length < bound) this.large = Buffer.allocUnsafe(bound);
    if (this.out !== this.large) this.out.copy(this.large, 0, 0, this.written);
    return (this.out = this.large);
  }

  /** Reads string bytes from `i` until the closing quote or the chunk's end; returns where it stopped. */
  private string(chunk: Buffer, i: number): number {
    const n = chunk.length;
    while (i < n) {
      // Each turn writes at most SLACK bytes, or (the copy loop) no more than there is room for.
      const out = this.room(i);
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
        if (b < 0x20) throw this.unexpected(chunk, i);
        if (b === QUOTE) {
          this.finishString();
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
        if (c === NOT_ESCAPE) throw this.unexpected(chunk, i - 1);
        if (this.pendingHigh >= 0) this.lone(this.pendingHigh);
        this.out[this.written++] = c;
        this.escape = Escape.None;
        continue;
      }
      // Hex digits of `\uXXXX`.
      const h = hexValue(b);
      if (h < 0) throw this.unexpected(chunk, i);
      this.unit = (this.unit << 4) | h;
      i++;
      if (++this.escape < 4) continue;
      this.escape = Escape.None;
      this.codeUnit(this.unit);
    }
    return i;
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

  private finishString(): void {
    if (this.pendingHigh >= 0) this.lone(this.pendingHigh);
    let s = this.out.toString('utf8', 0, this.written);
    if (this.parts) {
      this.parts.push(s);
      s = this.parts.join('');
      this.parts = undefined;
    }
    this.out = this.scratch;
    this.written = 0;
    if (this.isKey) {
      this.keys.push(s);
      this.state = State.Colon;
    } else this.value(s);
  }

  private unexpected(chunk: Buffer, i: number): SyntaxError {
    const b = chunk[i];
    const what =
      b >= 0x21 && b < 0x7f ? `token ${String.fromCharCode(b)}` : `byte 0x${b.toString(16).padStart(2, '0')}`;
    return new SyntaxError(`Unexpected ${what} in JSON at byte ${this.offset + i}`);
  }
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  const l = b | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}
