/**
 * Python's json.load semantics, against CPython itself: the exception, message and position for
 * syntax errors (hand-picked cases and thousands of mutations of a real manifest), NaN and
 * Infinity (which Python accepts), the byte-order mark, nesting past the recursion limit, and
 * bytes that are not UTF-8.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { decodeLikePython, PYTHON_JSON_MAX_DEPTH, pythonJsonError } from '../../server/src/engine/json/pythonJsonLoad';
import { manifestStats } from '../../server/src/engine/eeg/composition';
import { parseManifest, parsePlainManifest } from '../../server/src/engine/eeg/manifestParse';
import { parseDatasetInfo } from '../../server/src/engine/arc/datasetInfo';
import { pythonWith, runPython, tempDir } from '../support/python';

const python = pythonWith('json');
const skip = !python && 'python3 not found';

/** Python's verdict per text: null when json.loads loads it, else [exception, message, pos]. */
function pythonVerdicts(texts: string[]): ([string, string, number] | null)[] {
  const script = `
import json, sys
out = []
for s in json.load(sys.stdin):
    try:
        json.loads(s); out.append(None)
    except json.JSONDecodeError as e: out.append(['json.JSONDecodeError', str(e), e.pos])
    except RecursionError as e: out.append(['RecursionError', str(e), -1])
print(json.dumps(out))
`;
  return JSON.parse(
    execFileSync(python!, ['-c', script], { input: JSON.stringify(texts), encoding: 'utf8', maxBuffer: 64 << 20 }),
  );
}

/** Our verdict in Python's terms (the position as a code-point index). */
function ours(text: string): [string, string, number] | null {
  const error = pythonJsonError(text);
  if (!error) return null;
  return [
    error.exception,
    error.message,
    error.exception === 'RecursionError' ? -1 : [...text.slice(0, error.offset)].length,
  ];
}

const CASES = [
  '',
  ' ',
  '{',
  '{"a"',
  '{"a":',
  '{"a": 1',
  '{"a": 1,',
  '{"a": 1,}',
  '[1,]',
  '[1 2]',
  '{"a" 1}',
  '{1: 2}',
  '"abc',
  '"a\u0001b"',
  '"a\\qb"',
  '"\\u12G4"',
  '"\\u12"',
  '"\\u12',
  '"\\ud800\\u12G4"',
  '"\\ud800\\udc00"',
  '"\\ud800x"',
  '"abc\\',
  '01',
  '1.',
  '-',
  '-a',
  '1e',
  '1e+',
  '1e5',
  '1.5e-3',
  '-0',
  '[1] x',
  'NaN',
  '-Infinity',
  '[Infinity, NaN, -Infinity]',
  'nul',
  'tru',
  'Infinit',
  '\ufeff{}',
  '{"a": [1, 2',
  '[',
  ']',
  '{"a":1}}',
  '{"a": "x\ny"}',
  '  \t\n[1]  \n',
  '\u00a0[1]',
  '[1,\n2,\n]',
  '{"a": -0, "b": 1E5, "c": 1.5e-3}',
  "{'a': 1}",
  '[true, false, null]',
  '[01]',
  '[-01]',
  '[1.e5]',
  '[.5]',
  '{"a":1,"a":2}',
  '{"é": "😀", "x": [1,\n 2,, 3]}',
  '["😀😀", 1 2]',
  '[1, 2]\u2028',
  '{"a": 1 /* c */}',
  '[1e]',
  '[1E+]',
  '[1.5.5]',
  '[--1]',
  '[+1]',
  '[0x10]',
  '{"a": truefalse}',
  '{"a":"b"  "c":1}',
];

test("syntax errors: Python's message and position, for hand-picked cases", { skip }, () => {
  const expected = pythonVerdicts(CASES);
  CASES.forEach((text, i) => assert.deepEqual(ours(text), expected[i], JSON.stringify(text)));
});

test('syntax errors: Python agrees on thousands of mutations of a real manifest', { skip }, () => {
  const base = JSON.stringify(
    {
      partial_seizure: [
        { cache_file: 'a_windows.npz', window_idx: 0 },
        { cache_file: 'é_😀.npz', window_idx: 12 },
      ],
      full_seizure: [],
      no_seizure: [{ cache_file: 'b.npz', window_idx: 1.5e2 }],
    },
    null,
    2,
  );
  let seed = 12345;
  const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const pieces = [
    '{',
    '}',
    '[',
    ']',
    ',',
    ':',
    '"',
    '\\',
    'u',
    '0',
    '-',
    '.',
    'e',
    ' ',
    '\n',
    'N',
    '\u0001',
    'true',
    'x',
  ];
  const texts: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const at = random(base.length + 1);
    const kind = random(3);
    if (kind === 0) texts.push(base.slice(0, at));
    else if (kind === 1) texts.push(base.slice(0, at) + base.slice(at + 1 + random(3)));
    else texts.push(base.slice(0, at) + pieces[random(pieces.length)] + base.slice(at));
  }
  const expected = pythonVerdicts(texts);
  let errors = 0;
  texts.forEach((text, i) => {
    assert.deepEqual(ours(text), expected[i], JSON.stringify(text));
    if (expected[i]) errors++;
  });
  assert.ok(errors > 1500, `most mutations are errors (${errors})`);
});

test(
  `nesting: Python's json gives up with RecursionError at about ${PYTHON_JSON_MAX_DEPTH} levels; 100,000 levels are reported, not a crash`,
  { skip },
  () => {
    const nest = (n: number, open = '[', close = ']') => open.repeat(n) + close.repeat(n);
    // The exact limit depends on how deep the caller's stack already is: a few levels either way.
    const texts = [
      nest(PYTHON_JSON_MAX_DEPTH - 10),
      nest(PYTHON_JSON_MAX_DEPTH + 10),
      nest(100_000),
      '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000),
    ];
    const expected = pythonVerdicts(texts);
    assert.deepEqual(
      expected.map((e) => e?.[0] ?? null),
      [null, 'RecursionError', 'RecursionError', 'RecursionError'],
    );
    texts.forEach((text, i) =>
      assert.deepEqual(ours(text)?.slice(0, 2), expected[i]?.slice(0, 2) ?? undefined, `case ${i}`),
    );
    assert.equal(pythonJsonError(texts[2])!.offset, PYTHON_JSON_MAX_DEPTH, 'on the bracket that goes too deep');
  },
);

/** Random JSON values with what strict JSON allows at its edges: escapes, surrogates, odd numbers, every whitespace. */
function randomJsonTexts(count: number, seed: number): string[] {
  const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const space = () => [' ', '', '\t', '\n', '\r\n', '  '][random(6)];
  const strings = [
    '"a"',
    '"\\u0000"',
    '"\\ud800"',
    '"\\udc00x"',
    '"\\ud83d\\ude00"',
    '"\\"\\\\\\/\\b\\f\\n\\r\\t"',
    '"é😀\u2028"',
    '""',
  ];
  const numbers = ['0', '-0', '1e400', '-1E-400', '0.5e+3', '123456789012345678901234567890', '-7.25'];
  const value = (depth: number): string => {
    const kind = depth > 3 ? random(3) : random(5);
    if (kind === 0) return strings[random(strings.length)];
    if (kind === 1) return numbers[random(numbers.length)];
    if (kind === 2) return ['true', 'false', 'null'][random(3)];
    const items = Array.from({ length: random(4) }, () =>
      kind === 3 ? value(depth + 1) : `${strings[random(strings.length)]}${space()}:${space()}${value(depth + 1)}`,
    );
    const [open, close] = kind === 3 ? ['[', ']'] : ['{', '}'];
    return `${open}${space()}${items.join(`${space()},${space()}`)}${space()}${close}`;
  };
  const pieces = ['NaN', 'Infinity', '-Infinity', '\ufeff', ',', '\u0001', '"', '\\', '1', ' '];
  return Array.from({ length: count }, () => {
    const text = `${space()}{"no_seizure": [${value(0)}], "x": ${value(0)}}${space()}`;
    if (random(3) > 0) return text;
    const at = random(text.length + 1);
    return text.slice(0, at) + pieces[random(pieces.length)] + text.slice(at);
  });
}

test(
  'every text the fast manifest parser takes is one json.loads reads (analyzeText then skips the scan for its error)',
  { skip },
  () => {
    const nested = (levels: number) => `{"no_seizure": ${'['.repeat(levels)}${']'.repeat(levels)}}`;
    const texts = [
      ...CASES,
      ...randomJsonTexts(3000, 777),
      nested(254),
      nested(255),
      nested(300),
      nested(1000),
      '\ufeff{"no_seizure": []}',
      '{"no_seizure": [NaN]}',
      '{"no_seizure": [], "x": -Infinity}',
    ];
    const verdicts = pythonVerdicts(texts);
    let taken = 0;
    let refused = 0;
    texts.forEach((text, i) => {
      if (parsePlainManifest(text) === undefined) return void (verdicts[i] === null && refused++);
      taken++;
      assert.equal(verdicts[i], null, JSON.stringify(text));
    });
    assert.ok(taken > 1500, `most texts are taken (${taken})`);
    // Python reads some the fast parser leaves to the full path: NaN, Infinity, nesting past 256.
    assert.ok(refused > 0, 'the two are not the same test');
  },
);

test('bytes that are not UTF-8: the UnicodeDecodeError json.load raises when reading the file', { skip }, () => {
  const samples = [
    [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x20, 0x22, 0xff, 0x22, 0x7d], // invalid start byte
    [0x5b, 0x22, 0xc3, 0x28, 0x22, 0x5d], // invalid continuation
    [0x5b, 0x22, 0xe2, 0x82], // unexpected end of data
    [0x5b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x5d], // an encoded surrogate
    [0x5b, 0x22, 0xf0, 0x9f, 0x98, 0x80, 0xe0, 0x80, 0x80, 0x22, 0x5d], // an emoji, then an overlong
    [0x5b, 0x22, 0xf4, 0x90, 0x80, 0x80, 0x22, 0x5d], // beyond U+10FFFF
    [0x5b, 0x22, 0xc3, 0xa9, 0x22, 0x5d], // valid
  ].map((b) => Uint8Array.from(b));
  const script = `
import json, sys, tempfile
out = []
for sample in json.loads(sys.argv[1]):
    with tempfile.NamedTemporaryFile('wb', delete=False, dir=sys.argv[2]) as f: f.write(bytes(sample))
    try:
        json.load(open(f.name, encoding='utf-8')); out.append(None)
    except UnicodeDecodeError as e: out.append(str(e))
    except json.JSONDecodeError as e: out.append('json: ' + str(e))
print(json.dumps(out))
`;
  // The samples are written into a folder of ours, removed with the others.
  const expected = runPython<(string | null)[]>(python!, script, [
    JSON.stringify(samples.map((s) => [...s])),
    tempDir(),
  ]);
  samples.forEach((bytes, i) => {
    const decoded = decodeLikePython(bytes);
    const mine = decoded.error
      ? decoded.error.message
      : pythonJsonError(decoded.text)
        ? `json: ${pythonJsonError(decoded.text)!.message}`
        : null;
    assert.equal(mine, expected[i], `sample ${i}`);
  });
  assert.equal(decodeLikePython(samples[0]).error!.offset, 7);
});

test(
  'window_idx as BalancedSeizureDataset reads it: int() of what json.load gives, and the last of duplicate keys',
  { skip },
  () => {
    const literals = [
      '0',
      '3',
      '-1',
      '1.0',
      '2e0',
      '1.5',
      '-2.7',
      '1e20',
      '"3"',
      '" 4 "',
      '"+5"',
      '"1_0"',
      '"3.0"',
      '"x"',
      'true',
      'false',
      'null',
      '[]',
      '{}',
      'NaN',
      'Infinity',
      '-Infinity',
      '1e400',
    ];
    const script = `
import json, sys
out = []
for literal in json.loads(sys.argv[1]):
    item = json.loads('{"cache_file": "a.npz", "window_idx": 7, "window_idx": ' + literal + '}')  # the last key wins
    try: out.append(['ok', int(item["window_idx"])])
    except Exception as e: out.append(['raises', type(e).__name__])
print(json.dumps(out))
`;
    const expected = runPython<[string, string | number][]>(python!, script, [JSON.stringify(literals)]);
    literals.forEach((literal, i) => {
      const text = `{"partial_seizure": [{"cache_file": "a.npz", "window_idx": 7, "window_idx": ${literal}}], "full_seizure": [], "no_seizure": []}`;
      const parsed = parseManifest(text);
      const message = parsed.schema.map((d) => d.message).join(' ');
      const [outcome, value] = expected[i];
      if (outcome === 'ok') {
        // Python ints beyond 2^53 are exact there; here they only need to be out of any cache's range.
        assert.equal(parsed.entries.window.at(0), Number(value), literal);
        assert.ok(
          parsed.schema.every((d) => d.severity !== 'error'),
          `${literal}: ${message}`,
        );
      } else {
        assert.ok(Number.isNaN(parsed.entries.window.at(0)), literal);
        assert.match(message, new RegExp(`int\\(\\) raises ${value}`), literal);
      }
    });
  },
);

test('duplicate category keys: statistics count only the last list, as json.load keeps it', { skip }, () => {
  const text =
    '{"partial_seizure": [{"cache_file": "a.npz", "window_idx": 0}, {"cache_file": "a.npz", "window_idx": 1}], "full_seizure": [], "no_seizure": [{"cache_file": "a.npz", "window_idx": 2}], "partial_seizure": [{"cache_file": "a.npz", "window_idx": 3}]}';
  const loaded = runPython<Record<string, unknown[]>>(
    python!,
    'import json, sys\nprint(json.dumps(json.loads(sys.argv[1])))',
    [text],
  );
  const stats = manifestStats(parseManifest(text), [true]);
  assert.deepEqual(stats.windows, {
    partial_seizure: loaded.partial_seizure.length,
    full_seizure: loaded.full_seizure.length,
    no_seizure: loaded.no_seizure.length,
  });
  assert.equal(stats.windows.partial_seizure, 1);
});

test('duplicate keys in dataset_info.json: the lists arc-meshchop reads are the last ones', { skip }, () => {
  const text =
    '{"image_paths": ["a.nii.gz"], "mask_paths": [null], "lesion_volumes": [1], "acquisition_types": ["space_2x"], "subject_ids": ["first"], "image_paths": ["b.nii.gz"], "subject_ids": ["last"]}';
  const loaded = runPython<{ image_paths: string[]; subject_ids: string[] }>(
    python!,
    'import json, sys\nprint(json.dumps(json.loads(sys.argv[1])))',
    [text],
  );
  const parsed = parseDatasetInfo(text);
  assert.deepEqual(
    parsed.samples.map((s) => [s.image?.value, s.subject?.value]),
    [[loaded.image_paths[0], loaded.subject_ids[0]]],
  );
});
