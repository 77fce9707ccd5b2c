/**
 * The contract between the VS Code client and the language server: every custom message,
 * command id, initialisation option and setting (with its default), in one place that both
 * bundles import. It imports nothing: neither side's implementation, nor a JSON-RPC library
 * (the client's and the server's libraries are different versions whose message classes do
 * not mix); each side binds these descriptors to its own connection with a typed helper.
 *
 * Other LSP clients (Neovim, Helix, Emacs) need none of this: they get diagnostics, hovers and
 * code actions through standard LSP, and run the commands by name with `workspace/executeCommand`.
 */

/** A request: its method, and (as types only) its parameters and result. */
export interface RequestType<P, R> {
  readonly method: string;
  /** Never set: carries the parameter and result types. */
  readonly types?: { params: P; result: R };
}

/** A notification: its method, and (as a type only) its parameters. */
export interface NotificationType<P> {
  readonly method: string;
  /** Never set: carries the parameter type. */
  readonly types?: { params: P };
}

/** Options the client passes in `initialize`. */
export interface InitializationOptions {
  /** Where the fingerprint store lives (the extension's global storage), never a data folder. */
  storageDirectory?: string;
  /** False in a restricted-mode (untrusted) workspace: the server then never writes. */
  trusted?: boolean;
  /**
   * Worker threads that read cache files; 0 or absent uses one per core. The machine setting
   * `neurocache.maxWorkers`, read by the client at start-up (it restarts the server when the
   * setting changes): threads cannot be added to a running pool per resource.
   */
  maxWorkers?: number;
  /**
   * Cache files read at once, independent of the worker threads; absent uses the default. The
   * machine setting `neurocache.io.readsInFlight`, read by the client at start-up like `maxWorkers`.
   */
  readsInFlight?: number;
  /** `neurocache.logLevel` at start-up; later changes arrive with `didChangeConfiguration`. */
  logLevel?: LogLevel;
  /** The client has the data views (`ClientCommands.viewSample`): the server then offers "View sample" code lenses. */
  dataViews?: boolean;
  /** The client has `ClientCommands.revealFile` and `openFile`: the server offers them for findings about a data file. */
  fileCommands?: boolean;
}

/**
 * How much the server and the client log (`window/logMessage` and the NeuroCache output
 * channel): each level includes the ones before it. Startup, scans and downloads are `info`;
 * every file checked is `debug`.
 */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * A number option's range and default. Every numeric setting has one row in `NUMBER_OPTIONS`,
 * from which package.json's declaration is checked (a contract test), the server resolves what
 * a client sends and the CLI makes its help and its usage errors.
 */
export interface NumberRange {
  readonly default: number;
  readonly minimum: number;
  /** Absent: no bound beyond being finite (and, for integers, exactly representable). */
  readonly maximum?: number;
  readonly integer: boolean;
}

/**
 * The numeric settings, keyed as under `neurocache.` in package.json. The training numbers are
 * the trainer's own (brain-go-brr-v2: seed 42, 0.3 full and 2.5 no-seizure windows per partial
 * one), the cross-validation ones arc-meshchop's (random_state 42, 3 outer and 3 inner folds).
 */
export const NUMBER_OPTIONS = {
  /** 0: one worker thread per core. */
  maxWorkers: { default: 0, minimum: 0, maximum: 64, integer: true },
  // Enough files in flight to hide ~100 ms round trips; memory is bounded by bytes, not by this.
  'io.readsInFlight': { default: 64, minimum: 1, maximum: 4096, integer: true },
  'download.parallel': { default: 8, minimum: 1, maximum: 64, integer: true },
  maxDiagnosticsPerFile: { default: 1000, minimum: 1, integer: true },
  'training.seed': { default: 42, minimum: 0, integer: true },
  'training.fullRatio': { default: 0.3, minimum: 0, integer: false },
  'training.backgroundRatio': { default: 2.5, minimum: 0, integer: false },
  /** numpy's legacy RandomState takes seeds 0..2**32-1. */
  'cv.seed': { default: 42, minimum: 0, maximum: 2 ** 32 - 1, integer: true },
  /** scikit-learn needs at least 2 folds. */
  'cv.outerFolds': { default: 3, minimum: 2, maximum: 1_000_000, integer: true },
  'cv.innerFolds': { default: 3, minimum: 2, maximum: 1_000_000, integer: true },
} as const satisfies Record<string, NumberRange>;

export type NumberOption = keyof typeof NUMBER_OPTIONS;

/** Whether `value` is a number the option takes. */
export function inRange(range: NumberRange, value: number): boolean {
  const kind = range.integer ? Number.isSafeInteger(value) : Number.isFinite(value);
  return kind && value >= range.minimum && value <= (range.maximum ?? Infinity);
}

/** What the option takes, for messages: "a whole number from 1 to 64", "a non-negative number". */
export function describeRange(range: NumberRange): string {
  const kind = range.integer ? 'whole number' : 'number';
  if (range.maximum !== undefined) return `a ${kind} from ${range.minimum} to ${range.maximum}`;
  return range.minimum === 0 ? `a non-negative ${kind}` : `a ${kind} of at least ${range.minimum}`;
}

/** The three JSON files NeuroCache checks (besides `extraGlobs`), by format. */
export const CHECKED_FILE_NAMES = {
  'seizure-manifest': 'manifest.json',
  'eeg-dataset-index': '_dataset_index.json',
  'arc-dataset-info': 'dataset_info.json',
} as const;

/**
 * Training's `default_rng` seed and composition ratios, for exact hover numbers: the shape of
 * the engine's `CompositionSettings` (engine/eeg/composition.ts), under the same name, since
 * this contract imports nothing.
 */
export interface CompositionSettings {
  seed: number;
  fullRatio: number;
  backgroundRatio: number;
}

/** arc-meshchop's cross-validation seed and fold counts, for the folds in hovers and cv-* diagnostics. */
export interface CvSettings {
  seed: number;
  outerFolds: number;
  innerFolds: number;
}

/**
 * Settings the server pulls per resource (`workspace/configuration`, section `neurocache`,
 * scoped to the document or workspace folder), re-pulled after `didChangeConfiguration`.
 */
export interface Settings {
  /** Read labels and masks (counts, categories); false checks schema and existence only. */
  contentChecks: boolean;
  /**
   * Also inflate every listed EEG cache file's `windows` and report NaN/Inf and values beyond
   * ±10 (`non-finite-windows`, `unclipped-windows`); results are remembered by fingerprint.
   * Off by default: it reads the whole cache once. Needs `contentChecks`.
   */
  deepChecks: boolean;
  /** Extra glob patterns (beyond manifest.json / dataset_info.json) of files to check. */
  extraGlobs: string[];
  /** Most diagnostics published per file; the rest are summarised in one. */
  maxDiagnosticsPerFile: number;
  training: CompositionSettings;
  cv: CvSettings;
  diagnostics: DiagnosticsSettings;
  preprocessing: PreprocessingSettings;
  build: BuildSettings;
}

/** How findings are shown: per code `off`, `hint`, `information`, `warning` or `error` (over `.neurocache.json`). */
export interface DiagnosticsSettings {
  severity: Record<string, string>;
}

/**
 * The manifest build (Rebuild manifest.json, Build manifest.json here, `manifest build`):
 * `exclude` lists glob patterns of cache files it leaves out on purpose, on top of the project
 * file's `build.exclude` (engine/eeg/buildExclude.ts says how patterns match). A pattern with a
 * `/` is relative to the workspace folder.
 */
export interface BuildSettings {
  exclude: string[];
}

/** The setting, the project file's key and the CLI flag for left-out cache files (one name each, shown in messages). */
export const BUILD_EXCLUDE = {
  setting: 'neurocache.build.exclude',
  projectKey: 'build.exclude',
  flag: '--exclude',
} as const;

/** arc-meshchop's `--resample-method` (train, evaluate, experiment): its preprocessing findings are errors. */
export interface PreprocessingSettings {
  resampleMethod: 'scipy_zoom' | 'nibabel_conform';
}

/**
 * Defaults of the per-resource settings (the numbers from `NUMBER_OPTIONS`); the resample method is
 * arc-meshchop's (`DEFAULT_RESAMPLE_METHOD` in engine/arc/preprocessing.ts), filled in by the server.
 */
export const DEFAULT_SETTINGS: Omit<Settings, 'training' | 'cv' | 'preprocessing'> = {
  contentChecks: true,
  deepChecks: false,
  extraGlobs: [],
  maxDiagnosticsPerFile: NUMBER_OPTIONS.maxDiagnosticsPerFile.default,
  diagnostics: { severity: {} },
  build: { exclude: [] },
};

/** The trainer's defaults (the engine's `DEFAULT_COMPOSITION`). */
export const DEFAULT_COMPOSITION_SETTINGS: CompositionSettings = {
  seed: NUMBER_OPTIONS['training.seed'].default,
  fullRatio: NUMBER_OPTIONS['training.fullRatio'].default,
  backgroundRatio: NUMBER_OPTIONS['training.backgroundRatio'].default,
};

/** arc-meshchop's defaults (the engine's `DEFAULT_CV`). */
export const DEFAULT_CV_SETTINGS: CvSettings = {
  seed: NUMBER_OPTIONS['cv.seed'].default,
  outerFolds: NUMBER_OPTIONS['cv.outerFolds'].default,
  innerFolds: NUMBER_OPTIONS['cv.innerFolds'].default,
};

/** The ARC download's settings, read by the client and sent with the download request. */
export interface DownloadSettings {
  includeTurboSpinEcho: boolean;
  requireMask: boolean;
  /** Shards fetched at once (the CLI's `arc download --parallel`). */
  parallel: number;
}

/** Machine-scoped settings: read by the client, passed in `initialize` or with a request. */
export interface MachineSettings {
  maxWorkers: number;
  /** Reading on network storage, where every file access is a round trip. */
  io: { readsInFlight: number };
  hubEndpoint: string;
  /**
   * Deprecated: the client keeps the Hub token in VS Code's secret storage. A value found
   * here is moved there (and removed from the settings) the first time a token is needed.
   */
  hubToken: string;
  download: DownloadSettings;
}

/** Most cache files read at once (`neurocache.io.readsInFlight`'s maximum). */
export const MAX_READS_IN_FLIGHT = NUMBER_OPTIONS['io.readsInFlight'].maximum;

/** Most shards a download may fetch at once (`neurocache.download.parallel`'s maximum). */
export const MAX_DOWNLOAD_PARALLEL = NUMBER_OPTIONS['download.parallel'].maximum;

export const DEFAULT_MACHINE_SETTINGS: MachineSettings = {
  maxWorkers: NUMBER_OPTIONS.maxWorkers.default,
  io: { readsInFlight: NUMBER_OPTIONS['io.readsInFlight'].default },
  hubEndpoint: '',
  hubToken: '',
  download: { includeTurboSpinEcho: false, requireMask: true, parallel: NUMBER_OPTIONS['download.parallel'].default },
};

/**
 * Window-scoped settings (user or workspace, never per folder): read by the client, passed in
 * `initialize` and re-read by the server (section `neurocache`, no scope) on `didChangeConfiguration`.
 */
export interface WindowSettings {
  logLevel: LogLevel;
}

export const DEFAULT_WINDOW_SETTINGS: WindowSettings = { logLevel: 'info' };

/** Commands the server executes (`workspace/executeCommand`); each file command takes the document URI. */
export const Commands = {
  /** Rescan the manifest's directory and rewrite manifest.json exactly as the Python builder would. */
  rebuildManifest: 'neurocache.rebuildManifest',
  /** Remove the entries whose cache files do not exist. */
  dropMissingEntries: 'neurocache.dropMissingEntries',
  /** Recount every mask and write the counts into lesion_volumes. */
  recomputeLesionVolumes: 'neurocache.recomputeLesionVolumes',
  /** Rewrite paths that resolve only via a parent folder or the working directory, relative to dataset_info.json. */
  rewriteLegacyPaths: 'neurocache.rewriteLegacyPaths',
  /** Rewrite _dataset_index.json's window_counts from each cache's windows.shape[0], as json.dump writes it. */
  rewriteWindowCounts: 'neurocache.rewriteWindowCounts',
  /** Find and check every manifest.json / dataset_info.json in the workspace. Takes no argument. */
  checkWorkspace: 'neurocache.checkWorkspace',
  /**
   * Write manifest.json in a folder (the argument: its file: URI) exactly as the Python builder
   * would: a rebuild when a manifest is there, a new file otherwise (never over a file that is not a manifest).
   */
  buildManifestHere: 'neurocache.buildManifestHere',
  /**
   * Leave one cache file out of manifest builds: arguments the manifest's file: URI and the
   * cache file's name; adds it to `build.exclude` in the `.neurocache.json` that applies to the
   * manifest (a new one in its workspace folder when none does), so the CLI's build agrees.
   */
  excludeFromBuild: 'neurocache.excludeFromBuild',
} as const;

export type CommandId = (typeof Commands)[keyof typeof Commands];

/** Commands the client implements itself (palette entries that are not server commands). */
export const ClientCommands = {
  /** Ask for a folder and download the ARC dataset into it (through `DownloadArcRequest`). */
  downloadArc: 'neurocache.downloadArc',
  /** The same with `force`: download and rewrite everything, even over a complete dataset. */
  forceDownloadArc: 'neurocache.forceDownloadArc',
  /** Ask for the Hugging Face token (a password box) and keep it in VS Code's secret storage. */
  setHubToken: 'neurocache.setHubToken',
  /** The Settings editor on the Hub endpoint (the Remote settings in a remote window: it is machine-scoped). */
  openHubSettings: 'neurocache.openHubSettings',
  /** Show the NeuroCache output channel (the client's and the server's log). */
  showOutput: 'neurocache.showOutput',
  /** Stop the language server and start a new one. */
  restartServer: 'neurocache.restartServer',
  /** Deep-check the active manifest's cache windows (through `DeepCheckRequest`), in a cancellable notification. */
  deepCheckWindows: 'neurocache.deepCheckWindows',
  /** Open a NIfTI image (the argument: its file: URI) in the viewer, with its lesion mask over it. */
  viewSample: 'neurocache.viewSample',
  /** Select a file (the argument: its file: URI) in the Explorer. */
  revealFile: 'neurocache.revealFile',
  /** Open a file (the argument: its file: URI) in its default editor (the NPZ view for a cache file). */
  openFile: 'neurocache.openFile',
  /** Open a Markdown file (its URI) rendered at a 1-based line: diagnostics' code links, in VS Code. */
  openDocs: 'neurocache.openDocs',
} as const;

/** The client commands that write (downloads): disabled in a restricted (untrusted) workspace. */
export const DOWNLOAD_COMMANDS: ReadonlySet<string> = new Set<string>([
  ClientCommands.downloadArc,
  ClientCommands.forceDownloadArc,
]);

/**
 * The commands that write: each acts on one file (the URI argument, or the active editor's
 * file from the palette) or, for buildManifestHere, one folder; none runs in a restricted (untrusted) workspace.
 */
export const WRITING_COMMANDS: ReadonlySet<string> = new Set<CommandId>([
  Commands.rebuildManifest,
  Commands.dropMissingEntries,
  Commands.recomputeLesionVolumes,
  Commands.rewriteLegacyPaths,
  Commands.rewriteWindowCounts,
  Commands.buildManifestHere,
  Commands.excludeFromBuild,
]);

/**
 * What a command reports back, for the client to show. `ok` false: the command failed or
 * refused (nothing was written); the server has already shown `message` as an error and logged it.
 */
export interface CommandResult {
  ok: boolean;
  message: string;
  /** Show the message as a warning: something the user must act on (e.g. the Python build would stop). */
  warning?: boolean;
}

/**
 * `neurocache/status` — server → client whenever its work starts, advances or ends, and when
 * its health changes. Drives the status bar item (as rust-analyzer's `serverStatus`): what the
 * server is doing, the errors and warnings in NeuroCache's files (VS Code's own counts mix in
 * every other extension's) and the last workspace scan.
 */
export namespace StatusNotification {
  export const method = 'neurocache/status';
  export interface Params {
    /** 'error': something failed that the user should look at in the output (a check or a download crashed). */
    health: 'ok' | 'error';
    /** Files with background checks queued or running. */
    pending: number;
    /** Checked files (open and found by the workspace scan). */
    files: number;
    /** Errors and warnings shown in those files (after the user's severity overrides). */
    errors: number;
    warnings: number;
    /** The last workspace scan that finished: files checked, seconds, ISO time it finished. */
    lastScan?: { files: number; seconds: number; finished: string };
    /** What the server is busy with, e.g. "Scanning the workspace (3/10)"; absent when idle. */
    activity?: string;
    /** One line for the tooltip, e.g. "Checking 3 files…", "5 files checked" or the failure. */
    message: string;
  }
  export const type: NotificationType<Params> = { method };
}

/** The findings of the files NeuroCache checks about one data file (a cache `.npz`, a `.nii.gz`). */
export interface FileProblem {
  /** The data file's `file:` URI. */
  uri: string;
  errors: number;
  warnings: number;
  /** The first findings, one per line, for the Explorer badge's tooltip. */
  tooltip: string;
}

/**
 * `neurocache/fileProblems` — server → client when a checked document's findings about data
 * files change (sent with its diagnostics, coalesced per turn of the event loop): the Explorer
 * badges them, as Git and DVC badge theirs. `files` replaces what that document said before;
 * empty when the document is no longer checked.
 */
export namespace FileProblemsNotification {
  export const method = 'neurocache/fileProblems';
  export interface Params {
    /** The manifest.json / dataset_info.json the findings are in. */
    document: string;
    files: FileProblem[];
  }
  export const type: NotificationType<Params> = { method };
}

/** What an ARC download reads when the request (or the CLI) names no other. */
export const ARC_DOWNLOAD_DEFAULTS = {
  repo: 'hugging-science/arc-aphasia-bids',
  revision: 'main',
  /** The output folder, relative to the workspace folder (the CLI: to the working directory). */
  out: 'data/arc',
} as const;

/** Progress of an ARC download, as the download reports it. */
export interface DownloadProgress {
  shards: number;
  shardsDone: number;
  /** Overall progress 0..1, counting rows read within the shards under way. */
  fraction: number;
  sessionsWritten: number;
  /** Rows skipped as unusable (bad ids or bytes, duplicates) so far; each is reported. */
  problems: number;
  bytes: number;
  bytesPerSecond: number;
  etaSeconds?: number;
}

/** "1 entry", "2 entries" (the server's messages and the client's status bar). */
export const plural = (n: number, one: string, many = `${one}s`) =>
  `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/**
 * A byte count of `DownloadProgress` (or any other), as download tools print it: "950 B", "12.3 MB", "1.2 GB".
 * Here because the client, the server and the CLI all show these counts.
 */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

/** "2 m 10 s", "45 s", "1 h 5 m": a wait as people read it (rounded up to the second). */
export function formatWait(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} m${s % 60 ? ` ${s % 60} s` : ''}`;
  const m = Math.ceil((s % 3600) / 60);
  return `${Math.floor(s / 3600)} h${m ? ` ${m} m` : ''}`;
}

/** Why a row the filters keep cannot be used. */
export type RowProblemReason = 'bad-id' | 'bad-image' | 'bad-mask' | 'duplicate';

/** A row the filters keep that could not be used; nothing of it is written. */
export interface RowProblem {
  shard: string;
  /** 0-based row within the shard. */
  row: number;
  subject: string | null;
  session: string | null;
  reason: RowProblemReason;
  message: string;
}

/**
 * `neurocache/downloadArc` — client → server request behind "Download ARC dataset". The
 * download runs in the server, next to the data (Remote SSH, containers); cancelling the
 * request (the notification's Cancel button) stops it, and a re-run resumes.
 */
export namespace DownloadArcRequest {
  export const method = 'neurocache/downloadArc';
  export interface Params {
    /** Distinguishes this download's progress notifications. */
    id: string;
    /** The folder to download into; a relative one resolves against the (first) workspace folder and must stay inside it. */
    out: string;
    endpoint?: string;
    /**
     * The Hub token from the editor's secret storage; absent: HF_TOKEN, else the token file
     * under HF_HOME. Sent only to the endpoint's own origin, never logged.
     */
    token?: string;
    repo?: string;
    revision?: string;
    force?: boolean;
    includeTse?: boolean;
    requireMask?: boolean;
    paperParity?: boolean;
    /** Shards fetched at once; default `DEFAULT_MACHINE_SETTINGS.download.parallel`. */
    parallel?: number;
  }
  export interface Result {
    datasetInfo: string;
    /** 'up-to-date': a complete dataset_info.json was there and nothing was fetched (`force` fetches anyway). */
    status: 'downloaded' | 'up-to-date';
    samples: number;
    /** Rows skipped as unusable (bad ids or bytes, duplicates); `message` summarises them. */
    problems: RowProblem[];
    /** What was kept and what the filters left out, for the user. */
    message: string;
  }
  /** The `data` of the error the request fails with. */
  export interface ErrorData {
    /** The Hub refused with this status (401/403: a token is missing or not accepted; 404: no such repo). */
    httpStatus?: number;
  }
  export const type: RequestType<Params, Result> = { method };
}

/** A request of the download failed in a way that may pass (a reset, a timeout, 429, 5xx) and is tried again. */
export interface DownloadRetry {
  /** The attempt about to be made (2 for the first retry) … */
  attempt: number;
  /** … of at most this many. */
  attempts: number;
  /** Why the previous attempt failed, e.g. "HTTP 503 Service Unavailable" (never a URL's query or a token). */
  reason: string;
  /** The wait before the attempt (in a progress notification: what is left of it). */
  delayMs: number;
  /** The Hub's rate limit: the wait is the one the Hub asked for. */
  rateLimited?: boolean;
}

/**
 * `neurocache/downloadProgress` — server → client while a download runs (about 4 times a
 * second, and at once on a retry). Before the shards are listed the counts are 0.
 */
export namespace DownloadProgressNotification {
  export const method = 'neurocache/downloadProgress';
  export interface Params extends DownloadProgress {
    id: string;
    /** The latest retry, while it is recent (its wait, and at least a few seconds). */
    retrying?: DownloadRetry;
  }
  export const type: NotificationType<Params> = { method };
}

/**
 * `neurocache/deepCheck` — client → server request behind "Deep-check cache windows": the
 * manifest's cache files' `windows` inflated in the pool (answered from fingerprints when
 * unchanged); the document's diagnostics then include the deep findings, and keep them on
 * later checks. Cancelling the request stops it.
 */
export namespace DeepCheckRequest {
  export const method = 'neurocache/deepCheck';
  export interface Params {
    /** Distinguishes this check's progress notifications. */
    id: string;
    /** The manifest.json's URI. */
    uri: string;
  }
  export interface Result {
    /** Files deep-checked, windows with NaN/Inf, windows beyond ±10: what to tell the user. */
    files: number;
    nonFiniteWindows: number;
    unclippedWindows: number;
    message: string;
  }
  export const type: RequestType<Params, Result> = { method };
}

/** `neurocache/deepCheckProgress` — server → client while a deep check runs: files done of all. */
export namespace DeepCheckProgressNotification {
  export const method = 'neurocache/deepCheckProgress';
  export interface Params {
    id: string;
    done: number;
    total: number;
  }
  export const type: NotificationType<Params> = { method };
}

/**
 * `neurocache/memoryUsage` — client → server, for tests and support: the server's memory after
 * a full garbage collection when it was started with `--expose-gc` (else as it stands), to show
 * that what closed documents and large messages leave behind is bounded.
 */
export namespace MemoryUsageRequest {
  export const method = 'neurocache/memoryUsage';
  export type Params = Record<string, never>;
  export interface Result {
    /** Whether a full collection ran first (the server has `global.gc`). */
    collected: boolean;
    /** V8 heap in use, bytes. */
    heapUsed: number;
    /** Memory outside the V8 heap held by JavaScript objects (buffers), bytes. */
    external: number;
    /** Resident set size of the process, bytes. */
    rss: number;
  }
  export const type: RequestType<Params, Result> = { method };
}

/**
 * `neurocache/workCounters` — client → server, for tests and support: how much work the server
 * has done for one document since it started (edits arrive in bursts; the work must not grow
 * with the number of edits).
 */
export namespace WorkCountersRequest {
  export const method = 'neurocache/workCounters';
  export interface Params {
    uri: string;
  }
  export interface Result {
    /** Times the open document's text was rebuilt from queued edits. */
    textBuilds: number;
    /** Times the document was parsed whole (structure and schema). */
    parses: number;
    /** Times it was not: an edit re-parsed only what it touched, or the text was unchanged. */
    reparses: number;
    /** Background (content) checks started. */
    contentChecks: number;
    /** Diagnostics published. */
    publishes: number;
    /**
     * A check of the document is running now. The status says so only when it changes, so a
     * client waiting for a check whose findings are the same as before asks here.
     */
    checking: boolean;
  }
  export const type: RequestType<Params, Result> = { method };
}

/**
 * The data views' requests (the NPZ view and the NIfTI viewer, client/src/views/). The server
 * reads, where the data is; the client passes each result to its webview. Every file is named by
 * a `file:` URI the client opened (never one a webview chose), read only if it is a regular
 * file, and only as far as the bounds below.
 */
export interface ViewFinding {
  severity: 'error' | 'warning' | 'information' | 'hint';
  code: string;
  message: string;
}

/** A manifest.json or _dataset_index.json entry that points at the viewed file. */
export interface ViewReference {
  /** The JSON file, and where in it the entry's path is (0-based LSP positions). */
  uri: string;
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  /** e.g. "partial_seizure[3], window 1" or "files[0]". */
  label: string;
  /** The problems reported on that entry. */
  findings: ViewFinding[];
}

/** An archive member as the NPZ view lists it: sizes from the ZIP directory, shape and dtype from its `.npy` header. */
export interface ViewNpzMember {
  /** The name in the archive, e.g. `windows.npy`; `key` is what np.load calls it (`windows`). */
  name: string;
  key: string;
  /** 0 stored, 8 deflate, others as the ZIP directory says. */
  method: number;
  compressedBytes: number;
  uncompressedBytes: number;
  shape?: number[];
  /** numpy's dtype string, e.g. `<f4`. */
  dtype?: string;
  /** Bytes per element (`dtype.itemsize`). */
  elementBytes?: number;
  fortranOrder?: boolean;
  /** Why the `.npy` header could not be read (the member is then shown without a shape). */
  error?: string;
}

/**
 * `neurocache/npzView` — client → server: what the NPZ view shows of one cache file. The check's
 * own summary (the category of every window, or what numpy raises), never the windows' data.
 */
export namespace NpzViewRequest {
  export const method = 'neurocache/npzView';
  export interface Params {
    uri: string;
  }
  export interface Result {
    file: string;
    size: number;
    /** Not readable at all (not a regular file, gone): nothing else is set. */
    error?: string;
    members: ViewNpzMember[];
    /** Members in the archive (more than listed when over the listing bound). */
    membersTotal: number;
    /** The builder's view, from `labels`: absent when the file has none or numpy cannot load it. */
    windows?: {
      count: number;
      samplesPerWindow: number;
      categories: { partial: number; full: number; none: number };
      /** Per window, the share of its label samples > 0. */
      fractions: number[];
      /** Per window, its category as the builder decides it: one letter each, `p` partial, `f` full, `n` no seizure. */
      categoryLetters: string;
    };
    /** What np.load and the manifest builder do with a file they cannot read, as `check` says it. */
    failure?: { message: string; exception?: string; outcome: string };
    /** `windows` cannot be read (training fails on it), and other notes of the check. */
    notes: string[];
    /** What one `__getitem__` of training reads: the whole `windows` (and `labels`) member. */
    readCost?: { inflatedBytes: number; readBytes: number; windowBytes: number };
    references: ViewReference[];
    /** All references found (more than listed when over the bound). */
    referencesTotal: number;
  }
  export const type: RequestType<Params, Result> = { method };
}

/** `neurocache/npzWindow` — one window's 19 channels (per-column ranges) and its label trace, read on demand. */
export namespace NpzWindowRequest {
  export const method = 'neurocache/npzWindow';
  export interface Params {
    uri: string;
    window: number;
  }
  export type Result =
    | {
        ok: true;
        window: number;
        shape: number[];
        samples: number;
        samplesPerColumn: number;
        channels: { min: (number | null)[]; max: (number | null)[] }[];
        labels?: number[];
        inflatedBytes: number;
      }
    | { ok: false; error: string };
  export const type: RequestType<Params, Result> = { method };
}

/** A volume the viewer may load. */
export interface ViewVolume {
  uri: string;
  name: string;
  size: number;
}

/**
 * `neurocache/niftiPair` — the image and lesion mask to show for a NIfTI file: the sample of a
 * checked dataset_info.json that names it (as the checks resolve paths), else a sibling
 * `*_lesion.nii.gz` of a `*_t2w.nii.gz` (or the other way round).
 */
export namespace NiftiPairRequest {
  export const method = 'neurocache/niftiPair';
  export interface Params {
    uri: string;
  }
  export interface Result {
    image?: ViewVolume;
    mask?: ViewVolume;
    /** How the pair was found, in words ("sample 3 of data/arc/dataset_info.json", "the sibling …", "no mask found …"). */
    how: string;
    /** The sample, when found through a dataset_info.json. */
    sample?: { datasetInfo: string; index: number; subject?: string };
    error?: string;
  }
  export const type: RequestType<Params, Result> = { method };
}

/** The seizure categories' colours (RGB), shared by the hover pictures and the NPZ view. */
export const CATEGORY_RGB = {
  partial: [230, 126, 34],
  full: [192, 57, 43],
  none: [127, 140, 141],
} as const satisfies Record<'partial' | 'full' | 'none', readonly [number, number, number]>;

/** Largest NIfTI file the viewer loads (ARC's T2w images are a few MB compressed). */
export const MAX_VIEW_VOLUME_BYTES = 256 << 20;

/** `neurocache/volumeBytes` — a NIfTI file's bytes (base64), for the viewer's WebGL renderer. */
export namespace VolumeBytesRequest {
  export const method = 'neurocache/volumeBytes';
  export interface Params {
    uri: string;
  }
  export type Result = { ok: true; base64: string } | { ok: false; error: string };
  export const type: RequestType<Params, Result> = { method };
}

/** `neurocache/slicePicture` — the viewer's fallback without WebGL2: an axial slice PNG with the mask in red. */
export namespace SlicePictureRequest {
  export const method = 'neurocache/slicePicture';
  export interface Params {
    image: string;
    mask?: string;
    /** Absent: the slice with the most lesion voxels (or the middle one without a mask). */
    z?: number;
  }
  export type Result =
    { ok: true; png: string; z: number; depth: number; width: number; height: number } | { ok: false; error: string };
  export const type: RequestType<Params, Result> = { method };
}

/**
 * `neurocache/trainingGrid` — what the network is fed for a sample's image and mask: the 256³
 * training grid's slice with the most lesion voxels (PNG, the mask in red) under the training
 * method (the `neurocache.preprocessing.resampleMethod` setting of the image's folder), with the
 * preprocessing model's numbers for that method.
 */
export namespace TrainingGridRequest {
  export const method = 'neurocache/trainingGrid';
  export interface Params {
    image: string;
    mask: string;
  }
  export type Result =
    | {
        ok: true;
        png: string;
        /** The resample method training uses here. */
        method: string;
        /** Side of the square training-grid slice, in voxels of 1 mm. */
        size: number;
        /** Lesion voxels (> 0) of the mask as stored. */
        originalVoxels: number;
        /** Lesion voxels of the preprocessed 256³ mask (what the network learns from). */
        keptVoxels: number;
        /** Lesion voxels resampled outside the 256³ crop (lost to training). */
        croppedVoxels: number;
      }
    | { ok: false; error: string };
  export const type: RequestType<Params, Result> = { method };
}
