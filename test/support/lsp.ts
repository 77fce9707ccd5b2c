/**
 * A real LSP client for tests: starts the built CLI's `lsp --stdio` as a child process and
 * speaks JSON-RPC to it. Waits are on events (published diagnostics), never on sleeps.
 */
import { ChildProcess, spawn } from 'node:child_process';
import {
  ApplyWorkspaceEditRequest, ApplyWorkspaceEditResult, createProtocolConnection, DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification, ExitNotification, InitializeParams, InitializeRequest, InitializedNotification,
  ProtocolConnection, PublishDiagnosticsNotification, PublishDiagnosticsParams, RegistrationRequest, ShutdownRequest,
  StreamMessageReader, StreamMessageWriter, TextDocumentEdit, WorkDoneProgressCreateRequest, ConfigurationRequest,
} from 'vscode-languageserver-protocol/node';
import { TextDocument, TextEdit } from 'vscode-languageserver-textdocument';
import { StatusNotification } from '../../server/src/protocol';
import { cliPath, tempDir } from './python';

export class LspSession {
  readonly connection: ProtocolConnection;
  readonly published = new Map<string, PublishDiagnosticsParams>();
  readonly documents = new Map<string, TextDocument>();
  readonly edits: TextDocumentEdit[] = [];
  readonly notifications: { method: string; params: unknown }[] = [];
  readonly child: ChildProcess;
  private waiters: (() => void)[] = [];
  private sequence = 0;
  private readonly publishedAt = new Map<string, number>();
  private idleAt = -1;

  constructor(env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [cliPath(), 'lsp', '--stdio'], { env: { ...process.env, NEUROCACHE_CACHE_DIR: tempDir(), ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
    this.connection = createProtocolConnection(new StreamMessageReader(this.child.stdout!), new StreamMessageWriter(this.child.stdin!));
    this.connection.onNotification(PublishDiagnosticsNotification.type, (params) => {
      this.published.set(params.uri, params);
      this.publishedAt.set(params.uri, ++this.sequence);
      this.wake();
    });
    this.connection.onNotification(StatusNotification.method, (params: StatusNotification.Params) => {
      this.notifications.push({ method: StatusNotification.method, params });
      if (params.pending === 0) this.idleAt = ++this.sequence;
      this.wake();
    });
    this.connection.onRequest(RegistrationRequest.type, () => undefined);
    this.connection.onRequest(WorkDoneProgressCreateRequest.type, () => undefined);
    this.connection.onRequest(ConfigurationRequest.type, (params) => params.items.map(() => null));
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

  private wake(): void {
    this.waiters.splice(0).forEach((w) => w());
  }

  /** Resolves when `predicate` holds, re-checking after every message from the server. */
  async until(predicate: () => boolean): Promise<void> {
    while (!predicate()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async initialize(rootPath: string, options: Partial<InitializeParams> = {}): Promise<void> {
    const { pathToFileURL } = await import('node:url');
    await this.connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      rootUri: pathToFileURL(rootPath).href,
      workspaceFolders: [{ uri: pathToFileURL(rootPath).href, name: 'root' }],
      capabilities: { workspace: { didChangeWatchedFiles: { dynamicRegistration: true }, configuration: true }, window: { workDoneProgress: true } },
      ...options,
    });
    await this.connection.sendNotification(InitializedNotification.type, {});
  }

  async open(uri: string, text: string): Promise<void> {
    this.documents.set(uri, TextDocument.create(uri, 'json', 1, text));
    await this.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'json', version: 1, text } });
  }

  async change(uri: string, text: string): Promise<void> {
    const old = this.documents.get(uri)!;
    const next = TextDocument.create(uri, 'json', old.version + 1, text);
    this.documents.set(uri, next);
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: next.version }, contentChanges: [{ text }] });
  }

  /** Waits until the server has finished checking `uri` (its latest version) and gone idle. */
  async settled(uri: string): Promise<PublishDiagnosticsParams> {
    await this.until(() => {
      const last = this.published.get(uri);
      const version = this.documents.get(uri)?.version;
      return !!last && (version === undefined || last.version === version) && this.idleAt > (this.publishedAt.get(uri) ?? Infinity);
    });
    return this.published.get(uri)!;
  }

  codes(uri: string): string[] {
    return (this.published.get(uri)?.diagnostics ?? []).map((d) => String(d.code));
  }

  async close(): Promise<void> {
    await this.connection.sendRequest(ShutdownRequest.type).catch(() => undefined);
    await this.connection.sendNotification(ExitNotification.type).catch(() => undefined);
    this.connection.dispose();
    this.child.kill();
  }
}
