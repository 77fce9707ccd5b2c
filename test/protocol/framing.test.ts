/**
 * Raw bytes on the server's stdin: a header without a usable Content-Length (missing, "abc",
 * negative, or shorter than the body so that the body's rest stands where a header should) makes
 * the message stream unreadable, and one over MAX_MESSAGE_BYTES is refused at its header, before
 * its body is buffered (only the header is sent here). The server exits with the reason on stderr (the client restarts
 * it) instead of living on deaf. A correctly framed body that is not JSON is no framing error:
 * the server goes on answering. The guard is against a hang, not a speed requirement.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import { MAX_MESSAGE_BYTES } from '../../server/src/stdio/stdioFraming';
import { cliPath, tempDir } from '../support/python';

const GUARD_MS = 30_000;

const frame = (body: string, header = `Content-Length: ${Buffer.byteLength(body)}`) =>
  Buffer.from(`${header}\r\n\r\n${body}`);
const message = (id: number, method: string, params: unknown = {}) =>
  JSON.stringify({ jsonrpc: '2.0', id, method, params });
const INITIALIZE = frame(message(1, 'initialize', { processId: null, rootUri: null, capabilities: {} }));

/** Starts the server, sends `bytes` once it has answered initialize; resolves with its stdout, stderr and how it ended. */
async function serverFed(bytes: Buffer, then?: (stdout: () => string) => Promise<void>) {
  const store = tempDir();
  const child = spawn(process.execPath, [cliPath(), 'lsp', '--stdio'], {
    env: { ...process.env, NEUROCACHE_CACHE_DIR: store },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  child.stdout.setEncoding('utf8').on('data', (c) => ((stdout += c), waiters.splice(0).forEach((w) => w())));
  child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let guard: NodeJS.Timeout | undefined;
  const hung = new Promise<never>(
    (_, reject) =>
      (guard = setTimeout(() => reject(new Error(`no exit within ${GUARD_MS} ms; stderr: ${stderr}`)), GUARD_MS)),
  );
  const answered = async (id: number) => {
    while (!stdout.includes(`"id":${id}`))
      await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), hung]);
  };
  try {
    child.stdin.write(INITIALIZE);
    await answered(1);
    child.stdin.write(bytes);
    if (then) await Promise.race([then(() => stdout), hung]);
    return { ended: then ? undefined : await Promise.race([ended, hung]), stderr, stdout };
  } finally {
    clearTimeout(guard);
    child.kill('SIGKILL');
    rmSync(store, { recursive: true, force: true });
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
  // Only the header and a little of the body are sent: the server must not wait for (and buffer) the rest.
  [
    'a Content-Length over the bound',
    frame(SHUTDOWN, `Content-Length: ${MAX_MESSAGE_BYTES + 1}`),
    new RegExp(`a message of ${MAX_MESSAGE_BYTES + 1} bytes \\(Content-Length\\), over the ${MAX_MESSAGE_BYTES} bytes`),
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
