/**
 * The one state object every handler receives (ruff's `Session`, taplo's `WorldState`), in
 * groups: the documents (open and checked), the workspace (folders, trust, the scan, watched
 * changes), settings, health (what the status bar reports) and what the client can do; plus
 * the connection, the log and the cache inspector. Handlers keep no state of their own.
 */
import type { CancellationToken, Connection } from 'vscode-languageserver/node';
import type { FileProblem, NotificationType, RequestType, Settings, WorkCountersRequest } from '../protocol';
import type { Analysis } from '../service/analyze';
import type { Dependencies } from '../service/dependencies';
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
  /**
   * What is left of a closed file's analysis once it has been let go (closedAnalyses.ts): its
   * kind and what it depends on. The analysis is made again from the file when it is needed.
   */
  released?: { kind: Exclude<Analysis['kind'], 'unrelated'>; dependencies: Dependencies };
  errors: number;
  warnings: number;
  /** `Documents.factsEpoch` when the cache-file facts of `analysis` were gathered (undefined: assumed, not gathered). */
  factsEpoch?: number;
  /** The latest check, until it finishes; aborted when a newer one starts or an edit arrives. */
  running?: AbortController;
}

/** Whether the file is one of ours (checked, and found to be a NeuroCache file), whether its analysis is kept or let go. */
export const isOurs = (t: Tracked | undefined): t is Tracked =>
  !!t && (t.analysis !== undefined || t.released !== undefined);

export type WorkCounters = Omit<WorkCountersRequest.Result, 'checking'>;

/** Open documents and the files being checked. */
export class Documents {
  /** Documents open in the editor, by URI. */
  readonly open = new Map<string, OpenDocument>();
  /** Files being checked (open, or found by the scan), by URI. */
  readonly tracked = new Map<string, Tracked>();
  /**
   * Closed files whose analysis is kept whole, oldest first, with the length of the text each was
   * made from (closedAnalyses.ts keeps their total within a bound).
   */
  readonly closedKept = new Map<string, number>();
  /**
   * Counts the checks that may find cache files or settings changed (all but edits): facts gathered
   * at an earlier count are not reused (diagnostics.ts).
   */
  factsEpoch = 0;
  /** Pending debounced checks per URI. */
  readonly checkTimers = new Map<string, NodeJS.Timeout>();
  /** Emits `checked` (with the URI) whenever a check ends, for requests that need the current analysis. */
  readonly checks = new EventEmitter();
  /** Explorer badges: what was last sent per document (JSON), and what is due this turn. */
  readonly fileProblems = { sent: new Map<string, string>(), due: new Map<string, FileProblem[]>() };
  private readonly work = new Map<string, WorkCounters>();
  /** Manifests whose checks include the deep check (the command asked for it; the setting does it for all). */
  readonly deepRequested = new Set<string>();
  /** Progress listeners of deep checks under way, by document URI. */
  readonly deepProgress = new Map<string, (done: number, total: number) => void>();

  constructor() {
    this.checks.setMaxListeners(0); // one listener per waiting request, however many there are
  }

  track(uri: string): Tracked {
    let t = this.tracked.get(uri);
    if (!t) this.tracked.set(uri, (t = { uri, file: fileURLToPath(uri), errors: 0, warnings: 0 }));
    return t;
  }

  counters(uri: string): WorkCounters {
    let counters = this.work.get(uri);
    if (!counters)
      this.work.set(uri, (counters = { textBuilds: 0, parses: 0, reparses: 0, contentChecks: 0, publishes: 0 }));
    return counters;
  }

  /** The open document's latest text (queued edits applied once), or undefined when it is not open. */
  openText(uri: string): TextSnapshot | undefined {
    const document = this.open.get(uri);
    if (!document) return undefined;
    const before = document.textBuilds;
    const snapshot = document.snapshot();
    this.counters(uri).textBuilds += document.textBuilds - before;
    return snapshot;
  }
}

/** The workspace scan under way, and how far it has got (for the status bar). */
export interface Scan {
  controller: AbortController;
  done: Promise<number>;
  checked?: number;
  found?: number;
}

/** The workspace: its folders, whether it is trusted, the scan, and changes the watchers reported. */
export class Workspace {
  /** Workspace folders as file system paths. */
  folders: string[] = [];
  /** False in a restricted (untrusted) workspace: nothing is written or downloaded. */
  trusted = true;
  scan?: Scan;
  /** The last workspace scan that finished: NeuroCache's files it checked, how long it took, when (for the status bar's tooltip). */
  lastScan?: { files: number; seconds: number; finished: string };
  /** Cache files reported changed by the watchers, waiting for their debounce. */
  readonly changedFiles = new Set<string>();
  watchTimer?: NodeJS.Timeout;

  /** The workspace folder holding `file`, if any (project files are looked up no higher). */
  folderOf(file: string): string | undefined {
    return this.folders
      .filter((f) => file === f || file.startsWith(f.endsWith('/') ? f : `${f}/`))
      .sort((a, b) => b.length - a.length)[0];
  }

  /** The working directory a document's relative paths fall back to: its workspace folder. */
  cwdFor(file: string): string {
    return workingDirectoryFor(file, this.folders);
  }
}

/** Settings as the client gave them. */
export class SettingsCache {
  /** Settings per scope URI (a document or a folder); cleared on `didChangeConfiguration`. */
  readonly byScope = new Map<string, Promise<Settings>>();
  /** The settings line last logged per workspace folder (a change is logged once). */
  readonly logged = new Map<string, string>();
  /** Settings pushed in `didChangeConfiguration` by clients that cannot be asked for them. */
  pushed: unknown;
  /** `.neurocache.json` files found per folder, forgotten when one changes. */
  readonly projects = new ProjectConfigs();
  /** Project-file problems already logged (each once). */
  readonly loggedProjectProblems = new Set<string>();
}

/** What the status bar reports besides the scan: failures and downloads. */
export class Health {
  /** The latest failure the user should look at in the log (status health 'error'), until the next success of the same kind. */
  failure?: string;
  /** Failures reported since the server started (a scan clears `failure` only if it saw none). */
  failures = 0;
  /** Downloads under way (request id → what the status bar says about it). */
  readonly downloads = new Map<string, string>();
  /** A status notification is due (sent once per turn of the event loop however many changes asked for it). */
  statusDue = false;
  /** What the last status sent said, to send only changes (status.ts). */
  lastStatus?: string;
}

/** What the client said it can do, at initialisation. */
export interface ClientCapabilities {
  configuration: boolean;
  progress: boolean;
  watcherRegistration: boolean;
  workspaceFolders: boolean;
  /** The client has the data views (`InitializationOptions.dataViews`): "View sample" code lenses. */
  dataViews: boolean;
  /** The client reveals and opens files (`InitializationOptions.fileCommands`): offered for findings about a data file. */
  fileCommands: boolean;
}

export class ServerState {
  readonly documents = new Documents();
  readonly workspace = new Workspace();
  readonly settings = new SettingsCache();
  readonly health = new Health();
  readonly client: ClientCapabilities = {
    configuration: false,
    progress: false,
    watcherRegistration: false,
    workspaceFolders: false,
    dataViews: false,
    fileCommands: false,
  };
  inspector!: CacheInspector;
  shuttingDown = false;
  readonly log: ServerLog;

  constructor(readonly connection: Connection) {
    this.log = new ServerLog(connection);
  }
}

// The protocol's typed messages, bound to the server's connection.
export function onRequest<P, R>(
  connection: Connection,
  type: RequestType<P, R>,
  handler: (params: P, token: CancellationToken) => R | Promise<R>,
): void {
  // The result type is checked against `type` above; the connection itself takes any JSON.
  connection.onRequest<unknown, unknown>(type.method, (params: P, token: CancellationToken) => handler(params, token));
}

export function sendNotification<P>(connection: Connection, type: NotificationType<P>, params: P): Promise<void> {
  return connection.sendNotification(type.method, params);
}
