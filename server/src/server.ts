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
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { DownloadArcRequest, NiftiPairRequest, NpzViewRequest, NpzWindowRequest, SlicePictureRequest, VolumeBytesRequest, WorkCountersRequest } from './protocol';
import { codeActions } from './handlers/codeActions';
import { executeCommand } from './handlers/commands';
import { didChange, didClose, didOpen } from './handlers/documents';
import { downloadArc } from './handlers/download';
import { hover } from './handlers/hover';
import { documentLinks } from './handlers/links';
import { initialize, initialized, installExitGuard, shutdown } from './handlers/lifecycle';
import { didChangeConfiguration } from './handlers/settings';
import { onRequest, ServerState } from './handlers/state';
import { reportFailure, workCounters } from './handlers/status';
import { didChangeWatchedFiles, didChangeWorkspaceFolders } from './handlers/workspace';
import { codeLenses, niftiPairRequest, npzViewRequest, npzWindowRequest, slicePictureRequest, volumeBytesRequest } from './handlers/views';

export function startServer(): void {
  const connection = createConnection(ProposedFeatures.all);
  const state = new ServerState(connection);
  installExitGuard(state);
  // A failed background promise is logged, never allowed to take the server down.
  process.on('unhandledRejection', (error) => reportFailure(state, `Internal error: ${(error as Error)?.stack ?? String(error)}`));

  connection.onInitialize((params) => initialize(state, params));
  connection.onInitialized(() => {
    if (state.client.workspaceFolders) connection.workspace.onDidChangeWorkspaceFolders((event) => didChangeWorkspaceFolders(state, event));
    return initialized(state);
  });
  connection.onShutdown(() => shutdown(state));

  connection.onDidOpenTextDocument((params) => didOpen(state, params));
  connection.onDidChangeTextDocument((params) => didChange(state, params));
  connection.onDidCloseTextDocument((params) => didClose(state, params));
  connection.onDidChangeConfiguration((params) => didChangeConfiguration(state, params));
  connection.onDidChangeWatchedFiles((params) => didChangeWatchedFiles(state, params));

  connection.onHover((params) => hover(state, params));
  connection.onCodeAction((params, token) => codeActions(state, params, token));
  connection.onDocumentLinks((params, token) => documentLinks(state, params, token));
  connection.onExecuteCommand((params) => executeCommand(state, params));
  onRequest(connection, DownloadArcRequest.type, (params, token) => downloadArc(state, params, token));
  onRequest(connection, WorkCountersRequest.type, (params) => workCounters(state, params));
  connection.onCodeLens((params, token) => codeLenses(state, params, token));
  onRequest(connection, NpzViewRequest.type, (params) => npzViewRequest(state, params));
  onRequest(connection, NpzWindowRequest.type, (params) => npzWindowRequest(state, params));
  onRequest(connection, NiftiPairRequest.type, (params) => niftiPairRequest(state, params));
  onRequest(connection, VolumeBytesRequest.type, (params) => volumeBytesRequest(params));
  onRequest(connection, SlicePictureRequest.type, (params) => slicePictureRequest(state, params));

  connection.listen();
}
