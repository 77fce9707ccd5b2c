/**
 * Queued edits applied in one pass give exactly what applying them one by one with
 * vscode-languageserver-textdocument gives (line breaks \n, \r\n and \r, positions past a
 * line's end or the last line, inverted ranges), and a burst costs one text rebuild.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { applyChanges, ContentChange, OpenDocument, TextSnapshot } from '../../server/src/service/textDocument';

/** A small deterministic generator (tests must not depend on Math.random). */
function generator(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state % n;
  };
}

const PIECES = ['a', 'bc', '\n', '\r\n', '\r', '', '{"x": 1}', '😀', ' '];

test('batched edits equal edits applied one by one, for every kind of line break', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const next = generator(seed);
    const piece = () => PIECES[next(PIECES.length)];
    let initial = '';
    for (let i = next(12); i > 0; i--) initial += piece();
    const reference = TextDocument.create('file:///x.json', 'json', 1, initial);
    const changes: ContentChange[] = [];
    let expected = reference;
    for (let i = 0; i < 1 + next(8); i++) {
      const lines = expected.lineCount;
      const position = () => ({ line: next(lines + 2), character: next(6) });
      let text = '';
      for (let j = next(3); j > 0; j--) text += piece();
      const change: ContentChange = next(10) === 0 ? { text } : { range: { start: position(), end: position() }, text };
      changes.push(change);
      expected = TextDocument.update(
        TextDocument.create(expected.uri, 'json', expected.version, expected.getText()),
        [change],
        expected.version + 1,
      );
    }
    assert.equal(
      applyChanges(initial, changes),
      expected.getText(),
      `seed ${seed}: ${JSON.stringify({ initial, changes })}`,
    );
  }
});

test('snapshots map offsets and positions as vscode-languageserver-textdocument does', () => {
  const text = 'a\r\nbc\rd\n\n😀e\r';
  const ours = new TextSnapshot(text, 1);
  const reference = TextDocument.create('file:///x.json', 'json', 1, text);
  for (let line = -1; line < 8; line++) {
    for (let character = -1; character < 6; character++) {
      assert.equal(ours.offsetAt({ line, character }), reference.offsetAt({ line, character }), `${line}:${character}`);
    }
  }
  for (let offset = -1; offset <= text.length + 1; offset++)
    assert.deepEqual(ours.positionAt(offset), reference.positionAt(offset), `offset ${offset}`);
});

test('line starts as vscode-languageserver-textdocument finds them, with LF, CRLF and lone CR breaks alike', () => {
  // Without a lone CR the breaks are found by indexOf('\n'); with one, character by character.
  const kinds = [PIECES, PIECES.filter((p) => p !== '\r'), PIECES.filter((p) => !p.includes('\r'))];
  for (let seed = 1; seed <= 600; seed++) {
    const next = generator(seed);
    const pieces = kinds[seed % kinds.length];
    let text = '';
    for (let i = next(40); i > 0; i--) text += pieces[next(pieces.length)];
    const ours = new TextSnapshot(text, 1);
    const reference = TextDocument.create('file:///x.json', 'json', 1, text);
    assert.equal(ours.lineStarts().count, reference.lineCount, `seed ${seed}: ${JSON.stringify(text)}`);
    for (let offset = 0; offset <= text.length; offset++)
      assert.deepEqual(ours.positionAt(offset), reference.positionAt(offset), `seed ${seed}, offset ${offset}`);
  }
});

test('a burst of edits is applied once, when the text is read', () => {
  const document = new OpenDocument('file:///m.json', 1, '{"n": 0}');
  for (let version = 2; version <= 5001; version++) {
    document.update(
      [{ range: { start: { line: 0, character: 6 }, end: { line: 0, character: 7 } }, text: String(version % 10) }],
      version,
    );
  }
  assert.equal(document.textBuilds, 0);
  const snapshot = document.snapshot();
  assert.equal(snapshot.text, '{"n": 1}');
  assert.equal(snapshot.version, 5001);
  assert.equal(document.snapshot(), snapshot, 'nothing new: the same snapshot');
  assert.equal(document.textBuilds, 1);
});

test('one edit between reads: the text and every position as a fresh scan gives, without scanning the whole text again', () => {
  for (let seed = 1; seed <= 400; seed++) {
    const next = generator(seed);
    const piece = () => PIECES[next(PIECES.length)];
    let initial = '';
    for (let i = next(14); i > 0; i--) initial += piece();
    const reference = TextDocument.create('file:///x.json', 'json', 1, initial);
    const document = new OpenDocument('file:///x.json', 1, initial);
    document.snapshot().positionAt(0); // line starts known, as after a hover
    const position = () => ({ line: next(reference.lineCount + 2), character: next(6) });
    let text = '';
    for (let j = next(3); j > 0; j--) text += piece();
    const change = { range: { start: position(), end: position() }, text };
    const scansBefore = TextSnapshot.fullScans;
    document.update([change], 2);
    const edited = document.snapshot();
    const expected = TextDocument.update(reference, [change], 2).getText();
    const context = `seed ${seed}: ${JSON.stringify({ initial, change })}`;
    assert.equal(edited.text, expected, context);
    const positions = Array.from({ length: expected.length + 1 }, (_, offset) => edited.positionAt(offset));
    assert.equal(TextSnapshot.fullScans, scansBefore, `${context}: the edited text was not scanned whole`);
    const fresh = new TextSnapshot(expected, 0);
    positions.forEach((position, offset) =>
      assert.deepEqual(position, fresh.positionAt(offset), `${context}, offset ${offset}`),
    );
  }
});

test('a burst of range edits: the text, every position and the one changed range, without scanning the whole text', () => {
  for (let seed = 1; seed <= 600; seed++) {
    const next = generator(seed);
    const piece = () => PIECES[next(PIECES.length)];
    let initial = '';
    for (let i = next(40); i > 0; i--) initial += piece();
    const document = new OpenDocument('file:///x.json', 1, initial);
    const base = document.snapshot();
    base.positionAt(0); // line starts known, as after a check
    let reference = TextDocument.create('file:///x.json', 'json', 1, initial);
    const changes: ContentChange[] = [];
    for (let i = 0; i < 1 + next(10); i++) {
      const position = () => ({ line: next(reference.lineCount + 2) - 1, character: next(6) });
      let text = '';
      for (let j = next(3); j > 0; j--) text += piece();
      const change = { range: { start: position(), end: position() }, text };
      changes.push(change);
      reference = TextDocument.update(reference, [change], reference.version + 1);
    }
    const scansBefore = TextSnapshot.fullScans;
    document.update(changes, 2);
    const edited = document.snapshot();
    const expected = reference.getText();
    const context = `seed ${seed}: ${JSON.stringify({ initial, changes })}`;
    assert.equal(edited.text, expected, context);
    const positions = Array.from({ length: expected.length + 1 }, (_, offset) => edited.positionAt(offset));
    assert.equal(TextSnapshot.fullScans, scansBefore, `${context}: the edited text was not scanned whole`);
    const fresh = new TextSnapshot(expected, 0);
    positions.forEach((position, offset) =>
      assert.deepEqual(position, fresh.positionAt(offset), `${context}, offset ${offset}`),
    );
    // The recorded change turns the base text into the new one.
    const change = edited.changeSince(base.id)!;
    const inserted = expected.slice(change.offset, change.offset + change.inserted);
    assert.equal(initial.slice(0, change.offset) + inserted + initial.slice(change.offset + change.removed), expected);
  }
});

test('a change is also told against the snapshots before: a check made from any of them can use it', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const next = generator(seed);
    const piece = () => PIECES[next(PIECES.length)];
    let initial = '';
    for (let i = next(30); i > 0; i--) initial += piece();
    const document = new OpenDocument('file:///x.json', 1, initial);
    const snapshots = [document.snapshot()];
    for (let version = 2; version < 8; version++) {
      const last = snapshots[snapshots.length - 1];
      const position = () => last.positionAt(next(last.text.length + 1));
      document.update([{ range: { start: position(), end: position() }, text: piece() }], version);
      snapshots.push(document.snapshot());
    }
    const latest = snapshots[snapshots.length - 1];
    for (const earlier of snapshots.slice(0, -1)) {
      const change = latest.changeSince(earlier.id)!;
      const context = `seed ${seed}, since version ${earlier.version}`;
      assert.ok(change, context);
      const inserted = latest.text.slice(change.offset, change.offset + change.inserted);
      assert.equal(
        earlier.text.slice(0, change.offset) + inserted + earlier.text.slice(change.offset + change.removed),
        latest.text,
        context,
      );
    }
  }
});

test('a burst of edits far apart in a large text is applied window by window, never split into lines', () => {
  const initial = Array.from({ length: 200_000 }, (_, i) => `  {"window_idx": ${i}},`).join('\n');
  const document = new OpenDocument('file:///x.json', 1, initial);
  const base = document.snapshot();
  base.positionAt(0);
  let reference = TextDocument.create('file:///x.json', 'json', 1, initial);
  const changes: ContentChange[] = [10, 150_000, 20, 199_999, 5].map((line, i) => ({
    range: { start: { line, character: 17 }, end: { line, character: 18 } },
    text: `9${i}`,
  }));
  for (const change of changes) reference = TextDocument.update(reference, [change], reference.version + 1);
  const scansBefore = TextSnapshot.fullScans;
  document.update(changes, 2);
  const edited = document.snapshot();
  assert.equal(edited.text, reference.getText());
  for (const offset of [0, 500, 4_000_000, edited.text.length])
    assert.deepEqual(edited.positionAt(offset), reference.positionAt(offset));
  assert.equal(TextSnapshot.fullScans, scansBefore);
  const change = edited.changeSince(base.id)!;
  const inserted = edited.text.slice(change.offset, change.offset + change.inserted);
  assert.equal(initial.slice(0, change.offset) + inserted + initial.slice(change.offset + change.removed), edited.text);
});
