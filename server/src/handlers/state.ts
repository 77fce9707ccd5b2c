/**
 * The one state object every handler receives (taplo's `WorldState`): the connection, the
 * open documents, the files being checked, the cache inspector, the workspace folders and
 * what the client can do. Handlers keep no state of their own.
 */
import type { CancellationToken, Connection } from 'vscode-languageserver/node';
import type { NotificationType, RequestType, Settings, WorkCountersRequest } from '../protocol';
import type { Analysis } from '../service/analyze';
import { workingDirectoryFor } from '../service/documentFiles';
import type { CacheInspector } from '../service/inspector';
import type { OpenDocument, TextSnapshot } from '../service/textDocument';
import { ProjectConfigs } from '../service/projectConfig';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { ServerLog } from './log';

/** A JSON file being checked: open in the editor, or found on disk by the workspace scan. */
export interface Tracked {
  uri: string;
  file: string;
  analysis?: Analysis;
  /** The text `analysis` was made from, for mapping hover positions onto it. */
  analysed?: TextSnapshot;
  errors: number;
  warnings: number;
  /** The latest check, until it finishes; aborted when a newer one starts or an edit arrives. */
  running?: AbortController;
}

export type WorkCounters = WorkCountersRequest.Result;

export class ServerState {
  readonly documents = new Map<string, OpenDocument>();
  readonly tracked = new Map<string, Tracked>();
  /** Pending debounced checks per URI. */
  readonly checkTimers = new Map<string, NodeJS.Timeout>();
  /** Emits `checked` (with the URI) whenever a check ends, for requests that need the current analysis. */
  readonly checks = new EventEmitter();
  readonly work = new Map<string, WorkCounters>();
  /** Cache files reported changed by the watchers, waiting for their debounce. */
  readonly changedFiles = new Set<string>();
  watchTimer?: NodeJS.Timeout;
  /** Settings per scope URI (a document or a folder); cleared on `didChangeConfiguration`. */
  readonly settings = new Map<string, Promise<Settings>>();
  /** The settings line last logged per workspace folder (a change is logged once). */
  readonly loggedSettings = new Map<string, string>();
  /** `.neurocache.json` files found per folder, forgotten when one changes; the problems of each logged once. */
  readonly projects = new ProjectConfigs();
  readonly loggedProjectProblems = new Set<string>();
  /** Settings pushed in `didChangeConfiguration` by clients that cannot be asked for them. */
  pushedSettings: unknown;
  inspector!: CacheInspector;
  trusted = true;
  /** Workspace folders as file system paths. */
  folders: string[] = [];
  readonly client = { configuration: false, progress: false, watcherRegistration: false, workspaceFolders: false };
  /** The last workspace scan that finished: NeuroCache's files it checked, how long it took, when (for the status bar's tooltip). */
  lastScan?: { files: number; seconds: number; finished: string };
  /** The workspace scan under way, and how far it has got (for the status bar). */
  scan?: { controller: AbortController; done: Promise<number>; checked?: number; found?: number };
  /** Downloads under way (request id → what the status bar says about it). */
  readonly downloads = new Map<string, string>();
  /** The latest failure the user should look at in the log (status health 'error'), until the next success of the same kind. */
  failure?: string;
  /** Failures reported since the server started (a scan clears `failure` only if it saw none). */
  failures = 0;
  shuttingDown = false;
  readonly log: ServerLog;

  constructor(readonly connection: Connection) {
    this.log = new ServerLog(connection);
    this.checks.setMaxListeners(0); // one listener per waiting request, however many there are
  }

  track(uri: string): Tracked {
    let t = this.tracked.get(uri);
    if (!t) this.tracked.set(uri, (t = { uri, file: fileURLToPath(uri), errors: 0, warnings: 0 }));
    return t;
  }

  counters(uri: string): WorkCounters {
    let counters = this.work.get(uri);
    if (!counters) this.work.set(uri, (counters = { textBuilds: 0, parses: 0, contentChecks: 0, publishes: 0 }));
    return counters;
  }

  /** The open document's latest text (queued edits applied once), or undefined when it is not open. */
  openText(uri: string): TextSnapshot | undefined {
    const document = this.documents.get(uri);
    if (!document) return undefined;
    const before = document.textBuilds;
    const snapshot = document.snapshot();
    this.counters(uri).textBuilds += document.textBuilds - before;
    return snapshot;
  }

  /** The workspace folder holding `file`, if any (project files are looked up no higher). */
  folderOf(file: string): string | undefined {
    return this.folders.filter((f) => file === f || file.startsWith(f.endsWith('/') ? f : `${f}/`)).sort((a, b) => b.length - a.length)[0];
  }

  /** The working directory a document's relative paths fall back to: its workspace folder. */
  cwdFor(file: string): string {
    return workingDirectoryFor(file, this.folders);
  }
}

// The protocol's typed messages, bound to the server's connection.
export function onRequest<P, R>(connection: Connection, type: RequestType<P, R>, handler: (params: P, token: CancellationToken) => R | Promise<R>): void {
  // The result type is checked against `type` above; the connection itself takes any JSON.
  connection.onRequest<unknown, unknown>(type.method, (params: P, token: CancellationToken) => handler(params, token));
}

export function sendNotification<P>(connection: Connection, type: NotificationType<P>, params: P): Promise<void> {
  return connection.sendNotification(type.method, params);
}
