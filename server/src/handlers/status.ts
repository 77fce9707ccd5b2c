/**
 * Health for the status bar (`neurocache/status`) and the work counters tests and support
 * read (`neurocache/workCounters`).
 */
import { StatusNotification, WorkCountersRequest } from '../protocol';
import { plural } from '../engine/report';
import { sendNotification, ServerState } from './state';

export function sendStatus(state: ServerState): void {
  let pending = 0;
  let errors = 0;
  let warnings = 0;
  let files = 0;
  for (const t of state.tracked.values()) {
    if (!t.analysis) continue;
    files++;
    if (t.running) pending++;
    errors += t.errors;
    warnings += t.warnings;
  }
  const message = pending ? `Checking ${plural(pending, 'file')}…` : errors ? `${plural(errors, 'error')} in ${plural(files, 'checked file')}` : `${plural(files, 'file')} checked`;
  void sendNotification(state.connection, StatusNotification.type, { pending, files, errors, warnings, message });
}

export function workCounters(state: ServerState, { uri }: WorkCountersRequest.Params): WorkCountersRequest.Result {
  return { ...state.counters(uri) };
}
