/**
 * A text kept as a root with replaced pieces (pieceText.ts) reads exactly as the string the
 * same replacements give: random replacements (inside, across, touching and between earlier
 * pieces, at either end), every read compared with the plain string's after each one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PieceText } from '../../server/src/service/pieceText';
import { mulberry32 } from '../support/arcSamples';

test('random replacements read as the plain string they give', () => {
  for (let seed = 1; seed <= 60; seed++) {
    const random = mulberry32(seed);
    const int = (n: number) => Math.floor(random() * n);
    let plain = Array.from({ length: 40 + int(200) }, () => 'ab\n{}é😀\ufffd'[int(9)]).join('');
    let pieces = new PieceText(plain.replaceAll('\ufffd', 'x'));
    plain = plain.replaceAll('\ufffd', 'x');
    for (let step = 0; step < 80; step++) {
      const start = int(plain.length + 1);
      const end = Math.min(plain.length, start + (random() < 0.7 ? int(4) : int(40)));
      const text = Array.from({ length: int(6) }, () => 'xy\n\ufffd'[int(random() < 0.05 ? 4 : 3)]).join('');
      pieces = pieces.replaced(start, end, text);
      plain = plain.slice(0, start) + text + plain.slice(end);
      const context = `seed ${seed} step ${step}`;
      assert.equal(pieces.length, plain.length, context);
      for (let k = 0; k < 10; k++) {
        const from = int(plain.length + 1);
        const to = from + int(30);
        assert.equal(pieces.slice(from, to), plain.slice(from, to), `${context}: slice ${from} ${to}`);
        const at = int(plain.length + 1);
        assert.ok(Object.is(pieces.charCodeAt(at), plain.charCodeAt(at)), `${context}: charCodeAt ${at}`);
      }
      assert.equal(pieces.hasReplacementCharacter(), plain.includes('\ufffd'), context);
      // Now and then made whole (as a whole parse does), and edited on from there.
      if (random() < 0.05) assert.equal(pieces.toString(), plain, context);
    }
    assert.equal(pieces.toString(), plain);
  }
});
