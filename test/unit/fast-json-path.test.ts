/**
 * The fast JSON path is actually taken: on plain JSON `visitPlainJson` must not give up, and
 * must report exactly jsonc-parser's events (values, offsets, lengths); on anything else it
 * must give up so that jsonc-parser reports the error. (Forcing it to always give up would
 * leave the manifest results unchanged, only slower: this test is what notices.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { visit } from 'jsonc-parser';
import { NotPlainJson, visitPlainJson } from '../../server/src/engine/json/fastJson';

type Event = [string, ...unknown[]];

function recorder(): { events: Event[]; visitor: Parameters<typeof visitPlainJson>[1] } {
  const events: Event[] = [];
  return {
    events,
    visitor: {
      onObjectBegin: (offset, length) => void events.push(['{', offset, length]),
      onObjectEnd: (offset, length) => void events.push(['}', offset, length]),
      onArrayBegin: (offset, length) => void events.push(['[', offset, length]),
      onArrayEnd: (offset, length) => void events.push([']', offset, length]),
      onObjectProperty: (name, offset, length) => void events.push(['key', name, offset, length]),
      onLiteralValue: (value, offset, length) => void events.push(['value', value, offset, length]),
    },
  };
}

const manifest = (n: number) =>
  JSON.stringify(
    {
      partial_seizure: Array.from({ length: n }, (_, i) => ({
        cache_file: `sub-${String(i % 50).padStart(3, '0')}_windows.npz`,
        window_idx: i % 30,
      })),
      full_seizure: [],
      no_seizure: [{ cache_file: 'caf\u00e9 "q".npz', window_idx: 0 }],
    },
    null,
    2,
  );

const PLAIN = [
  manifest(3000),
  '{"partial_seizure":[{"cache_file":"a\\u00e9\\n.npz","window_idx":1e0}],"x":{"deep":[true,false,null,-0.5e-3,0,12]}}',
  '\t{ "no_seizure" : [ ] }\r\n',
  '[]',
  '"just a string"',
  '{"extra": "ünïcode ✓ 😀"}',
];
const NOT_PLAIN = [
  '{"a": 1,}',
  '// comment\n{}',
  '{"a": 01}',
  '{"a": "\\x"}',
  '',
  '{"a": tru}',
  '{"a": 1} {',
  '{"a": "tab\there"}',
  '{"a": NaN}',
  '{"partial_seizure": [',
];

test("plain JSON takes the fast path and reports exactly jsonc-parser's events", () => {
  for (const text of PLAIN) {
    const fast = recorder();
    assert.doesNotThrow(() => visitPlainJson(text, fast.visitor), `gave up on plain JSON: ${text.slice(0, 60)}`);
    const reference = recorder();
    visit(text, reference.visitor, { disallowComments: true, allowTrailingComma: false });
    assert.ok(fast.events.length > 0);
    assert.deepEqual(fast.events, reference.events, text.slice(0, 60));
  }
});

test('anything but plain JSON makes the fast path give up', () => {
  for (const text of NOT_PLAIN)
    assert.throws(() => visitPlainJson(text, recorder().visitor), NotPlainJson, JSON.stringify(text));
});
