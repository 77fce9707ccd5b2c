/**
 * `neurocache/deepCheck`: the deep check of one manifest, run as its next check (so the editor's
 * diagnostics come from the same analysis), with its progress forwarded to the client's
 * notification. Once asked for, the document's later checks keep the deep findings (answered
 * from fingerprints: unchanged files are not inflated again). Cancelling stops the inflating.
 */
import { CancellationToken, ErrorCodes, LSPErrorCodes, ResponseError } from 'vscode-languageserver/node';
import { plural } from '../engine/report';
import { DeepCheckProgressNotification, DeepCheckRequest } from '../protocol';
import { check, currentAnalysis } from './diagnostics';
import { sendNotification, ServerState } from './state';

/** Progress notifications at most this often; one held back goes out when the interval ends (the last at once). */
export const PROGRESS_INTERVAL_MS = 250;

export async function deepCheck(
  state: ServerState,
  params: DeepCheckRequest.Params,
  cancel: CancellationToken,
): Promise<DeepCheckRequest.Result> {
  const { uri, id } = params;
  if (!uri.startsWith('file:'))
    throw new ResponseError(ErrorCodes.InvalidParams, 'NeuroCache deep-checks manifest.json files on disk only.');
  const wasRequested = state.documents.deepRequested.has(uri);
  const wasOpen = state.documents.open.has(uri);
  state.documents.deepRequested.add(uri);
  // Throttled, but the newest count is never lost: a check that then takes long (a big file) still shows it.
  let last = 0;
  let latest: DeepCheckProgressNotification.Params | undefined;
  let pending: NodeJS.Timeout | undefined;
  const send = () => {
    pending = undefined;
    last = Date.now();
    void sendNotification(state.connection, DeepCheckProgressNotification.type, latest!);
  };
  state.documents.deepProgress.set(uri, (done, total) => {
    latest = { id, done, total };
    if (done === total) {
      clearTimeout(pending);
      return send();
    }
    if (pending) return;
    const wait = last + PROGRESS_INTERVAL_MS - Date.now();
    if (wait <= 0) send();
    else pending = setTimeout(send, wait);
  });
  const stop = cancel.onCancellationRequested(() => state.documents.tracked.get(uri)?.running?.abort());
  try {
    await check(state, uri);
    // An edit meanwhile supersedes this check with another (deep as well): an open document's current one.
    const analysis = state.documents.open.has(uri)
      ? (await currentAnalysis(state, uri, cancel))?.analysis
      : state.documents.tracked.get(uri)?.analysis;
    if (cancel.isCancellationRequested) {
      if (!wasRequested) state.documents.deepRequested.delete(uri);
      throw new ResponseError(LSPErrorCodes.RequestCancelled, 'Deep check cancelled.');
    }
    // Closing the editor ended the request (documents.ts) and stopped its check.
    if (wasOpen && !state.documents.open.has(uri))
      throw new ResponseError(LSPErrorCodes.RequestCancelled, 'Deep check stopped: the manifest was closed.');
    if (analysis?.kind !== 'seizure-manifest') {
      if (!wasRequested) state.documents.deepRequested.delete(uri);
      throw new ResponseError(
        ErrorCodes.InvalidParams,
        'The deep check needs a seizure manifest (manifest.json) that Python can read.',
      );
    }
    if (!analysis.deep)
      throw new ResponseError(
        ErrorCodes.InvalidRequest,
        'The deep check needs content checks: turn on neurocache.contentChecks.',
      );
    const count = (code: string) => analysis.diagnostics.filter((d) => d.code === code).length;
    const files = analysis.deep.filter(Boolean).length;
    const nonFiniteWindows = count('non-finite-windows');
    const unclippedWindows = count('unclipped-windows');
    const unreadable = analysis.deep.filter((d) => d && !d.ok).length;
    const findings =
      nonFiniteWindows + unclippedWindows
        ? `${plural(nonFiniteWindows, 'listed window')} with NaN/Inf, ${plural(unclippedWindows, 'listed window')} beyond ±10: see the problems`
        : 'every listed window is finite and within ±10';
    const broken = unreadable ? `; ${plural(unreadable, 'file')} whose windows cannot be read whole` : '';
    return {
      files,
      nonFiniteWindows,
      unclippedWindows,
      message: `Deep-checked ${plural(files, 'cache file')}: ${findings}${broken}.`,
    };
  } finally {
    stop.dispose();
    clearTimeout(pending);
    state.documents.deepProgress.delete(uri);
  }
}
