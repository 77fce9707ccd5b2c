/**
 * Health for the status bar (`neurocache/status`): what the server is busy with (the workspace
 * scan, background checks, downloads), whether something failed that the log explains, the
 * errors and warnings in NeuroCache's files and the last scan. Also the work counters tests and
 * support read (`neurocache/workCounters`).
 */
import { StatusNotification, WorkCountersRequest } from '../protocol';
import { plural } from '../engine/report';
import { sendNotification, ServerState } from './state';

/** What the server is doing right now, in a few words; undefined when idle. */
function activity(state: ServerState, pending: number): string | undefined {
  const doing: string[] = [...state.downloads.values()];
  const scan = state.scan;
  if (scan) doing.push(scan.found === undefined ? 'Looking for files to check' : `Checking the workspace (${scan.checked ?? 0}/${scan.found})`);
  else if (pending) doing.push(`Checking ${plural(pending, 'file')}`);
  return doing.length ? doing.join('; ') : undefined;
}

export function sendStatus(state: ServerState): void {
  let pending = 0;
  let files = 0;
  let errors = 0;
  let warnings = 0;
  for (const t of state.tracked.values()) {
    if (!t.analysis || t.analysis.kind === 'unrelated') continue;
    files++;
    errors += t.errors;
    warnings += t.warnings;
    if (t.running) pending++;
  }
  const doing = activity(state, pending);
  const health = state.failure ? 'error' : 'ok';
  const message = state.failure ?? (doing ? `${doing}…` : `${plural(files, 'file')} checked`);
  void sendNotification(state.connection, StatusNotification.type, { health, pending, files, errors, warnings, activity: doing, message, ...(state.lastScan && { lastScan: state.lastScan }) });
}

/**
 * A failure the user should look at: logged as an error, and the status bar turns red with
 * it until the next workspace check that has no failure of its own.
 */
export function reportFailure(state: ServerState, line: string): void {
  state.log.error(line);
  state.failure = `${line.split('\n')[0]} (see the NeuroCache output)`;
  state.failures++;
  sendStatus(state);
}

export function workCounters(state: ServerState, { uri }: WorkCountersRequest.Params): WorkCountersRequest.Result {
  return { ...state.counters(uri) };
}
