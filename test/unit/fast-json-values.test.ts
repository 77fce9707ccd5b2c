/**
 * The fast JSON path reads numbers as `Number` does (short integers are added up from their
 * digits, the rest read by `Number`) and strings as their text says, however its recent strings
 * are reused: repeated ones, and different ones of the same length and the same first and last
 * characters (which share a slot).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { visitPlainJson } from '../../server/src/engine/json/fastJson';
import { parseManifest, parseManifestWithJsonc } from '../../server/src/engine/eeg/manifestParse';

/** The literal values the fast path reports for `text`, in order. */
function literals(text: string): unknown[] {
  const found: unknown[] = [];
  const none = () => undefined;
  visitPlainJson(text, {
    onObjectBegin: none,
    onObjectEnd: none,
    onArrayBegin: none,
    onArrayEnd: none,
    onObjectProperty: (name) => void found.push(`key:${name}`),
    onLiteralValue: (value) => void found.push(value),
  });
  return found;
}

/** What JSON.parse reads, in the same order (keys before their values). */
function expected(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap(expected);
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => [`key:${k}`, ...expected(v)]);
  return [value];
}

test('numbers read as Number reads them: integers of every length, signs, -0, fractions, exponents', () => {
  const numbers = [
    '0',
    '-0',
    '7',
    '-7',
    '29',
    '123456789',
    '999999999999999',
    '-999999999999999',
    '9007199254740993',
    '12345678901234567890',
    '1.5',
    '-0.0',
    '1e3',
    '2E-2',
    '-1.25e+2',
  ];
  const text = `[${numbers.join(',')}]`;
  const ours = literals(text);
  assert.equal(ours.length, numbers.length);
  numbers.forEach((n, i) => assert.ok(Object.is(ours[i], Number(n)), `${n}: ${String(ours[i])}`));
});

test('strings read as their text says, repeated or sharing a slot with a different one', () => {
  const strings = ['a_windows.npz', 'a_windows.npz', 'a_wixdows.npz', 'a_windows.npz', 'b', 'b', 'c', '', 'é✓', 'é✓'];
  const value = {
    list: strings,
    cache_file: 'x',
    window_idx: 'y',
    nested: [
      { cache_file: 'x1.npz', window_idx: 1 },
      { cache_file: 'x2.npz', window_idx: 2 },
    ],
  };
  const text = JSON.stringify(value);
  assert.deepEqual(literals(text), expected(value));
});

test('a manifest whose entries repeat and vary names and indexes parses as jsonc-parser parses it', () => {
  const entries = Array.from({ length: 200 }, (_, i) => ({
    cache_file: `s${(i * 7) % 10}_windows.npz`,
    window_idx: i % 3 === 0 ? -i : i % 5 === 0 ? i + 0.5 : i,
  }));
  const text = JSON.stringify({
    partial_seizure: entries,
    full_seizure: [],
    no_seizure: [{ cache_file: 'z.npz', window_idx: '3' }],
  });
  const plain = (p: ReturnType<typeof parseManifest>) =>
    JSON.stringify({
      ...p,
      entries: Object.fromEntries(
        Object.entries(p.entries).map(([k, v]) => [k, typeof v === 'number' ? v : Array.from(v as ArrayLike<number>)]),
      ),
    });
  assert.equal(plain(parseManifest(text)), plain(parseManifestWithJsonc(text)));
});
