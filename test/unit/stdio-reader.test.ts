/**
 * The server's stdio reader (server/src/stdio/stdioMessageReader.ts) reads every byte stream as
 * vscode-jsonrpc's StreamMessageReader does: both are fed the same chunks and must hand on the
 * same messages and report the same errors in the same order. Random streams (several messages,
 * header variants, Content-Type with a charset, the odd bad header, invalid bodies) are cut into
 * random chunks, with the large-body threshold lowered so most bodies take the streaming path.
 * Then what only this reader does: a Content-Length over the bound (reported, body skipped), a
 * negative one. Replay a failure with NEUROCACHE_JSON_SEED=<seed>.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { MessageReader, StreamMessageReader } from 'vscode-languageserver/node';
import { MAX_MESSAGE_BYTES } from '../../server/src/stdio/stdioFraming';
import { StdioMessageReader, StdioMessageReaderOptions } from '../../server/src/stdio/stdioMessageReader';
import { SkippedMessage } from '../../server/src/stdio/skippedMessage';
import { assertSame, chunked, prng, RandomJson } from '../support/randomJson';

const SEED = Number(process.env.NEUROCACHE_JSON_SEED ?? 20260612);

type Event = { message: unknown } | { error: string; name: string } | { partial: unknown } | { closed: true };

function record(reader: MessageReader): Event[] {
  const events: Event[] = [];
  reader.onError((e) => events.push({ error: e.message, name: e.name }));
  reader.onPartialMessage((info) => events.push({ partial: info }));
  reader.onClose(() => events.push({ closed: true }));
  reader.listen((message) => events.push({ message }));
  return events;
}

/** Waits (on event-loop turns, not on time) until neither reader has anything left to hand on. */
async function settled(...lists: Event[][]): Promise<void> {
  for (let quiet = 0; quiet < 5;) {
    const before = lists.reduce((n, l) => n + l.length, 0);
    await new Promise((resolve) => setImmediate(resolve));
    quiet = lists.reduce((n, l) => n + l.length, 0) === before ? quiet + 1 : 0;
  }
}

/** Feeds `chunks` to the stock reader and to ours on one stream; returns what each reported. */
async function both(chunks: Buffer[], options: StdioMessageReaderOptions = {}) {
  const stream = new EventEmitter() as unknown as NodeJS.ReadableStream;
  const stockReader = new StreamMessageReader(stream);
  const oursReader = new StdioMessageReader(stream, options);
  // No partial-message timers: a stream cut short would keep both re-arming theirs (and the test process alive).
  stockReader.partialMessageTimeout = 0;
  oursReader.partialMessageTimeout = 0;
  const stock = record(stockReader);
  const ours = record(oursReader);
  for (const chunk of chunks) stream.emit('data', chunk);
  await settled(stock, ours);
  return { stock, ours };
}

/**
 * The same messages and errors in the same order. A body that is not JSON is a SyntaxError from
 * both; its text differs (JSON.parse names a character position, the streaming parser a byte).
 */
function assertSameEvents(ours: Event[], stock: Event[], what: string): void {
  assert.equal(
    ours.length,
    stock.length,
    `${what}: ${JSON.stringify(ours).slice(0, 400)} vs ${JSON.stringify(stock).slice(0, 400)}`,
  );
  stock.forEach((s, i) => {
    const o = ours[i];
    if ('message' in s) {
      assert.ok('message' in o, `${what}: event ${i} is ${JSON.stringify(o).slice(0, 200)}, not a message`);
      assertSame(o.message, s.message, `${what}: message ${i}`);
    } else if ('error' in s && s.name === 'SyntaxError')
      assert.deepEqual({ ...o, error: '' }, { ...s, error: '' }, what);
    else assert.deepEqual(o, s, `${what}: event ${i}`);
  });
}

const frame = (body: Buffer, header = `Content-Length: ${body.length}`) =>
  Buffer.concat([Buffer.from(`${header}\r\n\r\n`, 'latin1'), body]);

function randomHeader(json: RandomJson, length: number): string {
  const lines = [
    json.pick([
      `Content-Length: ${length}`,
      `content-length:${length}`,
      `CONTENT-LENGTH:   ${length}  `,
      `Content-Length: ${length}abc`,
      `Content-Length:\t${length}`,
    ]),
  ];
  if (json.int(2))
    lines.push(
      json.pick([
        'Content-Type: application/vscode-jsonrpc; charset=utf-8',
        'Content-Type: application/vscode-jsonrpc; charset=utf8',
        'Content-Type: application/json; charset=utf-16',
        'content-type:application/json',
      ]),
    );
  if (json.int(4) === 0) lines.push('X-Extra: a: b');
  if (json.int(8) === 0) lines.push(`Content-Length: ${length}`);
  return lines.sort(() => json.int(3) - 1).join('\r\n');
}

const BAD_HEADERS = [
  'Content-Type: application/vscode-jsonrpc; charset=utf-8',
  'Content-Length: abc',
  'Content-Length:',
  'Content-Length 12',
  'Content-Length: 12\r\nno colon here',
  '',
];

test('random streams read exactly as vscode-jsonrpc reads them, in every chunking', async () => {
  const random = prng(SEED);
  const json = new RandomJson(random);
  for (let i = 0; i < 400; i++) {
    const frames: Buffer[] = [];
    const count = 1 + json.int(6);
    for (let m = 0; m < count; m++) {
      let body = json.text(1 + json.int(4), { longStrings: json.int(20) === 0 });
      if (json.int(8) === 0) body = body.subarray(0, json.int(body.length + 1)); // often invalid
      if (json.int(25) === 0) frames.push(frame(body, json.pick(BAD_HEADERS)));
      else frames.push(frame(body, randomHeader(json, body.length)));
    }
    const stream = Buffer.concat(frames);
    const largeBodyBytes = json.pick([0, 1, 8, 64, 1 << 20]);
    // Both readers scan their whole buffer for the end of a header block on each chunk (the stock
    // one from its first chunk on): tiny chunks only for short streams, or the test takes minutes.
    const mode = stream.length < 4000 ? json.int(4) : stream.length < 20_000 ? 1 + json.int(3) : 2 + json.int(2);
    const { stock, ours } = await both(chunked(stream, random, mode), { largeBodyBytes });
    assertSameEvents(ours, stock, `seed ${SEED} stream ${i} (threshold ${largeBodyBytes})`);
  }
});

test('several messages in one chunk, and headers split at every byte', async () => {
  const bodies = ['{"jsonrpc":"2.0","id":1,"method":"a"}', '[1,2,3]', '"é😀\\ud800"', '{"__proto__":1}'].map((b) =>
    Buffer.from(b),
  );
  const stream = Buffer.concat(
    bodies.map((b) =>
      frame(b, `Content-Length: ${b.length}\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8`),
    ),
  );
  for (const largeBodyBytes of [0, 1 << 20]) {
    const whole = await both([stream], { largeBodyBytes });
    assert.equal(whole.ours.length, 4);
    assertSameEvents(whole.ours, whole.stock, 'one chunk');
    for (let split = 1; split < 60; split++) {
      const { stock, ours } = await both([stream.subarray(0, split), stream.subarray(split)], { largeBodyBytes });
      assert.equal(ours.length, 4);
      assertSameEvents(ours, stock, `split at ${split}`);
    }
  }
});

test('a Content-Type charset is not looked at, as by vscode-jsonrpc: bodies are UTF-8', async () => {
  const body = Buffer.from('{"text":"é"}');
  const header = `Content-Length: ${body.length}\r\nContent-Type: application/vscode-jsonrpc; charset=utf-16`;
  for (const largeBodyBytes of [0, 1 << 20]) {
    const { stock, ours } = await both([frame(body, header)], { largeBodyBytes });
    assert.deepEqual(ours, [{ message: { text: 'é' } }]);
    assertSameEvents(ours, stock, 'charset');
  }
});

test('bad header blocks are reported with vscode-jsonrpc’s errors, and reading goes on as it does', async () => {
  const next = frame(Buffer.from('{"id":2}'));
  for (const header of BAD_HEADERS) {
    for (const largeBodyBytes of [0, 1 << 20]) {
      const { stock, ours } = await both([frame(Buffer.from('{"id":1}'), header), next, next], { largeBodyBytes });
      assert.ok(
        ours.some((e) => 'error' in e),
        `no error for ${JSON.stringify(header)}`,
      );
      assertSameEvents(ours, stock, JSON.stringify(header));
    }
  }
});

test('a body that is not JSON is a SyntaxError from both paths, and the next message is read', async () => {
  // The streaming parser says where in the body it stopped, or that the body ended too soon (as JSON.parse does).
  for (const [bad, streamedError] of [
    ['{"a":', /^Unexpected end of JSON input$/],
    ['{"a":1}x', /^Unexpected token x in JSON at byte 7$/],
    ['"\\q"', /^Unexpected token q in JSON at byte 2$/],
    ['', /^Unexpected end of JSON input$/],
  ] as const) {
    for (const largeBodyBytes of [0, 1 << 20]) {
      const { stock, ours } = await both([frame(Buffer.from(bad)), frame(Buffer.from('{"ok":true}'))], {
        largeBodyBytes,
      });
      assert.deepEqual(
        ours.map((e) => ('error' in e ? e.name : e)),
        ['SyntaxError', { message: { ok: true } }],
      );
      assertSameEvents(ours, stock, bad);
      // Which path read it: a small body is JSON.parse's (its very error), a large one the streaming parser's.
      const error = (ours[0] as { error: string }).error;
      if (largeBodyBytes === 0) assert.match(error, streamedError);
      else assert.equal(error, (stock[0] as { error: string }).error);
    }
  }
});

test('a Content-Length over the bound is reported at its header; its body is skipped, never held; the next message is read', async () => {
  const random = prng(SEED + 1);
  const json = new RandomJson(random);
  const body = json.text(6, { longStrings: true });
  const stream = Buffer.concat([frame(body), frame(Buffer.from('{"id":2}'))]);
  const maxBodyBytes = body.length - 1;
  const stream2 = new EventEmitter() as unknown as NodeJS.ReadableStream;
  const events = record(new StdioMessageReader(stream2, { maxBodyBytes, largeBodyBytes: 0 }));
  const chunks = chunked(stream, random, 1);
  stream2.emit('data', chunks[0]);
  // Reported as soon as the header is in (the first chunk here holds it whole, it is under 40 bytes).
  if (chunks[0].length >= `Content-Length: ${body.length}\r\n\r\n`.length)
    assert.deepEqual(events, [
      {
        error: `Content-Length ${body.length} is over the ${maxBodyBytes} bytes a message may have: its body is skipped`,
        name: 'Error',
      },
    ]);
  for (const chunk of chunks.slice(1)) stream2.emit('data', chunk);
  await settled(events);
  assert.equal(events.length, 2);
  assert.deepEqual(events[1], { message: { id: 2 } });
  // The default bound is MAX_MESSAGE_BYTES, the one the server skips bodies beyond.
  const stream3 = new EventEmitter() as unknown as NodeJS.ReadableStream;
  const defaultReader = new StdioMessageReader(stream3);
  defaultReader.partialMessageTimeout = 0; // its body never comes
  const defaults = record(defaultReader);
  stream3.emit('data', Buffer.from(`Content-Length: ${MAX_MESSAGE_BYTES + 1}\r\n\r\n{`));
  assert.match(
    (defaults[0] as { error: string }).error,
    new RegExp(`^Content-Length ${MAX_MESSAGE_BYTES + 1} is over the ${MAX_MESSAGE_BYTES} bytes`),
  );
});

test('a negative Content-Length is an error (vscode-jsonrpc would cut its buffer at that offset)', async () => {
  const stream = new EventEmitter() as unknown as NodeJS.ReadableStream;
  const events = record(new StdioMessageReader(stream));
  stream.emit('data', Buffer.from('Content-Length: -5\r\n\r\n{"id":1}'));
  await settled(events);
  assert.deepEqual(events, [{ error: 'Content-Length value must not be negative. Got -5', name: 'Error' }]);
});

test(
  'a message still incomplete after the partial-message timeout is reported as vscode-jsonrpc reports it',
  { timeout: 30_000 },
  async () => {
    const body = Buffer.from('{"a":"' + 'x'.repeat(100) + '"}');
    const framed = frame(body);
    for (const largeBodyBytes of [0, 1 << 20]) {
      const stream = new EventEmitter() as unknown as NodeJS.ReadableStream;
      const stockReader = new StreamMessageReader(stream);
      const oursReader = new StdioMessageReader(stream, { largeBodyBytes });
      stockReader.partialMessageTimeout = 5;
      oursReader.partialMessageTimeout = 5;
      const stock = record(stockReader);
      const ours = record(oursReader);
      stream.emit('data', framed.subarray(0, 40));
      // Both fire after 5 ms; the bound only turns a reader that never fires into a failure, not a hang.
      for (let waited = 0; (!ours.length || !stock.length) && waited < 10_000; waited += 5)
        await new Promise((resolve) => setTimeout(resolve, 5));
      stream.emit('data', framed.subarray(40));
      await settled(stock, ours);
      assert.deepEqual(ours[0], { partial: { messageToken: 0, waitingTime: 5 } });
      assert.deepEqual(ours.at(-1), { message: { a: 'x'.repeat(100) } });
      assertSameEvents(ours.slice(0, 1).concat(ours.slice(-1)), stock.slice(0, 1).concat(stock.slice(-1)), 'partial');
    }
  },
);

test("the stream's errors and its close are passed on", async () => {
  const stream = new EventEmitter() as unknown as NodeJS.ReadableStream;
  const stock = record(new StreamMessageReader(stream));
  const ours = record(new StdioMessageReader(stream));
  stream.emit('error', new Error('EPIPE'));
  stream.emit('close');
  await settled(stock, ours);
  assert.deepEqual(ours, [{ error: 'EPIPE', name: 'Error' }, { closed: true }]);
  assertSameEvents(ours, stock, 'error and close');
});

test('a message cut short by the end of the stream, or left when the reader is disposed, is not reported for ever', async () => {
  const partial = frame(Buffer.from('{"a":1}')).subarray(0, 25);
  for (const stop of ['end', 'close', 'dispose'] as const) {
    const stream = new EventEmitter() as unknown as NodeJS.ReadableStream;
    const reader = new StdioMessageReader(stream);
    reader.partialMessageTimeout = 5;
    let reported = 0;
    reader.onPartialMessage(() => reported++);
    const listening = reader.listen(() => undefined);
    stream.emit('data', partial);
    if (stop === 'dispose') listening.dispose();
    else stream.emit(stop);
    // Before the fix a timer re-armed every 5 ms here (and kept the process alive); a slow
    // machine could only make this pass, never fail.
    await new Promise((resolve) => setTimeout(resolve, 200));
    // A reader that still re-arms stops at its next firing: the test fails instead of hanging.
    reader.partialMessageTimeout = 0;
    assert.equal(reported, 0, stop);
  }
});

test("a skipped message is told from its first bytes, in the messages' order: its method, its own id (not one in params), its document", async () => {
  const told: SkippedMessage[] = [];
  const order: string[] = [];
  const stream = new EventEmitter() as unknown as NodeJS.ReadableStream;
  const reader = new StdioMessageReader(stream, {
    maxBodyBytes: 5000,
    onSkipped: (m) => (told.push(m), order.push(`skipped ${m.method}`)),
  });
  reader.listen((m) => order.push(`message ${(m as unknown as { method: string }).method}`));
  const long = 'x'.repeat(6000);
  const bodies = [
    JSON.stringify({ jsonrpc: '2.0', method: 'before', params: {} }),
    JSON.stringify({
      jsonrpc: '2.0',
      id: 12,
      method: 'textDocument/didOpen',
      params: { textDocument: { uri: 'file:///a/manifest.json', text: long } },
    }),
    JSON.stringify({ jsonrpc: '2.0', method: 'workspace/executeCommand', params: { id: 99, arguments: [long] } }),
    JSON.stringify({ jsonrpc: '2.0', method: 'after', params: {} }),
  ];
  for (const body of bodies) {
    const bytes = Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    // In small pieces: the prefix is gathered across chunks.
    for (let at = 0; at < bytes.length; at += 700) stream.emit('data', bytes.subarray(at, at + 700));
  }
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, [
    'message before',
    'skipped textDocument/didOpen',
    'skipped workspace/executeCommand',
    'message after',
  ]);
  assert.deepEqual(told[0], {
    length: Buffer.byteLength(bodies[1]),
    method: 'textDocument/didOpen',
    id: 12,
    uri: 'file:///a/manifest.json',
  });
  assert.deepEqual(told[1], { length: Buffer.byteLength(bodies[2]), method: 'workspace/executeCommand' });
});
