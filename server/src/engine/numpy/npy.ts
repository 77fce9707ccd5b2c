/**
 * `.npy` header parsing (format versions 1, 2 and 3). The header is a Python dict literal,
 * e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (60, 15360), }`.
 */
import { ElementType, parseNumpyDescr } from './elements';
import { FormatError } from '../io/source';

/**
 * A header numpy's `read_array` refuses, with what it raises: ValueError for almost everything;
 * tokenize.TokenError when a version 1/2 header does not parse and its brackets or quotes do
 * not balance (numpy re-tokenizes such headers before giving up); TypeError for an unhashable
 * dict key. Measured in test/unit/numpy-exceptions.test.ts.
 */
export class NpyHeaderError extends FormatError {
  constructor(
    message: string,
    readonly python: 'ValueError' | 'tokenize.TokenError' | 'TypeError',
  ) {
    super(message);
  }
}

/** A valid header whose dtype numpy loads but `labels > 0` cannot compare (strings, datetimes, records). */
export class NonNumericDtype extends FormatError {
  constructor(
    readonly descr: string,
    readonly shape: number[],
  ) {
    super(`labels has dtype ${descr}, which cannot be compared with 0`);
  }
}

/** numpy's `max_header_size` default (numpy >= 1.24): longer headers raise ValueError. */
export const NUMPY_MAX_HEADER_SIZE = 10000;

export interface NpyHeader {
  /** Offset of the first data byte from the start of the `.npy` stream. */
  dataOffset: number;
  dtype: ElementType;
  fortranOrder: boolean;
  shape: number[];
  /** Number of data bytes the header promises: product(shape) * itemsize. */
  dataBytes: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Bytes needed before the header can be parsed: 0 when `prefix` is enough, else a larger size. */
export function npyHeaderLength(prefix: Uint8Array): number | undefined {
  if (prefix.length < 10) return undefined;
  for (let i = 0; i < MAGIC.length; i++) {
    if (prefix[i] !== MAGIC[i]) throw new FormatError('not a .npy array (bad magic)');
  }
  const major = prefix[6];
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  if (prefix[7] !== 0 || major < 1 || major > 3)
    throw new NpyHeaderError(`unsupported .npy format version ${major}.${prefix[7]}`, 'ValueError');
  if (major === 1) return 10 + view.getUint16(8, true);
  if (prefix.length < 12) return undefined;
  return 12 + view.getUint32(8, true);
}

/** Parses the header from a prefix of the stream; returns undefined when more bytes are needed. */
export function parseNpyHeader(prefix: Uint8Array): NpyHeader | undefined {
  const dataOffset = npyHeaderLength(prefix);
  if (dataOffset === undefined) return undefined;
  const version = prefix[6];
  const textStart = version === 1 ? 10 : 12;
  // numpy refuses long headers before reading them (a security limit), so we need not read them either.
  if (dataOffset - textStart > NUMPY_MAX_HEADER_SIZE * (version === 3 ? 4 : 1)) {
    throw new NpyHeaderError(
      `the .npy header is ${dataOffset - textStart} bytes, over numpy's ${NUMPY_MAX_HEADER_SIZE}-character limit`,
      'ValueError',
    );
  }
  if (prefix.length < dataOffset) return undefined;
  // Version 3 headers are UTF-8; 1 and 2 are latin1 (numpy writes ASCII in practice).
  const text = new TextDecoder(version === 3 ? 'utf-8' : 'latin1').decode(prefix.subarray(textStart, dataOffset));
  if (text.length > NUMPY_MAX_HEADER_SIZE)
    throw new NpyHeaderError(`the .npy header is over numpy's ${NUMPY_MAX_HEADER_SIZE}-character limit`, 'ValueError');
  let literal: Literal;
  try {
    literal = new PythonLiteral(text).parseAll();
  } catch (error) {
    if (error instanceof NpyHeaderError || !(error instanceof FormatError)) throw error;
    // numpy re-tokenizes a v1/v2 header that does not parse; the tokenizer fails on open brackets.
    throw new NpyHeaderError(
      error.message,
      version !== 3 && !bracketsBalance(text) ? 'tokenize.TokenError' : 'ValueError',
    );
  }
  const bad = (message: string) => new NpyHeaderError(`bad .npy header: ${message}`, 'ValueError');
  if (!isDict(literal)) throw bad('not a dict');
  const keys = [...literal.keys()].sort().join(',');
  if (keys !== 'descr,fortran_order,shape') throw bad(`keys are ${keys}, not descr, fortran_order and shape`);
  const descr = literal.get('descr');
  const fortran = literal.get('fortran_order');
  const shape = literal.get('shape');
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d)))
    throw bad('shape is not a tuple of ints');
  if (typeof fortran !== 'boolean') throw bad('fortran_order is not a bool');
  const dims = shape as number[];
  if (dims.some((d) => d < 0)) throw bad('negative dimensions are not allowed');
  const dtype = numpyDtype(descr, dims);
  const elements = dims.reduce((a, b) => a * b, 1);
  const dataBytes = elements * dtype.size;
  if (!Number.isSafeInteger(dataBytes)) throw bad(`shape ${JSON.stringify(dims)} is absurdly large`);
  return { dataOffset, dtype, fortranOrder: fortran, shape: dims, dataBytes };
}

/** The element type, or what numpy does with a descr we cannot count: refuse it (ValueError) or load it. */
function numpyDtype(descr: Literal | undefined, shape: number[]): ElementType {
  if (typeof descr === 'string') {
    try {
      return parseNumpyDescr(descr);
    } catch {
      // Object arrays need allow_pickle; strings, bytes, datetimes and voids load but do not compare.
      const kind = /^[<>|=]?([a-zA-Z])/.exec(descr)?.[1];
      if (kind === 'O')
        throw new NpyHeaderError('labels is an object array: numpy refuses it without allow_pickle', 'ValueError');
      if (kind && /^[<>|=]?(?:[USaV]\d+|M8(?:\[\w+\])?)$/.test(descr)) throw new NonNumericDtype(descr, shape);
      throw new NpyHeaderError(`descr ${JSON.stringify(descr)} is not a valid dtype`, 'ValueError');
    }
  }
  // A structured dtype (list of fields): loads unless a field holds Python objects.
  if (
    Array.isArray(descr) &&
    descr.length > 0 &&
    descr.every((f) => Array.isArray(f) && f.length >= 2 && typeof f[0] === 'string')
  ) {
    if (JSON.stringify(descr).includes('O'))
      throw new NpyHeaderError('labels has object fields: numpy refuses it without allow_pickle', 'ValueError');
    throw new NonNumericDtype(JSON.stringify(descr), shape);
  }
  throw new NpyHeaderError('descr is not a valid dtype', 'ValueError');
}

/** Whether brackets close and strings end, as Python's tokenizer needs before it reaches its end. */
function bracketsBalance(text: string): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) return true; // an unterminated one-line string is an error token, not a tokenizer failure
      i = end;
    } else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
  }
  return depth <= 0;
}

type Literal = string | number | boolean | null | Literal[] | Map<string, Literal>;

function isDict(value: Literal): value is Map<string, Literal> {
  return value instanceof Map;
}

/** A tiny recursive-descent parser for the Python literals numpy writes (dict, tuple, list, str, int, bool, None). */
class PythonLiteral {
  private at = 0;
  constructor(private readonly text: string) {}

  parseAll(): Literal {
    const value = this.value();
    this.space();
    if (this.at !== this.text.length) throw this.fail('trailing characters');
    return value;
  }

  private fail(what: string): FormatError {
    return new FormatError(`bad .npy header: ${what} at column ${this.at}`);
  }

  private space(): void {
    while (this.at < this.text.length && /\s/.test(this.text[this.at])) this.at++;
  }

  private value(): Literal {
    this.space();
    const c = this.text[this.at];
    if (c === '{') return this.dict();
    if (c === '(' || c === '[') return this.sequence(c === '(' ? ')' : ']');
    if (c === "'" || c === '"') return this.string();
    const word = /^(True|False|None|-?\d+)/.exec(this.text.slice(this.at, this.at + 32));
    if (!word) throw this.fail('unexpected token');
    this.at += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    return Number(word[0]);
  }

  private string(): string {
    const quote = this.text[this.at++];
    let out = '';
    while (this.at < this.text.length && this.text[this.at] !== quote) {
      if (this.text[this.at] === '\\') this.at++;
      out += this.text[this.at++];
    }
    if (this.at >= this.text.length) throw this.fail('unterminated string');
    this.at++;
    return out;
  }

  private sequence(close: string): Literal[] {
    this.at++;
    const items: Literal[] = [];
    for (;;) {
      this.space();
      if (this.text[this.at] === close) {
        this.at++;
        return items;
      }
      items.push(this.value());
      this.space();
      if (this.text[this.at] === ',') this.at++;
      else if (this.text[this.at] !== close) throw this.fail(`expected , or ${close}`);
    }
  }

  private dict(): Map<string, Literal> {
    this.at++;
    const map = new Map<string, Literal>();
    for (;;) {
      this.space();
      if (this.text[this.at] === '}') {
        this.at++;
        return map;
      }
      const key = this.value();
      // Python: a list or dict key is unhashable (TypeError); any other non-string key fails the keys check.
      if (Array.isArray(key) && this.text[this.at - 1] === ']')
        throw new NpyHeaderError('bad .npy header: unhashable dict key', 'TypeError');
      if (key instanceof Map) throw new NpyHeaderError('bad .npy header: unhashable dict key', 'TypeError');
      if (typeof key !== 'string') throw this.fail('dict key is not a string');
      this.space();
      if (this.text[this.at++] !== ':') throw this.fail('expected :');
      map.set(key, this.value());
      this.space();
      if (this.text[this.at] === ',') this.at++;
      else if (this.text[this.at] !== '}') throw this.fail('expected , or }');
    }
  }
}
