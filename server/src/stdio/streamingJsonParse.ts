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
 * - strings: invalid UTF-8 and lone surrogates (`\uD800`) as JSON.parse decodes them (jsonStringReader.ts);
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
import { JsonStringReader } from './jsonStringReader';
import { unexpectedByte } from './jsonSyntax';

const QUOTE = 0x22;

/** Bytes JSON.parse skips between tokens: space, tab, line feed, carriage return. */
const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

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

  // The string under way: a key, or a value.
  private isKey = false;
  private readonly text: JsonStringReader;

  // The number or literal under way.
  private num = Num.Int;
  private numText = '';
  private literal = '';
  private literalAt = 0;

  /** `totalBytes` is the body's length: no string can be longer, which sizes the string buffer. */
  constructor(private readonly totalBytes: number) {
    this.text = new JsonStringReader(totalBytes);
  }

  /** Parses the next bytes of the body; throws a SyntaxError at the first byte JSON.parse would reject. */
  push(chunk: Buffer): void {
    if (this.offset + chunk.length > this.totalBytes) throw new RangeError('more bytes than the body length given');
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.state) {
        case State.InString: {
          i = this.text.read(chunk, i, this.offset);
          const s = this.text.take();
          if (s !== undefined) this.stringRead(s);
          continue;
        }
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
    this.text.release();
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
    this.text.start();
  }

  private stringRead(s: string): void {
    if (this.isKey) {
      this.keys.push(s);
      this.state = State.Colon;
    } else this.value(s);
  }

  private unexpected(chunk: Buffer, i: number): SyntaxError {
    return unexpectedByte(chunk, i, this.offset);
  }
}
