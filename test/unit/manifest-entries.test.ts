/**
 * The manifest's columns are sized up front by `entryCapacity` (the text's `{` count, capped):
 * whether that bound is exact, too high (braces inside strings) or too low (entries shorter than
 * the cap assumes, so the columns grow), every parse gives each entry where it is in the text.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { entryCapacity, ManifestEntries } from '../../server/src/engine/eeg/manifestEntries';
import { parseManifestWithJsonc, parsePlainManifest } from '../../server/src/engine/eeg/manifestParse';

const columns = (entries: ManifestEntries) =>
  Object.fromEntries(
    Object.entries(entries).map(([key, value]) => [key, typeof value === 'number' ? value : [...value]]),
  );

/** Offsets of the entry objects, found without the parser: every `{` after the root's, outside strings. */
function entryOffsets(text: string): number[] {
  const offsets: number[] = [];
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') inString = !inString;
    else if (text[i] === '{' && !inString) offsets.push(i);
  }
  return offsets.slice(1);
}

const cases: [string, string][] = [
  [
    'the bound is exact',
    JSON.stringify({
      partial_seizure: Array.from({ length: 40 }, (_, i) => ({ cache_file: `f${i % 3}.npz`, window_idx: i })),
      full_seizure: [],
      no_seizure: [],
    }),
  ],
  [
    'braces in strings raise the bound above the entries',
    JSON.stringify({
      partial_seizure: Array.from({ length: 40 }, (_, i) => ({ cache_file: `{{{{${i}}}}}.npz`, window_idx: i })),
      full_seizure: [{ cache_file: '{', window_idx: 0 }],
      no_seizure: [],
    }),
  ],
  [
    'entries shorter than the cap assumes: the columns grow past it',
    JSON.stringify({ partial_seizure: Array.from({ length: 3000 }, () => ({})), full_seizure: [{}], no_seizure: [] }),
  ],
];

for (const [name, text] of cases) {
  test(`manifest columns: ${name}`, () => {
    const plain = parsePlainManifest(text)!;
    const offsets = entryOffsets(text);
    assert.equal(plain.entries.count, offsets.length);
    assert.deepEqual([...plain.entries.entryOffset], offsets);
    for (const [key, value] of Object.entries(plain.entries))
      if (typeof value !== 'number') assert.equal(value.length, offsets.length, key);
    assert.deepEqual(columns(plain.entries), columns(parseManifestWithJsonc(text).entries));
  });
}

test('entryCapacity counts braces up to one per 32 characters', () => {
  assert.equal(entryCapacity('{"a": [{}, {}]}'), 1);
  assert.equal(entryCapacity(`{"a": [${'{"b": 1}, '.repeat(99)}{"b": 1}]}`), 32); // 101 braces in 1,007 characters
  assert.equal(entryCapacity(`{"a": [${'{"cache_file": "x.npz", "window_idx": 0}, '.repeat(9)}{}]}`), 11);
});
