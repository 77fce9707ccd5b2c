/**
 * Health for the status bar (`neurocache/status`): what the server is busy with (the workspace
 * scan, background checks, downloads), whether something failed that the log explains, the
 * errors and warnings in NeuroCache's files and the last scan. Also the work counters tests and
 * support read (`neurocache/workCounters`, `neurocache/memoryUsage`).
 */
import { MemoryUsageRequest, StatusNotification, WorkCountersRequest } from '../protocol';
import { plural } from '../engine/report';
import { isOurs, sendNotification, ServerState } from './state';

/** What the server is doing right now, in a few words; undefined when idle. */
function activity(state: ServerState, pending: number): string | undefined {
  const doing: string[] = [...state.health.downloads.values()];
  const scan = state.workspace.scan;
  if (scan)
    doing.push(
      scan.found === undefined
        ? 'Looking for files to check'
        : `Checking the workspace (${scan.checked ?? 0}/${scan.found})`,
    );
  else if (pending) doing.push(`Checking ${plural(pending, 'file')}`);
  return doing.length ? doing.join('; ') : undefined;
}

/** Steps a workspace scan's progress is reported in: a scan of any size sends about this many statuses. */
export const SCAN_STATUS_STEPS = 100;

/**
 * Something the status reports may have changed. Every check asks several times (and a scan
 * once per file), so the status is sent at most once per turn of the event loop, and only when
 * it says something new; during a scan, per-file changes (counts, the file number) are sent in
 * SCAN_STATUS_STEPS steps, so a scan of N files neither sends a status per file nor walks the
 * N tracked files once per file.
 */
export function statusChanged(state: ServerState): void {
  if (state.health.statusDue) return;
  state.health.statusDue = true;
  setImmediate(() => {
    state.health.statusDue = false;
    sendStatus(state);
  });
}

function sendStatus(state: ServerState): void {
  if (state.shuttingDown) return;
  const scan = state.workspace.scan;
  const health = state.health.failure ? 'error' : 'ok';
  if (scan?.found) {
    // Cheap to compute: decides, before any walk over the tracked files, whether there is news.
    const step = Math.floor(((scan.checked ?? 0) * SCAN_STATUS_STEPS) / scan.found);
    const key = JSON.stringify(['scan', health, state.health.failure, [...state.health.downloads.values()], step]);
    if (key === state.health.lastStatus) return;
    state.health.lastStatus = key;
    send(state, health);
    return;
  }
  const params = send(state, health, state.health.lastStatus);
  if (params) state.health.lastStatus = params;
}

/** Sends the status unless it equals `unless` (JSON); returns what was sent, as JSON. */
function send(state: ServerState, health: StatusNotification.Params['health'], unless?: string): string | undefined {
  let pending = 0;
  let files = 0;
  let errors = 0;
  let warnings = 0;
  for (const t of state.documents.tracked.values()) {
    if (!isOurs(t)) continue;
    files++;
    errors += t.errors;
    warnings += t.warnings;
    if (t.running) pending++;
  }
  const doing = activity(state, pending);
  const message = state.health.failure ?? (doing ? `${doing}…` : `${plural(files, 'file')} checked`);
  const lastScan = state.workspace.lastScan;
  const params: StatusNotification.Params = {
    health,
    pending,
    files,
    errors,
    warnings,
    activity: doing,
    message,
    ...(lastScan && { lastScan }),
  };
  const json = JSON.stringify(params);
  if (json === unless) return undefined;
  void sendNotification(state.connection, StatusNotification.type, params);
  return json;
}

/**
 * A failure the user should look at: logged as an error, and the status bar turns red with
 * it until the next workspace check that has no failure of its own.
 */
export function reportFailure(state: ServerState, line: string): void {
  state.log.error(line);
  state.health.failure = `${line.split('\n')[0]} (see the NeuroCache output)`;
  state.health.failures++;
  statusChanged(state);
}

export function workCounters(state: ServerState, { uri }: WorkCountersRequest.Params): WorkCountersRequest.Result {
  return { ...state.documents.counters(uri), checking: !!state.documents.tracked.get(uri)?.running };
}

export function memoryUsage(): MemoryUsageRequest.Result {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const { heapUsed, external, rss } = process.memoryUsage();
  return { collected: !!gc, heapUsed, external, rss };
}
