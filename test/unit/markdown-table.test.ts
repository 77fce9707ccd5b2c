/**
 * Hover tables are markdown: a cell's own punctuation (an acquisition named `a|b`, a stratum
 * with a backquote) must show as text, never split a row or open markup.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { markdownTable } from '../../server/src/engine/report';

test('markdown punctuation in a cell is escaped, every other character kept as it is', () => {
  const every = Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i)).join('');
  const [header, rule, row] = markdownTable([
    ['Stratum', 'Samples'],
    [every, '3'],
  ]).split('\n');
  assert.equal(header, '| Stratum | Samples |');
  assert.equal(rule, '| --- | ---: |');
  const punctuation = new Set('|\\`*_<>[]');
  const escaped = [...every].map((c) => (punctuation.has(c) ? `\\${c}` : c)).join('');
  assert.equal(row, `| ${escaped} | 3 |`);
  // Each of the nine is escaped once: a row of one cell holding only them.
  const [, , only] = markdownTable([['x'], ['|\\`*_<>[]']]).split('\n');
  assert.equal(only, '| \\|\\\\\\`\\*\\_\\<\\>\\[\\] |');
});
