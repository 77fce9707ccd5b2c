/**
 * Raw bytes on the server's stdin: a header without a usable Content-Length (missing, "abc",
 * negative, or shorter than the body so that the body's rest stands where a header should) makes
 * the message stream unreadable. The server exits with the reason on stderr (the client restarts
 * it) instead of living on deaf. (A Content-Length over MAX_MESSAGE_BYTES is no framing error:
 * its body is skipped, see oversized-message.test.ts.) A correctly framed body that is not JSON is no framing error:
 * the server goes on answering. The guard is against a hang, not a speed requirement.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { frame, RawServer } from '../support/rawServer';

const GUARD_MS = 30_000;

const message = (id: number, method: string, params: unknown = {}) =>
  JSON.stringify({ jsonrpc: '2.0', id, method, params });

/** Starts the server, sends `bytes` once it has answered initialize; resolves with its stdout, stderr and how it ended. */
async function serverFed(bytes: Buffer, then?: (stdout: () => string) => Promise<void>) {
  const server = new RawServer(GUARD_MS);
  try {
    await server.initialize();
    server.child.stdin.write(bytes);
    if (then) await Promise.race([then(() => server.stdout), server.hung]);
    const ended = then ? undefined : await Promise.race([server.ended, server.hung]);
    return { ended, stderr: server.stderr, stdout: server.stdout };
  } finally {
    server.close();
  }
}

const SHUTDOWN = message(2, 'shutdown');
const CASES: [string, Buffer, RegExp][] = [
  [
    'no Content-Length',
    frame(SHUTDOWN, 'Content-Type: application/vscode-jsonrpc; charset=utf-8'),
    /without Content-Length/,
  ],
  ['Content-Length: abc', frame(SHUTDOWN, 'Content-Length: abc'), /Content-Length is "abc", not a byte count/],
  ['a negative Content-Length', frame(SHUTDOWN, 'Content-Length: -5'), /Content-Length is "-5", not a byte count/],
  [
    'a Content-Length shorter than the body',
    frame(SHUTDOWN, 'Content-Length: 10'),
    /header line without a name|not "Name: value"/,
  ],
  [
    'a header line without ":"',
    frame(SHUTDOWN, `Content-Length ${SHUTDOWN.length}`),
    /header line that is not "Name: value" \("Content-Length "\)/,
  ],
  ['a bare line feed', Buffer.from(`Content-Length: ${SHUTDOWN.length}\n\n${SHUTDOWN}`), /bare line feed/],
];

for (const [what, bytes, reason] of CASES) {
  test(`a header with ${what} ends the server with the reason, never leaves it deaf`, { timeout: 60_000 }, async () => {
    const { ended, stderr } = await serverFed(bytes);
    assert.deepEqual(ended, { code: 1, signal: null });
    assert.match(stderr, reason);
    assert.match(stderr, /the server exits \(the editor restarts it\)/);
  });
}

test('a correctly framed body that is not JSON leaves the server answering', { timeout: 60_000 }, async () => {
  const { stdout } = await serverFed(
    Buffer.concat([frame('{"jsonrpc": "2.0", "id": 7, '), frame(SHUTDOWN)]),
    async (out) => {
      while (!out().includes('"id":2')) await new Promise((resolve) => setTimeout(resolve, 20));
    },
  );
  assert.match(stdout, /"id":2,"result":null/);
});
