/**
 * The language server's connection over stdio, read by stdioMessageReader.ts (large messages
 * parsed while they arrive) and written by vscode-jsonrpc's own writer.
 *
 * With `--stdio` in argv, vscode-languageserver builds this connection itself, and then does two
 * more things that it skips when it is handed a reader: it ends the process when stdin ends
 * (exit code 0 after `shutdown`, else 1), and it sends what `console` prints to the client's log
 * (stdout carries the protocol: a stray console.log there would corrupt it). Both are done here
 * the same way (vscode-languageserver 10, lib/node/main.js).
 */
import { inspect } from 'node:util';
import {
  createConnection,
  ErrorCodes,
  ProposedFeatures,
  RemoteConsole,
  ResponseMessage,
  StreamMessageWriter,
} from 'vscode-languageserver/node';
import { notReadReason, SkippedMessage } from './skippedMessage';
import { StdioMessageReader } from './stdioMessageReader';

/** The connection the server's handlers are written against: the stock one's type, with the proposed features. */
export type ServerConnection = ReturnType<typeof createStdioConnection>;

/**
 * `skipped`: told of each message over MAX_MESSAGE_BYTES, which the reader skips unread (a
 * request among them is answered here with an error: its sender would wait for ever).
 */
export function createStdioConnection(shutdownReceived: () => boolean, skipped: (message: SkippedMessage) => void) {
  const writer = new StreamMessageWriter(process.stdout);
  const onSkipped = (message: SkippedMessage) => {
    if (message.id !== undefined)
      void writer.write({
        jsonrpc: '2.0',
        id: message.id,
        error: {
          code: ErrorCodes.InvalidRequest,
          message: `a message of ${notReadReason(message)}`,
        },
      } as ResponseMessage);
    skipped(message);
  };
  const connection = createConnection(
    ProposedFeatures.all,
    new StdioMessageReader(process.stdin, { onSkipped }),
    writer,
  );
  const exit = () => process.exit(shutdownReceived() ? 0 : 1);
  process.stdin.on('end', exit);
  process.stdin.on('close', exit);
  consoleToClient(connection.console);
  return connection;
}

/** vscode-languageserver's patchConsole: every console method that prints goes to the client's log. */
function consoleToClient(logger: RemoteConsole): void {
  const serialize = (args: unknown[]) => args.map((a) => (typeof a === 'string' ? a : inspect(a))).join(' ');
  const counters = new Map<string, number>();
  console.assert = (assertion?: boolean, ...args: unknown[]) => {
    if (assertion) return;
    if (args.length === 0) logger.error('Assertion failed');
    else logger.error(`Assertion failed: ${String(args[0])} ${serialize(args.slice(1))}`);
  };
  console.count = (label = 'default') => {
    const name = String(label);
    const count = (counters.get(name) ?? 0) + 1;
    counters.set(name, count);
    logger.log(`${name}: ${count}`);
  };
  console.countReset = (label?: string) => {
    if (label === undefined) counters.clear();
    else counters.delete(String(label));
  };
  console.debug = (...args: unknown[]) => logger.log(serialize(args));
  console.dir = (arg: unknown, options?: object) => logger.log(inspect(arg, options));
  console.log = (...args: unknown[]) => logger.log(serialize(args));
  console.error = (...args: unknown[]) => logger.error(serialize(args));
  console.trace = (...args: unknown[]) => {
    const stack = new Error().stack!.replace(/(.+\n){2}/, '');
    logger.log(`${args.length ? `Trace: ${serialize(args)}` : 'Trace'}\n${stack}`);
  };
  console.warn = (...args: unknown[]) => logger.warn(serialize(args));
  console.info = (...args: unknown[]) => logger.info(serialize(args));
}
