/**
 * Closed files keep their analysis whole only within a bound: an analysis holds its text and
 * parse (several times the file's size), and the workspace scan and closed editors leave one per
 * file — 10,000 of them would hold gigabytes. Past the bound the oldest are let go, keeping only
 * their kind, counts and dependencies (enough for the status, the Problems panel and the
 * watchers); a request that needs one again (a data view) checks the file again, cheaply, since
 * the fingerprint store answers for unchanged cache files. Open documents are always kept whole.
 */
import { dependenciesOf } from '../service/dependencies';
import type { ServerState, Tracked } from './state';

/** At most this much text (in characters) and this many closed files have their analyses kept whole; the newest always is. */
export const CLOSED_KEPT_CHARACTERS = 8 << 20;
export const CLOSED_KEPT_FILES = 64;

/** A closed file's check has finished: its analysis is the newest kept; the oldest over the bound are let go. */
export function keepClosed(state: ServerState, t: Tracked): void {
  const kept = state.documents.closedKept;
  kept.delete(t.uri);
  if (!t.analysis || !t.analysed) return;
  kept.set(t.uri, t.analysed.length);
  let total = 0;
  for (const characters of kept.values()) total += characters;
  for (const [uri, characters] of kept) {
    if ((total <= CLOSED_KEPT_CHARACTERS && kept.size <= CLOSED_KEPT_FILES) || uri === t.uri) break;
    kept.delete(uri);
    total -= characters;
    const old = state.documents.tracked.get(uri);
    if (old) release(state, old);
  }
}

/** The file is open again, or no longer tracked: it is no longer among the kept closed analyses. */
export function forgetClosed(state: ServerState, uri: string): void {
  state.documents.closedKept.delete(uri);
}

function release(state: ServerState, t: Tracked): void {
  const { analysis } = t;
  if (!analysis || analysis.kind === 'unrelated' || state.documents.open.has(t.uri)) return;
  t.released = { kind: analysis.kind, dependencies: dependenciesOf(analysis, state.workspace.cwdFor(t.file)) };
  t.analysis = undefined;
  t.analysed = undefined;
}
