/**
 * Document sync: open documents are kept as queued edits (service/textDocument.ts), checked
 * at once when opened, after a quiet time when edited, and from disk once closed (a closed
 * file that is ours stays in the Problems panel, its analysis kept within closedAnalyses.ts's bound).
 */
import type {
  DidChangeTextDocumentParams,
  DidCloseTextDocumentParams,
  DidOpenTextDocumentParams,
} from 'vscode-languageserver/node';
import { OpenDocument } from '../service/textDocument';
import { forgetClosed } from './closedAnalyses';
import { abortCheck, check, EDIT_DEBOUNCE_MS, scheduleCheck } from './diagnostics';
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
  state.documents.open.delete(textDocument.uri);
  // The deep-check command asked for this editor's checks; the check from disk below is not one.
  state.documents.deepRequested.delete(textDocument.uri);
  clearTimeout(state.documents.checkTimers.get(textDocument.uri));
  state.documents.checkTimers.delete(textDocument.uri);
  void check(state, textDocument.uri);
}
