/**
 * Document sync: open documents are kept as queued edits (service/textDocument.ts), checked
 * at once when opened, after a quiet time when edited, and from disk once closed (a closed
 * file that is ours stays in the Problems panel, its analysis kept within closedAnalyses.ts's bound).
 */
import {
  DidChangeTextDocumentParams,
  DidCloseTextDocumentParams,
  DidOpenTextDocumentParams,
  MessageType,
  ShowMessageNotification,
} from 'vscode-languageserver/node';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OpenDocument } from '../service/textDocument';
import { notReadReason, SkippedMessage } from '../stdio/skippedMessage';
import { forgetClosed } from './closedAnalyses';
import { abortCheck, check, EDIT_DEBOUNCE_MS, scheduleCheck, untrack } from './diagnostics';
import type { ServerState } from './state';

export function didOpen(state: ServerState, { textDocument }: DidOpenTextDocumentParams): void {
  state.documents.open.set(
    textDocument.uri,
    new OpenDocument(textDocument.uri, textDocument.version, textDocument.text),
  );
  forgetClosed(state, textDocument.uri); // open documents are kept whole
  abortCheck(state, textDocument.uri);
  scheduleCheck(state, textDocument.uri, 0);
}

export function didChange(state: ServerState, { textDocument, contentChanges }: DidChangeTextDocumentParams): void {
  const document = state.documents.open.get(textDocument.uri);
  if (!document) return;
  document.update(contentChanges, textDocument.version);
  // The check under way is for an older version: stop it now rather than after the burst.
  abortCheck(state, textDocument.uri);
  scheduleCheck(state, textDocument.uri, EDIT_DEBOUNCE_MS, 'edit');
}

export function didClose(state: ServerState, { textDocument }: DidCloseTextDocumentParams): void {
  forgetOpen(state, textDocument.uri);
  void check(state, textDocument.uri);
}

/**
 * Drops an open document's text, its pending check and its deep-check request (the deep-check
 * command asked for this editor's checks; a check from disk is not one). Whether it was open.
 */
function forgetOpen(state: ServerState, uri: string): boolean {
  const wasOpen = state.documents.open.delete(uri);
  state.documents.deepRequested.delete(uri);
  clearTimeout(state.documents.checkTimers.get(uri));
  state.documents.checkTimers.delete(uri);
  return wasOpen;
}

/**
 * A message too large to read (stdio only: the reader skipped it, see stdio/skippedMessage.ts).
 * A document it opened or changed is not known any more: its edits that follow are ignored, as
 * for any document the server was never told of, and it is not checked from a stale text.
 */
export function skippedMessage(state: ServerState, message: SkippedMessage): void {
  const what = `${message.method ?? 'a message'}${message.uri ? ` of ${message.uri}` : ''}`;
  state.log.warn(
    `The client sent ${what} of ${notReadReason(message)}${message.id !== undefined ? ' (answered with an error)' : ''}.`,
  );
  const { uri, method } = message;
  if (!uri || (method !== 'textDocument/didOpen' && method !== 'textDocument/didChange')) return;
  if (forgetOpen(state, uri) || state.documents.tracked.has(uri)) untrack(state, uri);
  // A notification, not window/showMessageRequest: no client must be required to answer it.
  void state.connection.sendNotification(ShowMessageNotification.type, {
    type: MessageType.Warning,
    message: `NeuroCache: ${nameOf(uri)} is open with more text than NeuroCache checks: not checked.`,
  });
}

/** The file name a URI ends in, or the URI itself when it is not a file URI one can decode (it came from a skipped message). */
function nameOf(uri: string): string {
  try {
    return path.basename(fileURLToPath(uri));
  } catch {
    return uri;
  }
}
