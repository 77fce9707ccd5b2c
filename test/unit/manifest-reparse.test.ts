/**
 * An edit's re-parse (manifestReparse.ts) must give exactly what a whole parse of the new text
 * gives: random edits (values, names, whole entries, stray brackets and quotes that break the
 * JSON and edits that restore it, multi-byte characters) applied one after another, each result
 * compared with a fresh parse. The chain carries on from each result, so a wrong state shows up
 * in later edits too.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParsedManifest, parseManifest, reparseStateOf } from '../../server/src/engine/eeg/manifestParse';
import { reparseManifest } from '../../server/src/engine/eeg/manifestReparse';
import { mulberry32 } from '../support/arcSamples';

/** A parse as plain data (typed arrays as arrays), for deepEqual. */
export function plainParse(parsed: ParsedManifest) {
  return {
    ...parsed,
    entries: Object.fromEntries(
      Object.entries(parsed.entries).map(([k, v]) => [
        k,
        typeof v === 'number' ? v : Array.from(v as ArrayLike<number>),
      ]),
    ),
  };
}

const NAMES = ['a_windows.npz', 'b_windows.npz', 'c.npz', 'café_é.npz', '😀 cache.npz', '../up.npz', 'd/e.npz', ''];
const WINDOWS = ['0', '3', '17', '-1', '2.5', '1e0', '"4"', 'true', 'null', '{}', '[]', '99999'];

function randomManifest(random: () => number, entries: number): string {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
  const entry = () =>
    random() < 0.9
      ? `{"cache_file": ${JSON.stringify(pick(NAMES.slice(0, 5)))}, "window_idx": ${Math.floor(random() * 20)}}`
      : `{"window_idx": ${pick(WINDOWS)}, "cache_file": ${JSON.stringify(pick(NAMES))}}`;
  const list = (n: number) => `[\n    ${Array.from({ length: n }, entry).join(',\n    ')}\n  ]`;
  const third = Math.floor(entries / 3);
  const lists = [
    `"partial_seizure": ${list(third)}`,
    `"full_seizure": ${list(third)}`,
    `"no_seizure": ${list(entries - 2 * third)}`,
  ];
  if (random() < 0.2) lists.pop(); // a missing category: its warning rides along
  return `{\n  ${lists.join(',\n  ')},\n  "note": "x"\n}\n`;
}

/** A random edit: where, how much to remove, what to insert. */
function randomEdit(random: () => number, text: string): { offset: number; removed: number; inserted: string } {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
  const at = (pattern: RegExp) => {
    const hits = [...text.matchAll(pattern)];
    return hits.length ? pick(hits) : undefined;
  };
  const kind = Math.floor(random() * 9);
  if (kind === 0) {
    const hit = at(/"window_idx": ([^,}\n]*)/g);
    if (hit) return { offset: hit.index! + 14, removed: hit[1].length, inserted: pick(WINDOWS) };
  }
  if (kind === 1) {
    const hit = at(/"cache_file": ("[^"]*")/g);
    if (hit)
      return {
        offset: hit.index! + 14,
        removed: hit[1].length,
        inserted: random() < 0.8 ? JSON.stringify(pick(NAMES)) : pick(['7', '"ü\\u00e9.npz"', '"x\\"y.npz"']),
      };
  }
  if (kind === 2) {
    // A whole entry inserted after another (or before the first of a list).
    const hit = at(/\}(,?)\n/g) ?? at(/\[\n/g);
    if (hit) {
      const name = JSON.stringify(pick(NAMES));
      const entry = `{"cache_file": ${name}, "window_idx": ${pick(WINDOWS)}}`;
      return hit[0].startsWith('}')
        ? { offset: hit.index! + 1, removed: 0, inserted: `,\n    ${entry}` }
        : { offset: hit.index! + 2, removed: 0, inserted: `    ${entry},\n` };
    }
  }
  if (kind === 3) {
    // A whole entry deleted with its comma.
    const hit = at(/,\n {4}\{[^{}]*\}/g);
    if (hit) return { offset: hit.index!, removed: hit[0].length, inserted: '' };
  }
  if (kind === 4) {
    // Several entries at once, from inside one to inside another.
    const a = Math.floor(random() * text.length);
    const b = Math.min(text.length, a + Math.floor(random() * 200));
    return {
      offset: a,
      removed: b - a,
      inserted: random() < 0.5 ? '' : pick(['}, {', '{"cache_file": "c.npz", ', '']),
    };
  }
  if (kind === 5) {
    // A stray character that may break the JSON (a later edit may restore it).
    const offset = Math.floor(random() * text.length);
    return {
      offset,
      removed: 0,
      inserted: pick(['{', '}', '[', ']', ',', '"', ':', ' ', '\n', 'é', '😀', 'NaN', '0']),
    };
  }
  if (kind === 6) {
    const offset = Math.floor(random() * text.length);
    return { offset, removed: Math.min(text.length - offset, 1 + Math.floor(random() * 3)), inserted: '' };
  }
  if (kind === 7) {
    // A key renamed inside an entry, or a second cache_file.
    const hit = at(/"(cache_file|window_idx)"/g);
    if (hit)
      return pick([
        { offset: hit.index!, removed: hit[0].length, inserted: '"cache_fil"' },
        { offset: hit.index!, removed: 0, inserted: '"cache_file": "b_windows.npz", ' },
        { offset: hit.index! + 1, removed: 0, inserted: 'é' },
      ]);
  }
  // Whitespace between tokens, anywhere.
  const hit = at(/[,:] /g);
  if (hit) return { offset: hit.index! + 1, removed: 0, inserted: pick(['  ', '\n', '\t', '\r\n']) };
  return { offset: 0, removed: 0, inserted: '' };
}

const apply = (text: string, e: { offset: number; removed: number; inserted: string }) =>
  text.slice(0, e.offset) + e.inserted + text.slice(e.offset + e.removed);

test('a re-parse after random edits equals a whole parse of the new text', () => {
  let reparsed = 0;
  let eligible = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const random = mulberry32(seed);
    let text = randomManifest(random, 6 + Math.floor(random() * 60));
    let parsed = parseManifest(text);
    const undo: { offset: number; removed: number; inserted: string }[] = [];
    for (let step = 0; step < 60; step++) {
      let edit = randomEdit(random, text);
      // The last edit taken back: often when it broke the JSON (restored), now and then otherwise.
      const broken = !reparseStateOf(parsed);
      if (undo.length && random() < (broken ? 0.7 : 0.15)) edit = undo.pop()!;
      else
        undo.push({
          offset: edit.offset,
          removed: edit.inserted.length,
          inserted: text.substr(edit.offset, edit.removed),
        });
      const next = apply(text, edit);
      const quick = reparseManifest(parsed, next, {
        offset: edit.offset,
        removed: edit.removed,
        inserted: edit.inserted.length,
      });
      const whole = parseManifest(next);
      if (!broken) eligible++;
      if (quick) {
        reparsed++;
        assert.deepEqual(plainParse(quick), plainParse(whole), `seed ${seed} step ${step}: ${JSON.stringify(edit)}`);
      }
      text = next;
      parsed = quick ?? whole;
    }
  }
  // The re-parse must really be taken, for most edits made to a parse that allows it.
  assert.ok(reparsed > eligible / 2, `${reparsed} of ${eligible} edits re-parsed`);
});

test('edits that cannot be re-parsed with certainty are left to a whole parse', () => {
  const text = randomManifest(mulberry32(7), 12);
  const parsed = parseManifest(text);
  const at = (s: string) => text.indexOf(s);
  const cases = [
    { offset: at('"partial_seizure"') + 1, removed: 1, inserted: 'P' }, // a root key
    { offset: at('['), removed: 1, inserted: '' }, // the list's bracket
    { offset: at('"window_idx": ') + 14, removed: 1, inserted: 'NaN' }, // Python reads it, strict JSON does not
    { offset: at('}') + 1, removed: 1, inserted: '' }, // the comma between two entries
    { offset: at('{"cache_file"'), removed: 0, inserted: '5, ' }, // an item that is not an entry
  ];
  for (const edit of cases) {
    const next = apply(text, edit);
    assert.equal(
      reparseManifest(parsed, next, { ...edit, inserted: edit.inserted.length }),
      undefined,
      JSON.stringify(edit),
    );
  }
  // A broken text's parse keeps no state: the next edit is parsed whole too.
  const broken = parseManifest(apply(text, cases[3]));
  const edit = { offset: at('"window_idx": ') + 14, removed: 1, inserted: '5' };
  assert.equal(reparseManifest(broken, apply(apply(text, cases[3]), edit), { ...edit, inserted: 1 }), undefined);
});

test('an entry inserted with a new name takes its place in the first-appearance order of files', () => {
  const text =
    '{"partial_seizure": [{"cache_file": "a.npz", "window_idx": 0}, {"cache_file": "b.npz", "window_idx": 1}], "full_seizure": [], "no_seizure": []}';
  const parsed = parseManifest(text);
  const offset = text.indexOf('}') + 1;
  const inserted = ', {"cache_file": "new.npz", "window_idx": 2}';
  const next = apply(text, { offset, removed: 0, inserted });
  const quick = reparseManifest(parsed, next, { offset, removed: 0, inserted: inserted.length });
  assert.ok(quick);
  assert.deepEqual(quick.files, ['a.npz', 'new.npz', 'b.npz']);
  assert.deepEqual(plainParse(quick), plainParse(parseManifest(next)));
});
