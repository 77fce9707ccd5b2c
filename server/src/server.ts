/**
 * The language server's entry: it only wires LSP messages to the feature handlers in
 * handlers/, which share one state object (handlers/state.ts). What the server does lives
 * there and in the service layer:
 *
 * - handlers/documents.ts, diagnostics.ts — open documents and diagnostics scheduling;
 * - handlers/workspace.ts — the workspace scan and the file watchers;
 * - handlers/hover.ts, links.ts, codeActions.ts, commands.ts, download.ts — hovers, document links,
 *   fixes, commands, the ARC download;
 * - handlers/settings.ts, status.ts, lifecycle.ts — settings per resource, status, start and end.
 */
import { createConnection, ErrorCodes, ProposedFeatures, ResponseError } from 'vscode-languageserver/node';
import { writeSync } from 'node:fs';
import { FramingCheck } from './stdio/stdioFraming';
import { createStdioConnection, ServerConnection } from './stdio/stdioConnection';
import {
  DeepCheckRequest,
  DownloadArcRequest,
  MemoryUsageRequest,
  NiftiPairRequest,
  NpzViewRequest,
  NpzWindowRequest,
  SlicePictureRequest,
  TrainingGridRequest,
  VolumeBytesRequest,
  WorkCountersRequest,
} from './protocol';
import { deepCheck } from './handlers/deepCheck';
import { codeActions } from './handlers/codeActions';
import { executeCommand } from './handlers/commands';
import { didChange, didClose, didOpen, skippedMessage } from './handlers/documents';
import { downloadArc } from './handlers/download';
import { hover } from './handlers/hover';
import { documentLinks } from './handlers/links';
import { exitWhenThreadsIdle, initialize, initialized, installExitGuard, shutdown } from './handlers/lifecycle';
import { didChangeConfiguration } from './handlers/configuration';
import { onRequest, ServerState } from './handlers/state';
import { memoryUsage, reportFailure, workCounters } from './handlers/status';
import { didChangeWatchedFiles, didChangeWorkspaceFolders } from './handlers/workspace';
import {
  codeLenses,
  niftiPairRequest,
  npzViewRequest,
  npzWindowRequest,
  slicePictureRequest,
  trainingGridRequest,
  volumeBytesRequest,
} from './handlers/views';

export function startServer(): void {
  // Over stdio our reader parses large messages while they arrive (stdioMessageReader.ts); over
  // IPC (VS Code) Node's channel hands each message over parsed, and vscode-languageserver's reader stays.
  const stdio = process.argv.includes('--stdio');
  const connection: ServerConnection = stdio
    ? createStdioConnection(
        () => state.shuttingDown,
        (message) => skippedMessage(state, message),
      )
    : createConnection(ProposedFeatures.all);
  const state = new ServerState(connection);
  installExitGuard(state);
  // A failed background promise is logged, never allowed to take the server down.
  process.on('unhandledRejection', (error) =>
    reportFailure(state, `Internal error: ${(error as Error)?.stack ?? String(error)}`),
  );

  // After `shutdown` the LSP allows only `exit`: every request gets InvalidRequest (also a second
  // shutdown), every notification is dropped, so nothing runs and nothing is written any more.
  const request =
    <A extends unknown[], R>(handler: (...args: A) => R) =>
    (...args: A): R => {
      if (state.shuttingDown)
        throw new ResponseError(
          ErrorCodes.InvalidRequest,
          'The server has been shut down: only "exit" is accepted now.',
        );
      return handler(...args);
    };
  const notification =
    <A extends unknown[]>(handler: (...args: A) => unknown) =>
    (...args: A): void => {
      if (!state.shuttingDown) void handler(...args);
    };

  connection.onInitialize(request((params) => initialize(state, params)));
  connection.onInitialized(
    notification(() => {
      if (state.client.workspaceFolders)
        connection.workspace.onDidChangeWorkspaceFolders(
          notification((event) => didChangeWorkspaceFolders(state, event)),
        );
      return initialized(state);
    }),
  );
  connection.onShutdown(request(() => shutdown(state)));

  connection.onDidOpenTextDocument(notification((params) => didOpen(state, params)));
  connection.onDidChangeTextDocument(notification((params) => didChange(state, params)));
  connection.onDidCloseTextDocument(notification((params) => didClose(state, params)));
  connection.onDidChangeConfiguration(notification((params) => didChangeConfiguration(state, params)));
  connection.onDidChangeWatchedFiles(notification((params) => didChangeWatchedFiles(state, params)));

  connection.onHover(request((params) => hover(state, params)));
  connection.onCodeAction(request((params, token) => codeActions(state, params, token)));
  connection.onDocumentLinks(request((params, token) => documentLinks(state, params, token)));
  connection.onExecuteCommand(request((params) => executeCommand(state, params)));
  onRequest(
    connection,
    DownloadArcRequest.type,
    request((params, token) => downloadArc(state, params, token)),
  );
  onRequest(
    connection,
    DeepCheckRequest.type,
    request((params, token) => deepCheck(state, params, token)),
  );
  onRequest(
    connection,
    WorkCountersRequest.type,
    request((params) => workCounters(state, params)),
  );
  onRequest(connection, MemoryUsageRequest.type, request(memoryUsage));
  connection.onCodeLens(request((params, token) => codeLenses(state, params, token)));
  onRequest(
    connection,
    NpzViewRequest.type,
    request((params) => npzViewRequest(state, params)),
  );
  onRequest(
    connection,
    NpzWindowRequest.type,
    request((params) => npzWindowRequest(state, params)),
  );
  onRequest(
    connection,
    NiftiPairRequest.type,
    request((params) => niftiPairRequest(state, params)),
  );
  onRequest(
    connection,
    VolumeBytesRequest.type,
    request((params) => volumeBytesRequest(params)),
  );
  onRequest(
    connection,
    SlicePictureRequest.type,
    request((params) => slicePictureRequest(state, params)),
  );
  onRequest(
    connection,
    TrainingGridRequest.type,
    request((params) => trainingGridRequest(state, params)),
  );
  // Methods nobody handles: after shutdown these too get InvalidRequest, before it MethodNotFound.
  connection.onRequest(
    request((method: string) => {
      throw new ResponseError(ErrorCodes.MethodNotFound, `Unhandled method ${method}`);
    }),
  );

  connection.listen();
  // After listen: the reader is attached first, so both see every chunk from the first one on.
  if (stdio) exitOnFramingError(state);
}

/** Follows stdin with the reader (see stdioFraming.ts) and ends the process, saying why, at the first framing error. */
function exitOnFramingError(state: ServerState): void {
  const framing = new FramingCheck();
  const onData = (chunk: Buffer) => {
    const problem = framing.push(chunk);
    if (!problem) return;
    process.stdin.off('data', onData);
    const reason = `NeuroCache language server: the client sent ${problem}; LSP messages cannot be found in this stream any more, so the server exits (the editor restarts it).`;
    // Synchronously, so the reason is out before the process ends; the log line may or may not reach the client.
    writeSync(2, `${reason}\n`);
    state.log.error(reason);
    exitWhenThreadsIdle(1);
  };
  process.stdin.on('data', onData);
}
