/**
 * A fast path for jsonc-parser's `visit` on valid, comment-free JSON: the same events with the
 * same offsets, from a tight charCode loop. Measured on a 150,000-entry manifest (13 MB):
 * ~4x faster than `visit`. Anything it does not accept (a syntax error, a comment) makes it
 * give up, and the caller re-runs jsonc-parser for its exact error ranges and messages.
 */
import type { JSONVisitor } from 'jsonc-parser';

export class NotPlainJson extends Error {}

type Events = Required<
  Pick<
    JSONVisitor,
    'onObjectBegin' | 'onObjectEnd' | 'onArrayBegin' | 'onArrayEnd' | 'onObjectProperty' | 'onLiteralValue'
  >
>;

const isDigit = (c: number) => c >= 48 && c <= 57;

/** End of the run of (at least one) digits at `at`, or a NotPlainJson. */
function digitsEnd(text: string, at: number): number {
  const start = at;
  while (isDigit(text.charCodeAt(at))) at++;
  if (at === start) throw new NotPlainJson();
  return at;
}

/**
 * End of the JSON number starting at `at` (-?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?), or a NotPlainJson.
 * No closure over `at`: one made per number was ~100 MB of garbage per parse of a 1M-entry manifest.
 */
function numberEnd(text: string, at: number): number {
  if (text.charCodeAt(at) === 45) at++;
  if (text.charCodeAt(at) === 48) at++;
  else at = digitsEnd(text, at);
  if (text.charCodeAt(at) === 46) at = digitsEnd(text, at + 1);
  const e = text.charCodeAt(at);
  if (e === 101 || e === 69) {
    at++;
    const sign = text.charCodeAt(at);
    if (sign === 43 || sign === 45) at++;
    at = digitsEnd(text, at);
  }
  return at;
}

/**
 * The JSON number `text[start, end)` (numberEnd's), as `Number` reads it. A short integer is added
 * up from its digits (exact below 2^53): a manifest's million window_idx values then make no
 * string each (see RecentStrings for why the parse must leave little garbage).
 */
function numberAt(text: string, start: number, end: number): number {
  const negative = text.charCodeAt(start) === 45;
  let value = 0;
  if (end - start <= 15) {
    for (let i = negative ? start + 1 : start; i < end; i++) {
      const c = text.charCodeAt(i);
      if (!isDigit(c)) return Number(text.slice(start, end));
      value = value * 10 + (c - 48);
    }
    return negative ? -value : value;
  }
  return Number(text.slice(start, end));
}

/**
 * Strings of the text read again from the few last read alike (same length and first and last
 * characters), when the text holds the same characters: a manifest repeats two keys and each
 * file name dozens of times in a row, so its million entries make a few thousand strings instead
 * of three million. Why it matters: the language server parsed a 1M-entry manifest with ~350 MB
 * of short-lived strings and objects; in most runs V8 then took to allocating them straight in
 * the old generation (allocation-site pretenuring: the server's peak went from ~400 MB to
 * 613-673 MB, and the parse from 0.65 s to 1.5 s; with pretenuring switched off, never).
 */
class RecentStrings {
  private readonly slots: string[] = new Array<string>(64).fill('');

  constructor(private readonly text: string) {}

  /** `text.slice(from, to)`, perhaps a string made before. */
  at(from: number, to: number): string {
    const { text } = this;
    const length = to - from;
    if (length === 0) return '';
    const slot = (length * 31 + text.charCodeAt(from) + 7 * text.charCodeAt(to - 1)) & 63;
    const known = this.slots[slot];
    if (known.length === length && text.startsWith(known, from)) return known;
    return (this.slots[slot] = text.slice(from, to));
  }
}

/**
 * Deeper than this the fast path gives up (jsonc-parser and Python's own depth rule then decide):
 * its recursion must never overflow the stack, and no manifest nests this deep.
 */
const MAX_PLAIN_DEPTH = 256;

/** The charCode scanner both entry points share: `value()` reads one value at `at`, emitting its events. */
function plainScanner(text: string, events: Events) {
  let at = 0;
  let depth = 0;
  const fail = (): never => {
    throw new NotPlainJson();
  };
  const space = () => {
    for (;;) {
      const c = text.charCodeAt(at);
      if (c === 32 || c === 10 || c === 13 || c === 9) at++;
      else return;
    }
  };
  const recent = new RecentStrings(text);
  const string = (): string => {
    const start = at++;
    let escaped = false;
    for (;;) {
      const c = text.charCodeAt(at++);
      if (c === 34) break;
      if (c === 92) {
        escaped = true;
        at++;
      } else if (c < 32 || Number.isNaN(c)) fail();
    }
    if (!escaped) return recent.at(start + 1, at - 1);
    try {
      return JSON.parse(text.slice(start, at)) as string;
    } catch {
      return fail();
    }
  };
  // jsonc-parser's line/character and path arguments are unused by our visitors.
  const noPath = () => [];
  /** The comma-separated items of an object or array, through its closing character. */
  const items = (close: number, item: () => void) => {
    if (++depth > MAX_PLAIN_DEPTH) fail();
    at++;
    space();
    if (text.charCodeAt(at) === close) {
      depth--;
      return void at++;
    }
    for (;;) {
      item();
      space();
      const next = text.charCodeAt(at++);
      if (next === close) break;
      if (next !== 44) fail();
    }
    depth--;
  };
  const member = () => {
    space();
    if (text.charCodeAt(at) !== 34) fail();
    const keyStart = at;
    const key = string();
    events.onObjectProperty(key, keyStart, at - keyStart, 0, 0, noPath);
    space();
    if (text.charCodeAt(at++) !== 58) fail();
    value();
  };
  const value = (): void => {
    space();
    const start = at;
    const c = text.charCodeAt(at);
    if (c === 123) {
      events.onObjectBegin(start, 1, 0, 0, noPath);
      items(125, member);
      events.onObjectEnd(at - 1, 1, 0, 0);
    } else if (c === 91) {
      events.onArrayBegin(start, 1, 0, 0, noPath);
      items(93, value);
      events.onArrayEnd(at - 1, 1, 0, 0);
    } else if (c === 34) {
      const s = string();
      events.onLiteralValue(s, start, at - start, 0, 0, noPath);
    } else if (text.startsWith('true', at) || text.startsWith('null', at)) {
      at += 4;
      events.onLiteralValue(text[start] === 't' ? true : null, start, 4, 0, 0, noPath);
    } else if (text.startsWith('false', at)) {
      at += 5;
      events.onLiteralValue(false, start, 5, 0, 0, noPath);
    } else {
      at = numberEnd(text, at);
      events.onLiteralValue(numberAt(text, start, at), start, at - start, 0, 0, noPath);
    }
  };
  return {
    get at() {
      return at;
    },
    set at(to: number) {
      at = to;
    },
    value,
    space,
    fail,
  };
}

export function visitPlainJson(text: string, events: Events): void {
  const scan = plainScanner(text, events);
  scan.value();
  scan.space();
  if (scan.at !== text.length) scan.fail();
}

/**
 * The items of a piece of an array's content, `text[from, to)`, as `visitPlainJson` would report
 * them within the whole document: `afterItem` says an item ends right before `from`, `beforeItem`
 * that one starts right at `to`. Gives up (NotPlainJson) unless, with those neighbours, the piece
 * is a well-formed run of comma-separated plain JSON values that ends exactly at `to`.
 */
export function visitPlainItems(
  text: string,
  from: number,
  to: number,
  neighbours: { afterItem: boolean; beforeItem: boolean },
  events: Events,
): void {
  const scan = plainScanner(text, events);
  scan.at = from;
  let lastWasItem = neighbours.afterItem;
  let seen = false;
  for (;;) {
    scan.space();
    if (scan.at >= to) break;
    seen = true;
    if (text.charCodeAt(scan.at) === 44) {
      if (!lastWasItem) scan.fail();
      lastWasItem = false;
      scan.at++;
    } else {
      if (lastWasItem) scan.fail();
      scan.value();
      lastWasItem = true;
    }
  }
  if (scan.at !== to) scan.fail();
  // Before the next item there must be a comma; before the array's end, none left dangling.
  if (neighbours.beforeItem ? lastWasItem : !lastWasItem && (neighbours.afterItem || seen)) scan.fail();
}
