/**
 * The streaming parser the stdio reader uses for large messages (server/src/stdio/streamingJsonParse.ts)
 * gives exactly JSON.parse(body.toString('utf8')) for every body, whatever its chunking: random
 * valid texts (every escape, lone surrogates, invalid UTF-8, numbers of every shape, `__proto__`
 * and repeated keys), strings longer than its scratch buffer, deep nesting; and it rejects
 * exactly the bodies JSON.parse rejects (handwritten invalid ones, random damage to valid ones).
 * Replay a failure with NEUROCACHE_JSON_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StreamingJsonParser } from '../../server/src/stdio/streamingJsonParse';
import { assertSame, chunked, prng, RandomJson } from '../support/randomJson';

const SEED = Number(process.env.NEUROCACHE_JSON_SEED ?? 20260611);

type Outcome = { value: unknown } | { error: unknown };

function streamed(body: Buffer, chunks: Buffer[]): Outcome {
  const parser = new StreamingJsonParser(body.length);
  try {
    for (const chunk of chunks) parser.push(chunk);
    return { value: parser.end() };
  } catch (error) {
    return { error };
  }
}

function reference(body: Buffer): Outcome {
  try {
    return { value: JSON.parse(body.toString('utf8')) };
  } catch (error) {
    return { error };
  }
}

/** Both accept with the same value, or both reject (the streaming parser with a SyntaxError). */
function assertAgrees(body: Buffer, chunks: Buffer[], what: string): void {
  const expected = reference(body);
  const actual = streamed(body, chunks);
  const shown = `${what}: ${JSON.stringify(body.toString('latin1').slice(0, 300))}`;
  if ('error' in expected) {
    assert.ok('error' in actual, `JSON.parse rejects, the streaming parser accepts ${shown}`);
    assert.ok(actual.error instanceof SyntaxError, `not a SyntaxError (${String(actual.error)}) for ${shown}`);
    return;
  }
  assert.ok(
    'value' in actual,
    `JSON.parse accepts, the streaming parser rejects (${String((actual as { error: unknown }).error)}) ${shown}`,
  );
  assertSame(actual.value, expected.value, shown);
}

test('random JSON texts parse to what JSON.parse makes of them, in every chunking', () => {
  const random = prng(SEED);
  const json = new RandomJson(random);
  for (let i = 0; i < 3000; i++) {
    const body = json.text(1 + json.int(6));
    assertAgrees(body, chunked(body, random), `seed ${SEED} text ${i}`);
  }
});

test('every text also parses in 1-byte chunks', () => {
  const random = prng(SEED + 1);
  const json = new RandomJson(random);
  for (let i = 0; i < 500; i++) {
    const body = json.text(4);
    assertAgrees(body, chunked(body, random, 0), `seed ${SEED + 1} text ${i}`);
  }
});

test('strings longer than the scratch buffer, several in one body, in random chunkings', () => {
  const random = prng(SEED + 2);
  const json = new RandomJson(random);
  for (let i = 0; i < 40; i++) {
    const body = json.text(3, { longStrings: true });
    assertAgrees(body, chunked(body, random, 1 + json.int(3)), `seed ${SEED + 2} text ${i}`);
  }
});

test('one large string: the text of a big document as a didOpen carries it', () => {
  const random = prng(SEED + 3);
  const json = new RandomJson(random);
  const pieces: string[] = [];
  for (let i = 0; i < 20_000; i++) pieces.push(`{\n  "cache_file": "c${i}_é😀_windows.npz",\n\t"window_idx": ${i}\n},`);
  const text = pieces.join('') + '\uD800 \uDC00 \u2028';
  const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', method: 'textDocument/didOpen', params: { text } }));
  const outcome = streamed(body, chunked(body, random, 1 + json.int(2)));
  assert.ok('value' in outcome);
  assert.equal((outcome.value as { params: { text: string } }).params.text, text);
});

test('nesting of any depth, as JSON.parse allows', () => {
  for (const [open, close] of [
    ['[', ']'],
    ['{"a":', '}'],
  ]) {
    const depth = 200_000;
    const body = Buffer.from(open.repeat(depth) + '1' + close.repeat(depth));
    const outcome = streamed(body, chunked(body, prng(depth), 2));
    assert.ok('value' in outcome);
    let v = outcome.value as unknown;
    for (let d = 0; d < depth; d++) v = open === '[' ? (v as unknown[])[0] : (v as { a: unknown }).a;
    assert.equal(v, 1);
  }
});

test('__proto__ keys are own properties and leave the prototype alone; the last repeated key wins', () => {
  const body = Buffer.from(
    '{"__proto__": {"polluted": 1}, "a": 1, "\\u005f_proto__": [2], "a": 3, "b": {"__proto__": null}}',
  );
  const outcome = streamed(body, [body]);
  assert.ok('value' in outcome);
  assertSame(outcome.value, JSON.parse(body.toString()));
  const value = outcome.value as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(value), Object.prototype);
  assert.deepEqual(Object.keys(value), ['__proto__', 'a', 'b']);
  assert.equal(value.a, 3);
  assert.deepEqual(Object.getOwnPropertyDescriptor(value, '__proto__')?.value, [2]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('invalid UTF-8 next to escapes and string ends decodes to the same replacement characters', () => {
  const cases = [
    [0x22, 0xc3, 0x5c, 0x6e, 0x22], // lead byte, then \n
    [0x22, 0xe2, 0x82, 0x5c, 0x75, 0x30, 0x30, 0x65, 0x39, 0x22], // truncated 3-byte, then \u00e9
    [0x22, 0xf0, 0x9f, 0x22], // truncated 4-byte at the string's end
    [0x22, 0x5c, 0x75, 0x30, 0x30, 0x65, 0x39, 0xa9, 0x22], // \u00e9, then a stray continuation byte
    [0x22, 0xed, 0xa0, 0x80, 0x5c, 0x75, 0x64, 0x63, 0x30, 0x30, 0x22], // encoded surrogate, then \udc00
    [0x22, 0xc3, 0x5c, 0x75, 0x64, 0x38, 0x30, 0x30, 0x22], // lead byte, then a lone \ud800
  ];
  for (const bytes of cases) {
    const body = Buffer.from([0x5b, ...bytes, 0x2c, ...bytes, 0x5d]);
    for (let split = 1; split < body.length; split++)
      assertAgrees(body, [body.subarray(0, split), body.subarray(split)], `split at ${split}`);
  }
});

const INVALID = [
  '',
  ' ',
  '01',
  '-01',
  '-',
  '1.',
  '1.e5',
  '.5',
  '+1',
  '1e',
  '1e+',
  '0x10',
  'NaN',
  'Infinity',
  '-Infinity',
  'tru',
  'truex',
  'nul',
  'nulll',
  'True',
  '"abc',
  '"\\x"',
  '"\\u12G4"',
  '"\\u123"',
  '"\\U0041"',
  '"\\',
  '"a\u0001b"',
  '"a\nb"',
  '"a\tb"',
  '"\u001f"',
  '[1,]',
  '[1 2]',
  '[,1]',
  '[',
  ']',
  '{"a":1,}',
  '{"a" 1}',
  '{a:1}',
  "{'a':1}",
  '{"a":1',
  '{"a"}',
  '{,}',
  '{"a":1}}',
  '[1]]',
  '1 2',
  '"a" "b"',
  '// c\n1',
  '/* c */1',
  '\uFEFF1',
  '\u00a01',
  '\u20281',
  '\f1',
  '\v1',
  '[1]x',
  '{"a":1}garbage',
];

test('the bodies JSON.parse rejects are rejected, in any chunking', () => {
  const random = prng(SEED + 4);
  for (const text of INVALID) {
    const body = Buffer.from(text);
    assert.throws(() => JSON.parse(text), SyntaxError, `JSON.parse accepts ${JSON.stringify(text)}`);
    for (let mode = 0; mode < 4; mode++) assertAgrees(body, chunked(body, random, mode), JSON.stringify(text));
  }
});

test('damaged valid texts (truncated, extended, a byte changed, inserted or deleted) are judged as JSON.parse judges them', () => {
  const random = prng(SEED + 5);
  const json = new RandomJson(random);
  const garbage = [...'{}[]",:0123456789.eE+-truefalsn \\/u\t\n\r'].map((c) => c.charCodeAt(0)).concat([0, 0x80, 0xff]);
  for (let i = 0; i < 3000; i++) {
    const valid = json.text(3);
    const at = json.int(valid.length + 1);
    const byte = json.int(3) === 0 ? json.int(256) : json.pick(garbage);
    const damaged = [
      () => valid.subarray(0, at),
      () => Buffer.concat([valid, Buffer.from([byte])]),
      () => Buffer.concat([valid.subarray(0, at), Buffer.from([byte]), valid.subarray(at)]),
      () => Buffer.concat([valid.subarray(0, at), valid.subarray(at + 1)]),
      () => Buffer.concat([valid.subarray(0, at), Buffer.from([byte]), valid.subarray(at + 1)]),
    ][json.int(5)]();
    assertAgrees(damaged, chunked(damaged, random), `seed ${SEED + 5} text ${i}`);
  }
});

test('the body length is a promise: more or fewer bytes are a caller error, not a parse', () => {
  const parser = new StreamingJsonParser(2);
  assert.throws(() => parser.push(Buffer.from('[1]')), RangeError);
  const short = new StreamingJsonParser(3);
  short.push(Buffer.from('[1'));
  assert.throws(() => short.end(), RangeError);
});

test('long strings are unescaped into one buffer, sized once from the bytes still to come: no growing copies', () => {
  const random = prng(SEED + 6);
  const json = new RandomJson(random);
  const text = 'x\\n\\"'.repeat(300_000);
  const body = Buffer.from(
    `{"a": "${text}", "b": ["${text}", ${json.text(2).toString('latin1')}, "${text}"]}`,
    'latin1',
  );
  const allocUnsafe = Buffer.allocUnsafe;
  const large: number[] = [];
  Buffer.allocUnsafe = (size: number) => {
    if (size > 64 * 1024) large.push(size);
    return allocUnsafe(size);
  };
  try {
    assertAgrees(body, chunked(body, random, 2), 'three long strings');
  } finally {
    Buffer.allocUnsafe = allocUnsafe;
  }
  assert.equal(large.length, 1, `large buffers allocated: ${large.join(', ')}`);
  assert.ok(large[0] <= body.length + 64, `a buffer of ${large[0]} bytes for a body of ${body.length}`);
});
