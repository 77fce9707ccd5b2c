/**
 * Start and end: `initialize` (options, client capabilities, folders, the worker pool),
 * `initialized` (watchers, the first scan), `shutdown` (stop work, save fingerprints, close the
 * pool, each within a bound), and the guarantee that the process ends once it is told to.
 */
import type { Worker } from 'node:worker_threads';
import {
  CodeActionKind,
  DidChangeWatchedFilesNotification,
  InitializeParams,
  InitializeResult,
  TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import { Commands, InitializationOptions, NUMBER_OPTIONS } from '../protocol';
import { defaultStoreDirectory, FingerprintStore } from '../service/fingerprints';
import { CacheInspector } from '../service/inspector';
import { plural } from '../engine/report';
import { NEUROCACHE_VERSION } from '../version';
import { WorkerPool } from '../workers/pool';
import { isLogLevel } from './log';
import { cappedSetting, logSettings } from './settings';
import { FIX_ALL } from './codeActions';
import type { ServerState } from './state';
import { FILE_WATCHERS, folderPaths, scanWorkspace } from './workspace';

/** How long `shutdown` waits for fingerprints to be saved and worker threads to stop. */
const SHUTDOWN_GRACE_MS = 2000;

/** `maxWorkers`, capped; 0 (one per core) and bad values are undefined: the pool's own default. */
const workerThreads = (value: unknown): number | undefined =>
  cappedSetting(NUMBER_OPTIONS.maxWorkers, value) || undefined;
const readsInFlight = (value: unknown): number | undefined => cappedSetting(NUMBER_OPTIONS['io.readsInFlight'], value);

export function initialize(state: ServerState, params: InitializeParams): InitializeResult {
  const options: InitializationOptions =
    typeof params.initializationOptions === 'object' && params.initializationOptions !== null
      ? params.initializationOptions
      : {};
  state.workspace.trusted = options.trusted !== false;
  if (isLogLevel(options.logLevel)) state.log.level = options.logLevel;
  const storeDirectory =
    typeof options.storageDirectory === 'string' ? options.storageDirectory : defaultStoreDirectory();
  const store = FingerprintStore.inDirectory(storeDirectory);
  void store.load();
  const pool = new WorkerPool(workerThreads(options.maxWorkers), {
    readsInFlight: readsInFlight(options.readsInFlight),
  });
  state.inspector = new CacheInspector(pool, store);
  const capabilities = params.capabilities;
  state.client.configuration = !!capabilities.workspace?.configuration;
  state.client.progress = !!capabilities.window?.workDoneProgress;
  state.client.watcherRegistration = !!capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration;
  state.client.workspaceFolders = !!capabilities.workspace?.workspaceFolders;
  state.client.dataViews = options.dataViews === true;
  state.client.fileCommands = options.fileCommands === true;
  state.workspace.folders = folderPaths(
    params.workspaceFolders ? params.workspaceFolders.map((f) => f.uri) : params.rootUri ? [params.rootUri] : [],
  );
  const client = params.clientInfo
    ? `${params.clientInfo.name}${params.clientInfo.version ? ` ${params.clientInfo.version}` : ''}`
    : 'an unnamed client';
  state.log.info(
    `NeuroCache ${NEUROCACHE_VERSION} language server started for ${client} (Node ${process.versions.node}, pid ${process.pid})`,
  );
  state.log.info(
    `${plural(pool.threads, 'worker thread')}${options.maxWorkers ? ` (neurocache.maxWorkers ${options.maxWorkers})` : ' (one per core)'}; ${state.workspace.trusted ? 'trusted workspace' : 'restricted mode: nothing is written or downloaded'}; log level ${state.log.level}`,
  );
  state.log.info(
    `Fingerprints in ${storeDirectory}; workspace folders: ${state.workspace.folders.length ? state.workspace.folders.join(', ') : 'none'}`,
  );
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      hoverProvider: true,
      documentLinkProvider: { resolveProvider: false },
      codeLensProvider: { resolveProvider: false },
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, FIX_ALL] },
      executeCommandProvider: { commands: Object.values(Commands) },
      workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
    },
  };
}

export async function initialized(state: ServerState): Promise<void> {
  if (state.client.watcherRegistration) {
    await state.connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: FILE_WATCHERS });
  }
  await logSettings(state);
  void scanWorkspace(state);
}

const within = (ms: number, work: Promise<unknown>) =>
  Promise.race([work, new Promise((resolve) => setTimeout(resolve, ms).unref())]);

export async function shutdown(state: ServerState): Promise<void> {
  state.log.info('Shutting down');
  state.shuttingDown = true;
  state.workspace.scan?.controller.abort();
  for (const timer of state.documents.checkTimers.values()) clearTimeout(timer);
  state.documents.checkTimers.clear();
  for (const t of state.documents.tracked.values()) t.running?.abort();
  // A thread blocked in a system call (a FIFO, a hung mount) never finishes: answer anyway.
  await within(SHUTDOWN_GRACE_MS, Promise.allSettled([state.inspector?.store.save(), state.inspector?.pool.close()]));
}

/** Threads that `process.exit` would have to join (see installExitGuard). */
let threadsBusy: () => boolean = () => false;

/**
 * `process.exit` (on `exit`, end of input or a vanished parent) joins every thread, and a
 * thread blocked in a system call cannot be joined: the process would stay alive for ever.
 * When one may be, the process ends itself with SIGKILL instead (losing only its exit code).
 */
export function installExitGuard(state: ServerState): void {
  const liveWorkers = new Set<Worker>();
  process.on('worker', (worker: Worker) => {
    liveWorkers.add(worker);
    worker.once('exit', () => liveWorkers.delete(worker));
  });
  threadsBusy = () => {
    const pool = state.inspector?.pool;
    // Requests that occupy a libuv thread: file system calls and name lookups.
    const pendingIo = process
      .getActiveResourcesInfo()
      .some((r) => /^(FSReq|FileHandleCloseReq|GetAddrInfoReqWrap|GetNameInfoReqWrap)/.test(r));
    // Pool threads with a task, or threads being terminated (after a cancelled task or `close`).
    const busyThreads = (pool?.tasksInFlight ?? 0) > 0 || liveWorkers.size > (pool?.threadCount ?? 0);
    return pendingIo || busyThreads;
  };
  process.on('exit', () => {
    if (threadsBusy()) process.kill(process.pid, 'SIGKILL');
  });
}

const EXIT_WAIT_MS = 2000;
const EXIT_POLL_MS = 10;

/**
 * Exits with `code` once the threads are idle, so the code reaches the client: a file system
 * call that is merely slow (a loaded machine, the start-up scan) finishes within moments. One
 * still busy after EXIT_WAIT_MS is taken as hung, and the exit guard's SIGKILL ends the process.
 */
export function exitWhenThreadsIdle(code: number): void {
  const deadline = Date.now() + EXIT_WAIT_MS;
  const attempt = () => {
    if (!threadsBusy() || Date.now() >= deadline) process.exit(code);
    setTimeout(attempt, EXIT_POLL_MS);
  };
  attempt();
}
