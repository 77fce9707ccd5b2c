/**
 * Python's `json.load` as the training code calls it (a text-mode file in a UTF-8 locale): what
 * it raises for a file, with Python's own message and position. It differs from strict JSON:
 * `NaN`, `Infinity` and `-Infinity` load (as floats); a byte-order mark does not; nesting
 * deeper than the interpreter's recursion limit raises RecursionError; bytes that are not UTF-8
 * raise UnicodeDecodeError before any parsing. Iterative, so any depth is safe here.
 * Compared with CPython's json in test/unit/python-json.test.ts.
 */
import { isUtf8 } from 'node:buffer';

export interface PythonJsonError {
  exception: 'json.JSONDecodeError' | 'RecursionError' | 'UnicodeDecodeError';
  /** Python's message, e.g. "Expecting ',' delimiter: line 1 column 12 (char 11)". */
  message: string;
  /** Where, as a UTF-16 offset into the (decoded) text. */
  offset: number;
}

/**
 * Nesting at which CPython's json gives up with RecursionError when called from the top level
 * (measured: 994 levels load, 995 do not, with the default recursion limit of 1000; from
 * deeper code, a little less).
 */
export const PYTHON_JSON_MAX_DEPTH = 994;

const isWhitespace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;
const isDigit = (c: number) => c >= 48 && c <= 57;
const isHex = (c: number) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

class Failure {
  constructor(
    readonly what: string,
    readonly at: number,
  ) {}
}

/** What `json.loads(text)` raises, or undefined when it loads. */
export function pythonJsonError(text: string): PythonJsonError | undefined {
  try {
    scan(text);
    return undefined;
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    if (error.what === 'RecursionError') {
      const container = text[error.at] === '{' ? 'object' : 'array';
      return {
        exception: 'RecursionError',
        message: `maximum recursion depth exceeded while decoding a JSON ${container} from a unicode string`,
        offset: error.at,
      };
    }
    return { exception: 'json.JSONDecodeError', message: withPosition(text, error.what, error.at), offset: error.at };
  }
}

/**
 * "msg: line L column C (char P)" with Python's counts (code points, not UTF-16 units). Counted
 * in one pass, with no copy of the text before the error: it may be most of a 100 MB manifest.
 */
function withPosition(text: string, what: string, offset: number): string {
  let pos = 0;
  let line = 1;
  let lineStart = 0; // in code points
  for (let i = 0; i < offset; i++) {
    const c = text.charCodeAt(i);
    // A surrogate pair is one code point (a lone surrogate is one too).
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < offset) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    pos++;
    if (c === 10) {
      line++;
      lineStart = pos;
    }
  }
  return `${what}: line ${line} column ${pos - lineStart + 1} (char ${pos})`;
}

type Frame = { kind: 'object' | 'array'; first: boolean };

function scan(text: string): void {
  const length = text.length;
  let at = 0;
  const fail = (what: string, where = at): never => {
    throw new Failure(what, where);
  };
  const space = () => {
    while (at < length && isWhitespace(text.charCodeAt(at))) at++;
  };
  if (text.charCodeAt(0) === 0xfeff) fail('Unexpected UTF-8 BOM (decode using utf-8-sig)', 0);
  const stack: Frame[] = [];

  /** One scalar, or the opening of a container (pushed on the stack); "Expecting value" otherwise. */
  const value = (): void => {
    if (at >= length) fail('Expecting value');
    const c = text.charCodeAt(at);
    if (c === 34) return string();
    if (c === 123 || c === 91) {
      if (stack.length >= PYTHON_JSON_MAX_DEPTH) fail('RecursionError', at);
      stack.push({ kind: c === 123 ? 'object' : 'array', first: true });
      at++;
      return;
    }
    for (const word of ['null', 'true', 'false', 'NaN', 'Infinity', '-Infinity']) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return;
      }
    }
    number();
  };

  const number = (): void => {
    const start = at;
    if (text.charCodeAt(at) === 45) at++;
    const c = text.charCodeAt(at);
    if (c >= 49 && c <= 57) {
      while (isDigit(text.charCodeAt(at))) at++;
    } else if (c === 48) at++;
    else fail('Expecting value', start);
    if (text.charCodeAt(at) === 46 && isDigit(text.charCodeAt(at + 1))) {
      at += 2;
      while (isDigit(text.charCodeAt(at))) at++;
    }
    const e = text.charCodeAt(at);
    if ((e === 101 || e === 69) && at < length - 1) {
      const exponent = at++;
      const sign = text.charCodeAt(at);
      if ((sign === 43 || sign === 45) && at < length - 1) at++;
      const digits = at;
      while (isDigit(text.charCodeAt(at))) at++;
      if (at === digits) at = exponent; // no digits: the number ends before the 'e'
    }
  };

  const string = (): void => {
    const begin = at++;
    for (;;) {
      while (at < length) {
        const c = text.charCodeAt(at);
        if (c === 34 || c === 92) break;
        if (c <= 0x1f) fail('Invalid control character at');
        at++;
      }
      if (at >= length) fail('Unterminated string starting at', begin);
      if (text.charCodeAt(at) === 34) {
        at++;
        return;
      }
      // A backslash escape.
      at++;
      if (at >= length) fail('Unterminated string starting at', begin);
      const c = text.charCodeAt(at);
      if (c !== 117) {
        if (!'"\\/bfnrt'.includes(text[at])) fail('Invalid \\escape', at - 1);
        at++;
        continue;
      }
      const digits = at + 1;
      if (digits + 4 >= length) fail('Invalid \\uXXXX escape', at);
      for (let i = digits; i < digits + 4; i++) if (!isHex(text.charCodeAt(i))) fail('Invalid \\uXXXX escape', at);
      const unit = parseInt(text.slice(digits, digits + 4), 16);
      at = digits + 4;
      // A high surrogate followed by another \u escape: CPython reads it at once and checks its digits too.
      if (
        unit >= 0xd800 &&
        unit <= 0xdbff &&
        at + 6 < length &&
        text.charCodeAt(at) === 92 &&
        text.charCodeAt(at + 1) === 117
      ) {
        for (let i = at + 2; i < at + 6; i++) if (!isHex(text.charCodeAt(i))) fail('Invalid \\uXXXX escape', at + 1);
        const low = parseInt(text.slice(at + 2, at + 6), 16);
        if (low >= 0xdc00 && low <= 0xdfff) at += 6;
      }
    }
  };

  /** Before a container's first item or after one: closes it (true), or steps over the comma (false). */
  const closesOrContinues = (frame: Frame): boolean => {
    space();
    const c = text.charCodeAt(at);
    if (c === (frame.kind === 'array' ? 93 : 125)) {
      at++;
      stack.pop();
      return true;
    }
    if (frame.first) frame.first = false;
    else if (c === 44) {
      at++;
      space();
    } else fail("Expecting ',' delimiter");
    return false;
  };

  space();
  value();
  while (stack.length) {
    const frame = stack[stack.length - 1];
    if (closesOrContinues(frame)) continue;
    if (frame.kind === 'object') {
      if (text.charCodeAt(at) !== 34 || at >= length) fail('Expecting property name enclosed in double quotes');
      string();
      space();
      if (text.charCodeAt(at) !== 58) fail("Expecting ':' delimiter");
      at++;
      space();
    }
    value();
  }
  space();
  if (at !== length) fail('Extra data');
}

// Python's 'utf-8' codec keeps a leading byte-order mark as U+FEFF (only 'utf-8-sig' drops it), and json.loads then
// refuses it; TextDecoder drops it unless told not to, which would hide that failure.
const keepingBom = new TextDecoder('utf-8', { ignoreBOM: true });

/** The UTF-8 byte-order mark, EF BB BF. */
export const UTF8_BOM = Uint8Array.of(0xef, 0xbb, 0xbf);

/**
 * Decodes bytes as Python's UTF-8 codec does before `json.load` sees them: the text (invalid
 * bytes replaced, for display) and, if any, the UnicodeDecodeError it raises.
 */
export function decodeLikePython(bytes: Uint8Array): { text: string; error?: PythonJsonError } {
  const text = keepingBom.decode(bytes);
  // The native check first (simdutf: the same strict rules); measured on a 1M-entry manifest
  // (120 MB): ~10 ms instead of 113 ms for the JavaScript scan, which now runs only to explain a failure.
  if (isUtf8(bytes)) return { text };
  const bad = firstInvalidUtf8(bytes);
  if (!bad) return { text };
  const where =
    bad.end - bad.start === 1
      ? `byte 0x${bytes[bad.start].toString(16).padStart(2, '0')} in position ${bad.start}`
      : `bytes in position ${bad.start}-${bad.end - 1}`;
  const offset = keepingBom.decode(bytes.subarray(0, bad.start)).length;
  return {
    text,
    error: { exception: 'UnicodeDecodeError', message: `'utf-8' codec can't decode ${where}: ${bad.reason}`, offset },
  };
}

/** The first byte range Python's strict UTF-8 decoder rejects, with its reason. */
function firstInvalidUtf8(bytes: Uint8Array): { start: number; end: number; reason: string } | undefined {
  for (let i = 0; i < bytes.length;) {
    const lead = bytes[i];
    if (lead < 0x80) {
      i++;
      continue;
    }
    const size =
      lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (size === 0) return { start: i, end: i + 1, reason: 'invalid start byte' };
    // The second byte's range is narrower after E0, ED, F0 and F4 (no overlongs, surrogates or > U+10FFFF).
    const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k < size; k++) {
      if (i + k >= bytes.length) return { start: i, end: bytes.length, reason: 'unexpected end of data' };
      const b = bytes[i + k];
      const ok = k === 1 ? b >= low && b <= high : b >= 0x80 && b <= 0xbf;
      if (!ok) return { start: i, end: i + k, reason: 'invalid continuation byte' };
    }
    i += size;
  }
  return undefined;
}

/** Whether `NaN`, `Infinity` or `-Infinity` (which Python's json accepts as floats) starts at `offset`. */
export function pythonConstantAt(text: string, offset: number): string | undefined {
  return ['NaN', 'Infinity', '-Infinity'].find((word) => text.startsWith(word, offset));
}
