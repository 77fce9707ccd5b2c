/**
 * The language server: a thin adapter over the engine. Structural diagnostics come straight
 * from the text; content checks (missing files, counts, categories) run in the worker pool
 * and are merged when they arrive. Results for an older document version are dropped.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createConnection, Diagnostic as LspDiagnostic, DiagnosticSeverity, Hover, MarkupKind, ProposedFeatures, TextDocuments,
  TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { Diagnostic, LineIndex, Severity } from './engine/diagnostics';
import { datasetReport, manifestReport } from './engine/report';
import { Analysis, analyzeDocument, analyzeText } from './service/check';
import { defaultStoreDirectory, FingerprintStore } from './service/fingerprints';
import { CacheInspector } from './service/inspector';
import { WorkerPool } from './workers/pool';

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};
const DEBOUNCE_MS = 250;

export function startServer(): void {
  const connection = createConnection(ProposedFeatures.all);
  const documents = new TextDocuments(TextDocument);
  let inspector: CacheInspector | undefined;
  const latest = new Map<string, Analysis>();
  const timers = new Map<string, NodeJS.Timeout>();
  const running = new Map<string, AbortController>();

  connection.onInitialize((params) => {
    const options = (params.initializationOptions ?? {}) as { storageDirectory?: string; maxWorkers?: number };
    const store = FingerprintStore.inDirectory(options.storageDirectory ?? defaultStoreDirectory());
    void store.load();
    inspector = new CacheInspector(new WorkerPool(options.maxWorkers), store);
    return { capabilities: { textDocumentSync: TextDocumentSyncKind.Incremental, hoverProvider: true } };
  });

  const toLsp = (text: LineIndex, diagnostics: Diagnostic[]): LspDiagnostic[] =>
    diagnostics.map((d) => ({ range: text.range(d.offset, d.length), severity: SEVERITY[d.severity], code: d.code, source: 'neurocache', message: d.message }));

  async function validate(document: TextDocument): Promise<void> {
    const uri = document.uri;
    const version = document.version;
    const text = document.getText();
    const lines = new LineIndex(text);
    const structure = analyzeText(text);
    if (structure.kind === 'unrelated' || !uri.startsWith('file:')) {
      latest.delete(uri);
      await connection.sendDiagnostics({ uri, diagnostics: [] });
      return;
    }
    const schema = structure.manifest?.schema ?? structure.datasetInfo?.schema ?? [];
    await connection.sendDiagnostics({ uri, version, diagnostics: toLsp(lines, schema) });
    running.get(uri)?.abort();
    const controller = new AbortController();
    running.set(uri, controller);
    try {
      const analysis = await analyzeDocument(fileURLToPath(uri), text, inspector!, { content: true, cwd: workspaceRoot ?? path.dirname(fileURLToPath(uri)), signal: controller.signal });
      if (documents.get(uri)?.version !== version || controller.signal.aborted) return; // stale result
      latest.set(uri, analysis);
      await connection.sendDiagnostics({ uri, version, diagnostics: toLsp(lines, analysis.diagnostics) });
      await inspector!.store.save();
    } catch (error) {
      if (!controller.signal.aborted) connection.console.error(`neurocache: ${(error as Error).message}`);
    } finally {
      if (running.get(uri) === controller) running.delete(uri);
    }
  }

  let workspaceRoot: string | undefined;
  connection.onInitialized(async () => {
    const folders = await connection.workspace.getWorkspaceFolders().catch(() => null);
    if (folders?.[0]?.uri.startsWith('file:')) workspaceRoot = fileURLToPath(folders[0].uri);
  });

  const schedule = (document: TextDocument) => {
    clearTimeout(timers.get(document.uri));
    timers.set(document.uri, setTimeout(() => {
      timers.delete(document.uri);
      void validate(document);
    }, DEBOUNCE_MS));
  };
  documents.onDidOpen((e) => void validate(e.document));
  documents.onDidChangeContent((e) => schedule(e.document));
  documents.onDidClose((e) => {
    clearTimeout(timers.get(e.document.uri));
    running.get(e.document.uri)?.abort();
    latest.delete(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });

  connection.onHover((params): Hover | null => {
    const analysis = latest.get(params.textDocument.uri);
    const document = documents.get(params.textDocument.uri);
    if (!analysis || !document || analysis.kind === 'unrelated') return null;
    const offset = document.offsetAt(params.position);
    const keys = analysis.kind === 'seizure-manifest'
      ? analysis.parsed.rootKeys.map((k) => k.key)
      : Object.values(analysis.parsed.keys).filter((k) => k !== undefined);
    const key = keys.find((k) => offset >= k.offset && offset <= k.offset + k.length);
    if (!key) return null;
    const lines = analysis.kind === 'seizure-manifest' ? manifestReport(analysis.stats) : datasetReport(analysis.stats);
    const title = analysis.kind === 'seizure-manifest' ? 'Seizure manifest' : 'ARC dataset';
    return {
      contents: { kind: MarkupKind.Markdown, value: [`**${title}**`, '', ...lines.map((l) => `- ${l}`)].join('\n') },
      range: { start: document.positionAt(key.offset), end: document.positionAt(key.offset + key.length) },
    };
  });

  connection.onShutdown(async () => {
    await inspector?.store.save();
    await inspector?.pool.close();
  });

  documents.listen(connection);
  connection.listen();
}


