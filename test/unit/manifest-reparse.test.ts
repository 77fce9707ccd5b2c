/**
 * An edit's re-parse (manifestReparse.ts) must give exactly what a whole parse of the new text
 * gives: random edits (values, names, whole entries, stray brackets and quotes that break the
 * JSON and edits that restore it, multi-byte characters) applied one after another, each result
 * compared with a fresh parse. The chain carries on from each result, so a wrong state shows up
 * in later edits too, and the previous parse must stay as it was (columns an edit leaves alone are
 * shared with it).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParsedManifest, parseManifest, reparseStateOf } from '../../server/src/engine/eeg/manifestParse';
import { reparseManifest } from '../../server/src/engine/eeg/manifestReparse';
import { mulberry32 } from '../support/arcSamples';
import { applyEdit as apply, randomEdit, randomManifest } from '../support/manifestEdits';

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

type Edit = { offset: number; removed: number; inserted: string };

/**
 * A random edit of `text`, or (with chance `undoChance`, when there is one) the last edit taken
 * back; an edit made is remembered for taking back. A chance of 0 or 1 draws no random number.
 */
function editOrUndo(random: () => number, text: string, undo: Edit[], undoChance: number): Edit {
  const edit = randomEdit(random, text);
  const takeBack = undo.length > 0 && (undoChance >= 1 || (undoChance > 0 && random() < undoChance));
  if (takeBack) return undo.pop()!;
  undo.push({ offset: edit.offset, removed: edit.inserted.length, inserted: text.substr(edit.offset, edit.removed) });
  return edit;
}

/** `parsed` re-parsed after `edit` made `next` of its text. */
const reparseAfter = (parsed: ParsedManifest, next: Parameters<typeof reparseManifest>[1], edit: Edit) =>
  reparseManifest(parsed, next, { offset: edit.offset, removed: edit.removed, inserted: edit.inserted.length });

test('a re-parse after random edits equals a whole parse of the new text', () => {
  let reparsed = 0;
  let eligible = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const random = mulberry32(seed);
    let text = randomManifest(random, 6 + Math.floor(random() * 60));
    let parsed = parseManifest(text);
    const undo: Edit[] = [];
    for (let step = 0; step < 60; step++) {
      // The last edit taken back: often when it broke the JSON (restored), now and then otherwise.
      const broken = !reparseStateOf(parsed);
      const edit = editOrUndo(random, text, undo, broken ? 0.7 : 0.15);
      const next = apply(text, edit);
      const before = plainParse(parsed);
      const quick = reparseAfter(parsed, next, edit);
      const whole = parseManifest(next);
      // Read through ranges (an editor's document: only the edited stretch made one string), the same parse.
      const source = { length: next.length, slice: (from: number, to: number) => next.slice(from, to) };
      const viaSource = reparseAfter(parsed, source, edit);
      assert.deepEqual(
        viaSource && plainParse(viaSource),
        quick && plainParse(quick),
        `seed ${seed} step ${step}: ranges`,
      );
      // The re-parse shares the columns it leaves as they were: the previous parse must not change.
      assert.deepEqual(plainParse(parsed), before, `seed ${seed} step ${step}: the previous parse changed`);
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

test('a re-parse of a manifest of several column chunks equals a whole parse, and leaves the previous parse as it was', () => {
  for (let seed = 1; seed <= 2; seed++) {
    const random = mulberry32(100 + seed);
    // Over two chunks of 4,096 entries: edits land in different chunks and move the later ones.
    let text = randomManifest(random, 9000);
    let parsed = parseManifest(text);
    let reparsed = 0;
    const undo: Edit[] = [];
    for (let step = 0; step < 40; step++) {
      // An edit that broke the JSON is taken back (the next edits re-parse again), as in the test above.
      const edit = editOrUndo(random, text, undo, !reparseStateOf(parsed) ? 1 : 0);
      const next = apply(text, edit);
      const before = plainParse(parsed);
      const quick = reparseAfter(parsed, next, edit);
      const whole = parseManifest(next);
      assert.deepEqual(plainParse(parsed), before, `seed ${seed} step ${step}: the previous parse changed`);
      if (quick) {
        reparsed++;
        assert.deepEqual(plainParse(quick), plainParse(whole), `seed ${seed} step ${step}: ${JSON.stringify(edit)}`);
      }
      text = next;
      parsed = quick ?? whole;
    }
    assert.ok(reparsed > 10, `${reparsed} edits re-parsed`);
  }
});
