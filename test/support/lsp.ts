/**
 * A real LSP client for tests: starts the built CLI's `lsp --stdio` as a child process and
 * speaks JSON-RPC to it. Waits are on events (published diagnostics), never on sleeps.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import {
  ApplyWorkspaceEditRequest,
  ApplyWorkspaceEditResult,
  createProtocolConnection,
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializeParams,
  InitializeRequest,
  InitializedNotification,
  LogMessageNotification,
  MessageType,
  ProtocolConnection,
  PublishDiagnosticsNotification,
  PublishDiagnosticsParams,
  RegistrationRequest,
  ShutdownRequest,
  StreamMessageReader,
  StreamMessageWriter,
  TextDocumentEdit,
  WorkDoneProgressCreateRequest,
  ConfigurationRequest,
  Range,
} from 'vscode-languageserver-protocol/node';
import { TextDocument, TextEdit } from 'vscode-languageserver-textdocument';
import {
  FileProblem,
  FileProblemsNotification,
  NotificationType,
  RequestType,
  StatusNotification,
  WorkCountersRequest,
} from '../../server/src/protocol';
import { cliPath, tempDir } from './python';

export class LspSession {
  readonly connection: ProtocolConnection;
  readonly published = new Map<string, PublishDiagnosticsParams>();
  readonly documents = new Map<string, TextDocument>();
  readonly edits: TextDocumentEdit[] = [];
  readonly notifications: { method: string; params: unknown }[] = [];
  /** The latest `neurocache/fileProblems` per document (Explorer badges). */
  readonly fileProblems = new Map<string, FileProblem[]>();
  /** Every `window/logMessage` line, in arrival order. */
  readonly logs: { type: MessageType; message: string }[] = [];
  /** What the server registered dynamically (`client/registerCapability`), e.g. its file watchers. */
  readonly registrations: { method: string; registerOptions?: unknown }[] = [];
  readonly child: ChildProcess;
  private waiters: (() => void)[] = [];
  private sequence = 0;
  private readonly publishedAt = new Map<string, number>();
  private readonly publishListeners = new Set<(params: PublishDiagnosticsParams) => void>();
  private idleAt = -1;
  /** The `neurocache` section the client answers `workspace/configuration` with, per scope URI. */
  settings: (scopeUri: string | undefined) => unknown = () => null;
  /** Resolves with the exit code (or signal) when the server process ends. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(env: NodeJS.ProcessEnv = {}, options: { cwd?: string } = {}) {
    this.child = spawn(process.execPath, [cliPath(), 'lsp', '--stdio'], {
      env: { ...process.env, NEUROCACHE_CACHE_DIR: tempDir(), ...env },
      stdio: ['pipe', 'pipe', 'inherit'],
      cwd: options.cwd,
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    // No partial-message timer: vscode-jsonrpc's re-arms every 10 s for as long as a message is
    // incomplete, and neither the stream's end nor dispose() stops it. A server that ends between
    // a header and its body (killed in close(), right after `exit`) then kept a test process
    // alive for ever (seen in CI: a heap snapshot of the hung process held that one timer).
    const reader = new StreamMessageReader(this.child.stdout!);
    reader.partialMessageTimeout = 0;
    this.connection = createProtocolConnection(reader, new StreamMessageWriter(this.child.stdin!));
    this.connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
      this.published.set(params.uri, params);
      this.publishedAt.set(params.uri, ++this.sequence);
      for (const listener of this.publishListeners) listener(params);
      this.wake();
    });
    this.onNotification(StatusNotification.type, (params) => {
      this.notifications.push({ method: StatusNotification.method, params });
      if (params.pending === 0) this.idleAt = ++this.sequence;
      this.wake();
    });
    this.onNotification(FileProblemsNotification.type, ({ document, files }) => {
      this.fileProblems.set(document, files);
      this.wake();
    });
    this.connection.onNotification(LogMessageNotification.type, ({ type, message }) => {
      this.logs.push({ type, message });
      this.wake();
    });
    this.connection.onRequest(
      RegistrationRequest.type,
      (params) => void this.registrations.push(...params.registrations),
    );
    this.connection.onRequest(WorkDoneProgressCreateRequest.type, () => undefined);
    this.connection.onRequest(ConfigurationRequest.type, (params) =>
      params.items.map((item) => (item.section === 'neurocache' ? this.settings(item.scopeUri) : null)),
    );
    // Applies the server's edits to our copies of open documents, as an editor would.
    this.connection.onRequest(ApplyWorkspaceEditRequest.type, (params): ApplyWorkspaceEditResult => {
      for (const change of params.edit.documentChanges ?? []) {
        if (!TextDocumentEdit.is(change)) continue;
        this.edits.push(change);
        const document = this.documents.get(change.textDocument.uri)!;
        void this.change(change.textDocument.uri, TextDocument.applyEdits(document, change.edits as TextEdit[]));
      }
      return { applied: true };
    });
    this.connection.listen();
  }

  /** The protocol's typed messages, bound to this test client. */
  onNotification<P>(type: NotificationType<P>, handler: (params: P) => void): void {
    this.connection.onNotification(type.method, handler);
  }

  /** Calls `listener` with every publish from now on (`published` keeps only the latest); returns its removal. */
  onPublished(listener: (params: PublishDiagnosticsParams) => void): () => void {
    this.publishListeners.add(listener);
    return () => this.publishListeners.delete(listener);
  }

  request<P, R>(type: RequestType<P, R>, params: P): Promise<R> {
    return this.connection.sendRequest<R>(type.method, params);
  }

  private wake(): void {
    this.waiters.splice(0).forEach((w) => w());
  }

  /** Resolves when `predicate` holds, re-checking after every message from the server. */
  async until(predicate: () => boolean): Promise<void> {
    while (!predicate()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Initializes with `rootPath` as the workspace folder (or several folders). */
  async initialize(rootPath: string | string[], options: Partial<InitializeParams> = {}): Promise<void> {
    const roots = Array.isArray(rootPath) ? rootPath : [rootPath];
    await this.connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: pathToFileURL(roots[0]).href,
      workspaceFolders: roots.map((root, i) => ({ uri: pathToFileURL(root).href, name: `root${i}` })),
      capabilities: {
        workspace: {
          didChangeWatchedFiles: { dynamicRegistration: true },
          configuration: true,
          workspaceFolders: true,
        },
        window: { workDoneProgress: true },
      },
      ...options,
    });
    await this.connection.sendNotification(InitializedNotification.type, {});
  }

  async open(uri: string, text: string): Promise<void> {
    this.documents.set(uri, TextDocument.create(uri, 'json', 1, text));
    await this.connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: 'json', version: 1, text },
    });
  }

  async change(uri: string, text: string): Promise<void> {
    const old = this.documents.get(uri)!;
    const next = TextDocument.create(uri, 'json', old.version + 1, text);
    this.documents.set(uri, next);
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: next.version },
      contentChanges: [{ text }],
    });
  }

  /**
   * Sends each change as its own didChange (a burst, as typing produces), without applying
   * them here: `finalText` is what they produce, and becomes our copy of the document.
   */
  async burst(uri: string, changes: { range: Range; text: string }[], finalText: string): Promise<void> {
    let version = this.documents.get(uri)!.version;
    for (const change of changes) {
      void this.connection.sendNotification(DidChangeTextDocumentNotification.type, {
        textDocument: { uri, version: ++version },
        contentChanges: [change],
      });
    }
    this.documents.set(uri, TextDocument.create(uri, 'json', version, finalText));
  }

  /** An edit as editors send it: only the replaced range and its new text (incremental sync). */
  async changeRange(uri: string, start: number, end: number, text: string): Promise<void> {
    const old = this.documents.get(uri)!;
    const range = { start: old.positionAt(start), end: old.positionAt(end) };
    const next = TextDocument.update(old, [{ range, text }], old.version + 1);
    this.documents.set(uri, next);
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: next.version },
      contentChanges: [{ range, text }],
    });
  }

  /**
   * An edit sent as `changeRange` sends it, leaving the client's copy of the text as it was (only
   * its version moves). For benchmark typing whose keystrokes undo each other in pairs, so the
   * copy is right again after each pair: applying each to this library's document copies the
   * whole text per keystroke (its update takes substrings of the last concatenation, which
   * flattens it: 88 MB at 1M entries), and the client's collections of that garbage were timed as
   * the server's hover latency. An editor's model changes only the edited line.
   */
  async sendRangeChange(uri: string, range: Range, text: string): Promise<void> {
    const old = this.documents.get(uri)!;
    const next = TextDocument.update(old, [], old.version + 1);
    this.documents.set(uri, next);
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: next.version },
      contentChanges: [{ range, text }],
    });
  }

  /**
   * Waits until the server has finished checking `uri` (its latest version) and gone idle. The
   * status says so when it changes; a check whose findings equal the last ones changes nothing it
   * reports, so then the server is asked whether a check is still running.
   */
  async settled(uri: string): Promise<PublishDiagnosticsParams> {
    const current = () => {
      const last = this.published.get(uri);
      const version = this.documents.get(uri)?.version;
      return !!last && (version === undefined || last.version === version);
    };
    for (;;) {
      await this.until(current);
      if (this.idleAt > (this.publishedAt.get(uri) ?? Infinity)) break;
      const { checking } = await this.request(WorkCountersRequest.type, { uri });
      if (!checking && current()) break;
      await Promise.race([
        new Promise<void>((resolve) => this.waiters.push(resolve)),
        new Promise((resolve) => setTimeout(resolve, 20)),
      ]);
    }
    return this.published.get(uri)!;
  }

  codes(uri: string): string[] {
    return (this.published.get(uri)?.diagnostics ?? []).map((d) => String(d.code));
  }

  /** Ends the session; a server that does not answer `shutdown` within CLOSE_WAIT_MS is killed (a test must not hang). */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      this.connection.sendRequest(ShutdownRequest.type).then(
        () => true,
        () => true,
      ),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), CLOSE_WAIT_MS))),
    ]);
    clearTimeout(timer);
    if (answered) await this.connection.sendNotification(ExitNotification.type).catch(() => undefined);
    this.connection.dispose();
    this.child.kill(answered ? 'SIGTERM' : 'SIGKILL');
    if (!answered) throw new Error(`the server did not answer shutdown within ${CLOSE_WAIT_MS} ms`);
  }
}

const CLOSE_WAIT_MS = 30_000;

/** The `file:` URI an editor names the document at `file` by. */
export const uriOf = (file: string): string => pathToFileURL(file).href;

export interface SessionOptions {
  /** Environment of the server process, over this process's. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** More of `initialize`'s parameters (capabilities, initializationOptions). */
  initialize?: Partial<InitializeParams>;
  /** Runs before `initialize`, e.g. to set the settings the client answers with. */
  before?: (lsp: LspSession) => void;
}

/**
 * Runs `fn` on a new session with `root` as the workspace folder (or several; undefined: not
 * initialized, `fn` does it), and always closes the session, whether `fn` passes or throws.
 */
export async function withLsp<T>(
  root: string | string[] | undefined,
  fn: (lsp: LspSession) => Promise<T>,
  options: SessionOptions = {},
): Promise<T> {
  const lsp = new LspSession(options.env, { cwd: options.cwd });
  try {
    options.before?.(lsp);
    if (root !== undefined) await lsp.initialize(root, options.initialize);
    return await fn(lsp);
  } finally {
    await lsp.close();
  }
}

/** The caret marking a position in fixture text: `"se‸ed": 42`. */
export const CARET = '‸';

/**
 * Fixture text with caret markers: the text without them, and the LSP position (line,
 * UTF-16 character) of each marker in order, so a test says where it hovers in the text itself.
 */
export function carets(marked: string): { text: string; at: { line: number; character: number }[] } {
  const at: { line: number; character: number }[] = [];
  const lines = marked.split('\n').map((line, i) => {
    let clean = '';
    for (const [j, piece] of line.split(CARET).entries()) {
      if (j > 0) at.push({ line: i, character: clean.length });
      clean += piece;
    }
    return clean;
  });
  return { text: lines.join('\n'), at };
}
