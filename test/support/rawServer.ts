/**
 * The language server over `--stdio`, fed raw bytes by a test (no LSP library in between, so
 * the bytes can be anything: broken headers, bodies of hundreds of MB). What it writes is kept
 * as text; `seen` waits for a pattern in it, and every wait fails once the guard runs out.
 */
import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { cliPath, tempDir } from './python';

/** One framed message: its header (`Content-Length` of the body unless given) and the body. */
export const frame = (body: string, header = `Content-Length: ${Buffer.byteLength(body)}`) =>
  Buffer.from(`${header}\r\n\r\n${body}`);

export const INITIALIZE = frame(
  JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { processId: null, rootUri: null, capabilities: {} },
  }),
);

export class RawServer {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  /** How the process ended. */
  readonly ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Rejects when the guard runs out: raced against every wait. */
  readonly hung: Promise<never>;
  private readonly store = tempDir();
  private readonly waiters: (() => void)[] = [];
  private guard: NodeJS.Timeout | undefined;

  constructor(guardMs: number) {
    this.child = spawn(process.execPath, [cliPath(), 'lsp', '--stdio'], {
      env: { ...process.env, NEUROCACHE_CACHE_DIR: this.store },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout.setEncoding('utf8').on('data', (c: string) => {
      this.stdout += c;
      this.waiters.splice(0).forEach((w) => w());
    });
    this.child.stderr.setEncoding('utf8').on('data', (c: string) => (this.stderr += c));
    this.ended = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    this.hung = new Promise<never>((_, reject) => {
      this.guard = setTimeout(
        () => reject(new Error(`nothing more within ${guardMs} ms; stderr: ${this.stderr}`)),
        guardMs,
      );
    });
    this.hung.catch(() => undefined); // raced by whoever waits; unobserved when nobody does
  }

  /** Resolves once what the server wrote matches `pattern`. */
  async seen(pattern: RegExp): Promise<void> {
    while (!pattern.test(this.stdout))
      await Promise.race([new Promise<void>((resolve) => this.waiters.push(resolve)), this.hung]);
  }

  /** Sends initialize and waits for its answer. */
  async initialize(): Promise<void> {
    this.child.stdin.write(INITIALIZE);
    await this.seen(/"id":1,"result"/);
  }

  close(): void {
    clearTimeout(this.guard);
    this.child.kill('SIGKILL');
    rmSync(this.store, { recursive: true, force: true });
  }
}
