/**
 * The fast manifest parser must give exactly what the jsonc-parser path gives (same entries,
 * offsets and schema diagnostics), and hand anything else to jsonc-parser.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseManifest, parseManifestWithJsonc } from '../../server/src/engine/eeg/manifestParse';

const cases = [
  JSON.stringify(
    {
      partial_seizure: [{ cache_file: 'a_windows.npz', window_idx: 0 }],
      full_seizure: [],
      no_seizure: [{ cache_file: 'b.npz', window_idx: 3 }],
    },
    null,
    2,
  ),
  '{"partial_seizure":[{"cache_file":"caf\\u00e9 \\"x\\".npz","window_idx":1e0},{"window_idx":-1,"cache_file":"../up.npz"}],"note":{"deep":[true,false,null,1.5e-3]},"no_seizure":{}}',
  '{"full_seizure": [ {"cache_file": 7, "window_idx": 2.5}, [], "x", null ], "extra": "ünïcode ✓ 😀"}',
  '\t{ "no_seizure" : [ { "cache_file" : "z.npz" , "window_idx" : 0 } ] }\r\n',
  '[1, 2, 3]',
  '{"name": "a browser extension", "manifest_version": 3}',
];
const broken = ['{"partial_seizure": [', '{"a": 1,}', '// comment\n{}', '{"a": 01}', '{"a": "\\x"}', '', '{"a": tru}'];

function plain(parsed: ReturnType<typeof parseManifest>) {
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

test('the fast path and jsonc-parser agree on valid JSON', () => {
  for (const text of cases) assert.deepEqual(plain(parseManifest(text)), plain(parseManifestWithJsonc(text)), text);
});

test('invalid JSON falls back to jsonc-parser and its exact errors', () => {
  for (const text of broken) {
    const parsed = parseManifest(text);
    assert.deepEqual(plain(parsed), plain(parseManifestWithJsonc(text)), text);
  }
  assert.ok(parseManifest('{"partial_seizure": [').schema.some((d) => /Invalid JSON/.test(d.message)));
});
