/**
 * Files that are not open: a bounded, cancellable scan of every workspace folder (with its
 * own extra globs), then file watchers that re-check only the documents a changed file can
 * affect (fingerprints make that cheap: only changed cache files are read again).
 */
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  DidChangeWatchedFilesParams,
  FileChangeType,
  FileSystemWatcher,
  WatchKind,
  WorkDoneProgressServerReporter,
  WorkspaceFoldersChangeEvent,
} from 'vscode-languageserver/node';
import { dependenciesOf, dependsOn } from '../service/dependencies';
import { isInside } from '../service/documentFiles';
import { findWorkspaceFiles, isTrackedName } from '../service/workspace';
import { isProjectFile } from '../service/projectConfig';
import { PROJECT_FILE } from '../service/projectFile';
import { check, scheduleCheck, untrack } from './diagnostics';
import { plural } from '../engine/report';
import { CHECKED_FILE_NAMES } from '../protocol';
import { settingsFor } from './settings';
import { isOurs, Scan, ServerState } from './state';
import { reportFailure, statusChanged } from './status';

export const WATCHED_GLOBS = [
  '**/*.npz',
  '**/*.nii',
  '**/*.nii.gz',
  ...Object.values(CHECKED_FILE_NAMES).map((name) => `**/${name}`),
  `**/${PROJECT_FILE}`,
];

/**
 * What the server asks the client to watch: the files above, and deletions of anything. A
 * deleted folder (`rm -rf data/arc`) may arrive as one event for the folder alone, which no
 * file-name glob matches; the documents and cache files inside it are gone all the same.
 */
export const FILE_WATCHERS: FileSystemWatcher[] = [
  ...WATCHED_GLOBS.map((globPattern) => ({ globPattern })),
  { globPattern: '**/*', kind: WatchKind.Delete },
];
const WATCH_DEBOUNCE_MS = 150;

/** Workspace folders (file URIs only) as paths. */
export function folderPaths(uris: readonly string[]): string[] {
  return uris.filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u));
}

async function progress(state: ServerState, title: string): Promise<WorkDoneProgressServerReporter | undefined> {
  if (!state.client.progress) return undefined;
  const reporter = await state.connection.window.createWorkDoneProgress();
  reporter.begin(title, 0, undefined, true);
  return reporter;
}

/**
 * Finds and checks every document in the workspace; resolves with the number checked. A scan
 * already under way is joined, unless `restart` (the folders or their settings changed): then
 * it stops, and whoever waits on it gets the new scan's count.
 */
export function scanWorkspace(state: ServerState, restart = false): Promise<number> {
  if (state.workspace.scan && !restart) return state.workspace.scan.done;
  state.workspace.scan?.controller.abort();
  const controller = new AbortController();
  const scan: Scan = { controller, done: Promise.resolve(0) };
  scan.done = runScan(state, scan).then((checked) => {
    if (state.workspace.scan === scan) state.workspace.scan = undefined;
    statusChanged(state);
    // Stopped for a newer scan: answer with that one.
    return controller.signal.aborted && state.workspace.scan ? state.workspace.scan.done : checked;
  });
  state.workspace.scan = scan;
  statusChanged(state);
  return scan.done;
}

async function runScan(state: ServerState, scan: Scan): Promise<number> {
  const reporter = await progress(state, 'NeuroCache: checking the workspace');
  reporter?.token.onCancellationRequested(() => scan.controller.abort());
  const stop = scan.controller.signal;
  const started = Date.now();
  const failuresBefore = state.health.failures;
  try {
    const found: string[] = [];
    for (const folder of state.workspace.folders) {
      const { extraGlobs } = await settingsFor(state, pathToFileURL(folder).href);
      found.push(...(await findWorkspaceFiles([folder], extraGlobs, stop)));
    }
    const files = [...new Set(found)].sort();
    scan.found = files.length;
    scan.checked = 0;
    state.log.info(
      `Workspace scan: found ${plural(files.length, 'file')} to check in ${plural(state.workspace.folders.length, 'folder')} (${Date.now() - started} ms)`,
    );
    for (const file of files) {
      if (stop.aborted) break;
      reporter?.report(
        Math.round((scan.checked / files.length) * 100),
        `${scan.checked}/${files.length} ${path.basename(file)}`,
      );
      statusChanged(state);
      const checking = Date.now();
      const uri = pathToFileURL(file).href;
      // An open document is checked from its own events (didOpen, edits, watched files), with
      // its editor text: checking it here again was a second full pass (a second or more of the
      // main thread on a 1M-entry manifest) as the session starts, and stopped the first one.
      if (!state.documents.open.has(uri)) await check(state, uri);
      scan.checked++;
      if (state.log.enabled('debug')) {
        const t = state.documents.tracked.get(uri);
        state.log.debug(
          `checked ${file} in ${Date.now() - checking} ms: ${isOurs(t) ? `${plural(t.errors, 'error')}, ${plural(t.warnings, 'warning')}` : 'not a NeuroCache file'}`,
        );
      }
    }
    // Files checked before that the scan no longer finds: a check drops those that vanished.
    const uris = new Set(files.map((file) => pathToFileURL(file).href));
    const others = [...state.documents.tracked.keys()].filter(
      (uri) => !uris.has(uri) && !state.documents.open.has(uri),
    );
    for (const uri of others) {
      if (stop.aborted) break;
      await check(state, uri);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (stop.aborted)
      state.log.info(`Workspace scan stopped after ${scan.checked} of ${plural(files.length, 'file')} (${seconds} s)`);
    else {
      // Named like ours but another format (a browser extension's manifest.json): not tracked.
      const unrelated = files.slice(0, scan.checked).filter((f) => {
        const uri = pathToFileURL(f).href;
        const t = state.documents.tracked.get(uri);
        // An open document's own check may still be under way: not ours only once it was looked at.
        return state.documents.open.has(uri) ? t?.analysed !== undefined && !isOurs(t) : !isOurs(t);
      }).length;
      state.log.info(
        `Workspace scan: checked ${plural(scan.checked, 'file')} in ${seconds} s${unrelated ? ` (${unrelated} of them ${unrelated === 1 ? 'is' : 'are'} not NeuroCache's)` : ''}`,
      );
      state.workspace.lastScan = {
        files: scan.checked - unrelated,
        seconds: Number(seconds),
        finished: new Date().toISOString(),
      };
      if (state.health.failures === failuresBefore) state.health.failure = undefined;
    }
    return scan.checked;
  } catch (error) {
    reportFailure(state, `Workspace scan failed: ${(error as Error).message}`);
    return scan.checked ?? 0;
  } finally {
    reporter?.done();
  }
}

export function didChangeWatchedFiles(state: ServerState, params: DidChangeWatchedFilesParams): void {
  // From now on no check reuses facts gathered before (an edit's check may come before the re-check below).
  state.documents.factsEpoch++;
  for (const change of params.changes) {
    if (!change.uri.startsWith('file:')) continue;
    const file = path.resolve(fileURLToPath(change.uri)); // a folder's URI may end in a slash
    if (isProjectFile(file)) {
      // Created, changed or deleted: severities change for every file below it (checked again,
      // from fingerprints: no cache file is read for this).
      state.settings.projects.forget();
      for (const uri of state.documents.tracked.keys()) scheduleCheck(state, uri, WATCH_DEBOUNCE_MS);
      continue;
    }
    if (change.type === FileChangeType.Deleted) {
      state.settings.projects.forget(); // a deleted folder may have held one
      forgetDeleted(state, file);
      state.workspace.changedFiles.add(file);
      continue;
    }
    if (isTrackedName(path.basename(file))) {
      // The open buffer is what counts.
      if (!state.documents.open.has(change.uri)) scheduleCheck(state, change.uri, WATCH_DEBOUNCE_MS);
      continue;
    }
    state.workspace.changedFiles.add(file);
  }
  clearTimeout(state.workspace.watchTimer);
  state.workspace.watchTimer = setTimeout(() => recheckDependents(state), WATCH_DEBOUNCE_MS);
}

/**
 * A file or folder was deleted: documents at or under it that are not open go from Problems
 * (an open one keeps its diagnostics until it is closed, as the editor keeps its text).
 */
function forgetDeleted(state: ServerState, deleted: string): void {
  for (const uri of [...state.documents.tracked.keys()]) {
    const t = state.documents.tracked.get(uri)!;
    if (isInside(t.file, deleted) && !state.documents.open.has(uri)) untrack(state, uri);
  }
}

/** Re-checks the documents a changed cache file can affect. */
function recheckDependents(state: ServerState): void {
  const files = new Set(state.workspace.changedFiles);
  state.workspace.changedFiles.clear();
  for (const t of state.documents.tracked.values()) {
    const a = t.analysis;
    const dependencies =
      t.released?.dependencies ??
      (a && a.kind !== 'unrelated' ? dependenciesOf(a, state.workspace.cwdFor(t.file)) : undefined);
    if (dependencies && dependsOn(dependencies, files)) scheduleCheck(state, t.uri, 0);
  }
}

/** Folders added or removed: relative paths resolve differently, and new folders need a scan. */
export function didChangeWorkspaceFolders(state: ServerState, event: WorkspaceFoldersChangeEvent): void {
  const removed = new Set(folderPaths(event.removed.map((f) => f.uri)));
  state.workspace.folders = state.workspace.folders
    .filter((f) => !removed.has(f))
    .concat(folderPaths(event.added.map((f) => f.uri)));
  state.settings.byScope.clear();
  void scanWorkspace(state, true);
  for (const uri of state.documents.tracked.keys()) scheduleCheck(state, uri, 0);
}
