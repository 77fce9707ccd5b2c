/**
 * `.npy` header parsing (format versions 1, 2 and 3). The header is a Python dict literal,
 * e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (60, 15360), }`.
 */
import { ElementType, parseNumpyDescr } from './elements';
import { FormatError } from '../io/source';

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
  if (major === 1) return 10 + view.getUint16(8, true);
  if (major === 2 || major === 3) {
    if (prefix.length < 12) return undefined;
    return 12 + view.getUint32(8, true);
  }
  throw new FormatError(`unsupported .npy format version ${major}.${prefix[7]}`);
}

/** Parses the header from a prefix of the stream; returns undefined when more bytes are needed. */
export function parseNpyHeader(prefix: Uint8Array): NpyHeader | undefined {
  const dataOffset = npyHeaderLength(prefix);
  if (dataOffset === undefined || prefix.length < dataOffset) return undefined;
  const textStart = prefix[6] === 1 ? 10 : 12;
  // Version 3 headers are UTF-8; 1 and 2 are latin1 (numpy writes ASCII in practice).
  const text = new TextDecoder(prefix[6] === 3 ? 'utf-8' : 'latin1').decode(prefix.subarray(textStart, dataOffset));
  const literal = new PythonLiteral(text).parseAll();
  if (!isDict(literal)) throw new FormatError('bad .npy header: not a dict');
  const keys = [...literal.keys()].sort().join(',');
  if (keys !== 'descr,fortran_order,shape') throw new FormatError(`bad .npy header keys: ${keys}`);
  const descr = literal.get('descr');
  const fortran = literal.get('fortran_order');
  const shape = literal.get('shape');
  if (typeof descr !== 'string') throw new FormatError('unsupported .npy dtype: structured or non-string descr');
  if (typeof fortran !== 'boolean') throw new FormatError('bad .npy header: fortran_order is not a bool');
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new FormatError('bad .npy header: shape is not a tuple of non-negative ints');
  }
  const dims = shape as number[];
  const dtype = parseNumpyDescr(descr);
  const elements = dims.reduce((a, b) => a * b, 1);
  const dataBytes = elements * dtype.size;
  if (!Number.isSafeInteger(dataBytes)) throw new FormatError(`bad .npy header: shape ${JSON.stringify(dims)} is absurdly large`);
  return { dataOffset, dtype, fortranOrder: fortran, shape: dims, dataBytes };
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
