/**
 * A message over MAX_MESSAGE_BYTES, correctly framed, on the server's stdin: its body is skipped
 * unread (nothing held), and the server lives on. It says what the message was (a document
 * opened or changed with too much text), forgets that document (its edits that follow would
 * apply to a text it never read), and answers a request among them with an error instead of
 * leaving its sender waiting. The bodies are streamed in full (2 × 336 MB through a pipe), as a
 * client sends them; the guard is against a hang, not a speed requirement.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { MAX_MESSAGE_BYTES } from '../../server/src/stdio/stdioFraming';
import { frame, RawServer } from '../support/rawServer';

const GUARD_MS = 120_000;
const URI = 'file:///nowhere/cache/manifest.json';
const message = (body: object) => frame(JSON.stringify({ jsonrpc: '2.0', ...body }));

/** A message of exactly `length` bytes: `head` + `a` repeated + `tail`, written in 1 MiB pieces. */
async function writeOversized(stdin: NodeJS.WritableStream, length: number, head: string, tail: string) {
  const fill = length - Buffer.byteLength(head) - Buffer.byteLength(tail);
  const piece = Buffer.alloc(1 << 20, 'a');
  const write = async (bytes: Buffer) => {
    if (!stdin.write(bytes)) await once(stdin, 'drain');
  };
  await write(Buffer.from(`Content-Length: ${length}\r\n\r\n${head}`));
  for (let left = fill; left > 0; left -= piece.length)
    await write(left >= piece.length ? piece : piece.subarray(0, left));
  await write(Buffer.from(tail));
}

test(
  'a message over the bound is skipped, said, its document forgotten, its request answered; the server goes on',
  { timeout: GUARD_MS + 30_000 },
  async () => {
    const server = new RawServer(GUARD_MS);
    const { child } = server;
    const seen = (pattern: RegExp) => server.seen(pattern);
    try {
      await server.initialize();
      child.stdin.write(message({ method: 'initialized', params: {} }));
      // A document the server knows and checks (its cache file is missing: one finding at least).
      const text = JSON.stringify({
        partial_seizure: [{ cache_file: 'a_windows.npz', window_idx: 0 }],
        full_seizure: [],
        no_seizure: [],
      });
      child.stdin.write(
        message({
          method: 'textDocument/didOpen',
          params: { textDocument: { uri: URI, languageId: 'json', version: 1, text } },
        }),
      );
      await seen(
        /"method":"textDocument\/publishDiagnostics","params":\{"uri":"file:\/\/\/nowhere\/cache\/manifest.json",(?:"version":\d+,)?"diagnostics":\[\{/,
      );
      const length = MAX_MESSAGE_BYTES + 1;
      // A whole-text change too large to read, then a request as large.
      await writeOversized(
        child.stdin,
        length,
        `{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":"${URI}","version":2},"contentChanges":[{"text":"`,
        '"}]}}',
      );
      await writeOversized(
        child.stdin,
        length,
        '{"jsonrpc":"2.0","id":7,"method":"workspace/executeCommand","params":{"command":"neurocache.x","arguments":["',
        '"]}}',
      );
      child.stdin.write(message({ id: 2, method: 'shutdown' }));
      await seen(/"id":2,"result":null/);
      assert.match(
        server.stdout,
        new RegExp(
          `"id":7,"error":\\{"code":-32600,"message":"a message of ${length} bytes, over the ${MAX_MESSAGE_BYTES} bytes NeuroCache reads: not read"`,
        ),
      );
      assert.match(
        server.stdout,
        new RegExp(
          `The client sent textDocument/didChange of ${URI.replace(/\//g, '\\/')} of ${length} bytes, over the ${MAX_MESSAGE_BYTES} bytes NeuroCache reads: not read\\.`,
        ),
      );
      assert.match(
        server.stdout,
        /The client sent workspace\/executeCommand of \d+ bytes, .* \(answered with an error\)\./,
      );
      assert.match(
        server.stdout,
        /"method":"window\/showMessage","params":\{"type":2,"message":"NeuroCache: manifest.json is open with more text than NeuroCache checks: not checked."/,
      );
      // Its findings withdrawn: the last diagnostics published for it are none.
      const published = [
        ...server.stdout.matchAll(
          /"method":"textDocument\/publishDiagnostics","params":\{"uri":"([^"]+)",(?:"version":\d+,)?"diagnostics":(\[\]|\[\{)/g,
        ),
      ]
        .filter((m) => m[1] === URI)
        .map((m) => m[2]);
      assert.equal(published.at(-1), '[]', published.join(' '));
      assert.equal(child.exitCode, null, 'still running');
      assert.doesNotMatch(server.stderr, /exits/);
    } finally {
      server.close();
    }
  },
);
