/**
 * The language server: a thin adapter over the engine and the service layer.
 *
 * - Structural diagnostics come straight from the text; content checks (missing files,
 *   counts, categories) run in the worker pool and replace them when they arrive. Results for
 *   an older document version are dropped; edits are debounced per URI.
 * - Files that are not open are checked too: a bounded, cancellable workspace scan at start-up,
 *   then file watchers re-check only what depends on a changed file (fingerprints make that
 *   cheap: only changed cache files are read again).
 * - Hovers answer from the latest analysis' indexes; code actions offer the fixes, which the
 *   server applies as workspace edits to open buffers or as atomic writes to closed files.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CodeAction, CodeActionKind, createConnection, ErrorCodes, LSPErrorCodes, ResponseError, Diagnostic as LspDiagnostic, DiagnosticSeverity, DidChangeWatchedFilesNotification,
  FileChangeType, MarkupKind, MessageType, ProposedFeatures, ShowMessageNotification, TextDocumentEdit, TextDocuments, TextDocumentSyncKind, TextEdit as LspTextEdit,
  WorkDoneProgressServerReporter,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { Diagnostic, LineIndex, Severity } from './engine/diagnostics';
import { applyEdits, TextEdit } from './engine/json/edits';
import { dropEntries } from './engine/eeg/fixes';
import { legacyPathEdits, lesionVolumeEdits } from './engine/arc/fixes';
import { DEFAULT_REPO, downloadArc } from './download/arc';
import { hubEndpoint, hubOffline, hubToken } from './download/config';
import { pathCandidates } from './engine/arc/datasetInfo';
import { Commands, CommandResult, DEFAULT_SETTINGS, DownloadArcRequest, DownloadProgressNotification, InitializationOptions, Settings, StatusNotification, WRITING_COMMANDS } from './protocol';
import { writeFileAtomic } from './service/atomic';
import { Analysis, analyzeDocument, analyzeText, computeManifest, structuralAnalysis } from './service/check';
import { defaultStoreDirectory, FingerprintStore } from './service/fingerprints';
import { hoverAt, PictureRequest } from './service/hover';
import { categoryBar, labelTraceImage, pngDataUri } from './engine/pictures';
import { plural } from './engine/report';
import { CacheInspector } from './service/inspector';
import { findWorkspaceFiles, isTrackedName } from './service/workspace';
import { WorkerPool } from './workers/pool';
import { readWholeFile } from './workers/fileSource';

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};
const EDIT_DEBOUNCE_MS = 300;
const WATCH_DEBOUNCE_MS = 150;
const WATCHED_GLOBS = ['**/*.npz', '**/*.nii', '**/*.nii.gz', '**/manifest.json', '**/dataset_info.json'];

/** A JSON file we check: open in the editor, or found on disk by the workspace scan. */
interface Tracked {
  uri: string;
  file: string;
  analysis?: Analysis;
  errors: number;
  warnings: number;
  running?: AbortController;
}

/** Which fix each diagnostic code offers. */
const FIXES: Record<string, { command: string; title: string }[]> = {
  'missing-cache-file': [{ command: Commands.dropMissingEntries, title: 'Drop entries whose cache files are missing' }, { command: Commands.rebuildManifest, title: 'Rebuild manifest.json from the cache' }],
  'stale-manifest': [{ command: Commands.rebuildManifest, title: 'Rebuild manifest.json from the cache' }, { command: Commands.dropMissingEntries, title: 'Drop entries whose cache files are missing' }],
  'category-mismatch': [{ command: Commands.rebuildManifest, title: 'Rebuild manifest.json from the cache' }],
  'unreferenced-cache-file': [{ command: Commands.rebuildManifest, title: 'Rebuild manifest.json from the cache' }],
  'window-out-of-range': [{ command: Commands.rebuildManifest, title: 'Rebuild manifest.json from the cache' }],
  'lesion-volume-mismatch': [{ command: Commands.recomputeLesionVolumes, title: 'Recompute lesion volumes from the masks' }],
  'legacy-path': [{ command: Commands.rewriteLegacyPaths, title: 'Rewrite legacy paths relative to dataset_info.json' }],
};

export function startServer(): void {
  const connection = createConnection(ProposedFeatures.all);
  // A failed background promise is logged, never allowed to take the server down.
  process.on('unhandledRejection', (error) => connection.console.error(`NeuroCache: ${(error as Error)?.stack ?? String(error)}`));
  const documents = new TextDocuments(TextDocument);
  const tracked = new Map<string, Tracked>();
  const editTimers = new Map<string, NodeJS.Timeout>();
  let inspector: CacheInspector;
  let trusted = true;
  let folders: string[] = [];
  let supportsConfiguration = false;
  let supportsProgress = false;
  let supportsWatcherRegistration = false;
  let settings: Promise<Settings> | undefined;

  const getSettings = (): Promise<Settings> =>
    (settings ??= supportsConfiguration
      ? connection.workspace.getConfiguration('neurocache').then(
          (s) => ({ ...DEFAULT_SETTINGS, ...(s ?? {}), training: { ...DEFAULT_SETTINGS.training, ...(s?.training ?? {}) } }),
          () => DEFAULT_SETTINGS,
        )
      : Promise.resolve(DEFAULT_SETTINGS));

  connection.onInitialize((params) => {
    const options = (params.initializationOptions ?? {}) as InitializationOptions & { maxWorkers?: number };
    trusted = options.trusted !== false;
    const store = FingerprintStore.inDirectory(options.storageDirectory ?? defaultStoreDirectory());
    void store.load();
    inspector = new CacheInspector(new WorkerPool(options.maxWorkers || undefined, { readsInFlight: options.readsInFlight || undefined }), store);
    supportsConfiguration = !!params.capabilities.workspace?.configuration;
    supportsProgress = !!params.capabilities.window?.workDoneProgress;
    supportsWatcherRegistration = !!params.capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration;
    folders = (params.workspaceFolders ?? []).map((f) => f.uri).concat(params.workspaceFolders ? [] : params.rootUri ? [params.rootUri] : [])
      .filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u));
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        executeCommandProvider: { commands: Object.values(Commands) },
      },
    };
  });

  connection.onInitialized(async () => {
    if (supportsWatcherRegistration) {
      await connection.client.register(DidChangeWatchedFilesNotification.type, { watchers: WATCHED_GLOBS.map((globPattern) => ({ globPattern })) });
    }
    void scanWorkspace();
  });

  connection.onDidChangeConfiguration(() => {
    settings = undefined;
    for (const t of tracked.values()) scheduleCheck(t.uri, 0);
  });

  // ---- checking ---------------------------------------------------------------------------

  function track(uri: string): Tracked {
    let t = tracked.get(uri);
    if (!t) tracked.set(uri, (t = { uri, file: fileURLToPath(uri), errors: 0, warnings: 0 }));
    return t;
  }

  async function textOf(t: Tracked): Promise<{ text: string; version?: number } | undefined> {
    const open = documents.get(t.uri);
    if (open) return { text: open.getText(), version: open.version };
    return readWholeFile(t.file).then((bytes) => ({ text: bytes.toString('utf8') }), () => undefined);
  }

  async function publish(t: Tracked, text: string, diagnostics: Diagnostic[], version?: number): Promise<void> {
    const { maxDiagnosticsPerFile } = await getSettings();
    const lines = new LineIndex(text);
    const shown = diagnostics.slice(0, maxDiagnosticsPerFile);
    const lsp: LspDiagnostic[] = shown.map((d) => ({ range: lines.range(d.offset, d.length), severity: SEVERITY[d.severity], code: d.code, source: 'neurocache', message: d.message }));
    if (diagnostics.length > shown.length) {
      lsp.push({ range: lines.range(0, 1), severity: DiagnosticSeverity.Information, source: 'neurocache', message: `${diagnostics.length - shown.length} more findings not shown (limit neurocache.maxDiagnosticsPerFile); run \`neurocache check\` for all.` });
    }
    t.errors = diagnostics.filter((d) => d.severity === 'error').length;
    t.warnings = diagnostics.filter((d) => d.severity === 'warning').length;
    await connection.sendDiagnostics({ uri: t.uri, version, diagnostics: lsp });
    sendStatus();
  }

  function untrack(uri: string): void {
    const t = tracked.get(uri);
    t?.running?.abort();
    tracked.delete(uri);
    void connection.sendDiagnostics({ uri, diagnostics: [] });
    sendStatus();
  }

  /** Checks one file: schema at once, content in the background; stale results are dropped. */
  async function check(uri: string): Promise<void> {
    if (!uri.startsWith('file:')) return;
    const t = track(uri);
    const current = await textOf(t);
    if (!current) return untrack(uri);
    const structure = analyzeText(current.text);
    if (structure.kind === 'unrelated') {
      // Named like ours but not our format (a browser-extension manifest): say nothing at all.
      t.running?.abort();
      if (documents.get(uri)) {
        t.analysis = undefined;
        await connection.sendDiagnostics({ uri, diagnostics: [] });
      } else untrack(uri);
      return;
    }
    t.running?.abort();
    const controller = new AbortController();
    t.running = controller;
    const { contentChecks, training } = await getSettings();
    t.analysis = structuralAnalysis(t.file, structure, training);
    await publish(t, current.text, t.analysis.diagnostics, current.version);
    try {
      const analysis = await analyzeDocument(t.file, current.text, inspector, { content: contentChecks, composition: training, cwd: folders[0] ?? path.dirname(t.file), signal: controller.signal }, structure);
      const now = documents.get(uri);
      if (controller.signal.aborted || (now && now.version !== current.version)) return; // superseded
      t.analysis = analysis;
      await publish(t, current.text, analysis.diagnostics, current.version);
      void inspector.store.save().catch(() => undefined);
    } catch (error) {
      if (!controller.signal.aborted) connection.console.error(`NeuroCache: checking ${t.file} failed: ${(error as Error).message}`);
    } finally {
      if (t.running === controller) t.running = undefined;
      sendStatus();
    }
  }

  function scheduleCheck(uri: string, delay: number): void {
    clearTimeout(editTimers.get(uri));
    editTimers.set(uri, setTimeout(() => {
      editTimers.delete(uri);
      void check(uri);
    }, delay));
  }

  function sendStatus(): void {
    let pending = 0;
    let errors = 0;
    let warnings = 0;
    let files = 0;
    for (const t of tracked.values()) {
      if (!t.analysis) continue;
      files++;
      if (t.running) pending++;
      errors += t.errors;
      warnings += t.warnings;
    }
    const message = pending ? `Checking ${pending} file${pending === 1 ? '' : 's'}…` : errors ? `${errors} error${errors === 1 ? '' : 's'} in ${files} checked file${files === 1 ? '' : 's'}` : `${files} file${files === 1 ? '' : 's'} checked`;
    void connection.sendNotification(StatusNotification.method, { pending, files, errors, warnings, message } satisfies StatusNotification.Params);
  }

  // Fires on open too: the first check runs at once, later edits are debounced.
  documents.onDidChangeContent((e) => scheduleCheck(e.document.uri, tracked.get(e.document.uri)?.analysis ? EDIT_DEBOUNCE_MS : 0));
  documents.onDidClose((e) => {
    clearTimeout(editTimers.get(e.document.uri));
    // A closed file that is ours stays in the Problems panel, checked from disk.
    void check(e.document.uri);
  });

  // ---- workspace scan and watchers --------------------------------------------------------

  async function progress(title: string): Promise<WorkDoneProgressServerReporter | undefined> {
    if (!supportsProgress) return undefined;
    const reporter = await connection.window.createWorkDoneProgress();
    reporter.begin(title, 0, undefined, true);
    return reporter;
  }

  let scan: AbortController | undefined;
  async function scanWorkspace(): Promise<number> {
    scan?.abort();
    const controller = (scan = new AbortController());
    const reporter = await progress('NeuroCache: checking the workspace');
    reporter?.token.onCancellationRequested(() => controller.abort());
    try {
      const { extraGlobs } = await getSettings();
      const found = await findWorkspaceFiles(folders, extraGlobs, controller.signal);
      let done = 0;
      for (const file of found) {
        if (controller.signal.aborted) break;
        reporter?.report(Math.round((done / found.length) * 100), `${done}/${found.length} ${path.basename(file)}`);
        await check(pathToFileURL(file).href);
        done++;
      }
      return done;
    } finally {
      reporter?.done();
    }
  }

  const changedFiles = new Set<string>();
  let watchTimer: NodeJS.Timeout | undefined;
  connection.onDidChangeWatchedFiles((params) => {
    for (const change of params.changes) {
      if (!change.uri.startsWith('file:')) continue;
      const file = fileURLToPath(change.uri);
      if (isTrackedName(path.basename(file))) {
        if (change.type === FileChangeType.Deleted && !documents.get(change.uri)) untrack(change.uri);
        else if (!documents.get(change.uri)) scheduleCheck(change.uri, WATCH_DEBOUNCE_MS);
        continue;
      }
      changedFiles.add(file);
    }
    clearTimeout(watchTimer);
    watchTimer = setTimeout(recheckDependents, WATCH_DEBOUNCE_MS);
  });

  /** Re-checks the documents a changed cache file can affect. */
  function recheckDependents(): void {
    const files = [...changedFiles];
    changedFiles.clear();
    for (const t of tracked.values()) {
      const a = t.analysis;
      if (!a || a.kind === 'unrelated') continue;
      // A dataset_info depends on every place its paths may resolve to (a missing file may appear).
      const affected = a.kind === 'seizure-manifest'
        ? files.some((f) => f.endsWith('.npz') && path.dirname(f) === a.directory)
        : a.parsed.samples.some((s) => [s.image?.value, s.mask?.value].some((value) =>
          typeof value === 'string' && pathCandidates(value, a.directory, folders[0] ?? a.directory).some((c) => files.includes(c.path))));
      if (affected) scheduleCheck(t.uri, 0);
    }
  }

  // ---- hover, code actions, commands ------------------------------------------------------

  /** Renders a hover picture (cached by fingerprint in the inspector) as a Markdown image. */
  async function pictureMarkdown(picture: PictureRequest): Promise<string | undefined> {
    if (picture.kind === 'categories') {
      return `![partial / full / no seizure](${pngDataUri(categoryBar(picture))}) partial · full · no seizure`;
    }
    if (picture.kind === 'trace') {
      const trace = await inspector.labelTrace(picture.file);
      if (!trace || picture.window >= trace.windows) return undefined;
      const fractions = trace.counts.slice(picture.window * trace.bins, (picture.window + 1) * trace.bins).map((c) => c / trace.samplesPerBin);
      return `![seizure labels of window ${picture.window}](${pngDataUri(labelTraceImage(fractions))})`;
    }
    const png = await inspector.lesionPicture(picture.mask, picture.image);
    return png ? `![axial slice with the largest lesion area](data:image/png;base64,${png})` : undefined;
  }

  connection.onHover(async (params) => {
    const analysis = tracked.get(params.textDocument.uri)?.analysis;
    const document = documents.get(params.textDocument.uri);
    if (!analysis || !document) return null;
    const hover = hoverAt(analysis, document.offsetAt(params.position));
    if (!hover) return null;
    const picture = hover.picture ? await pictureMarkdown(hover.picture).catch(() => undefined) : undefined;
    return {
      contents: { kind: MarkupKind.Markdown, value: picture ? `${hover.markdown}\n\n${picture}` : hover.markdown },
      range: { start: document.positionAt(hover.span.offset), end: document.positionAt(hover.span.offset + hover.span.length) },
    };
  });

  connection.onCodeAction((params) => {
    const actions: CodeAction[] = [];
    const seen = new Set<string>();
    for (const diagnostic of params.context.diagnostics) {
      if (diagnostic.source !== 'neurocache') continue;
      for (const fix of FIXES[String(diagnostic.code)] ?? []) {
        if (seen.has(fix.command) || (!trusted && WRITING_COMMANDS.includes(fix.command))) continue;
        seen.add(fix.command);
        actions.push({ title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], command: { title: fix.title, command: fix.command, arguments: [params.textDocument.uri] } });
      }
    }
    return actions;
  });

  /** Applies edits to the open buffer (as a workspace edit) or to the file on disk (atomically). */
  async function applyFix(uri: string, text: string, edits: TextEdit[]): Promise<void> {
    const open = documents.get(uri);
    if (open) {
      const lspEdits: LspTextEdit[] = edits.map((e) => ({ range: { start: open.positionAt(e.offset), end: open.positionAt(e.offset + e.length) }, newText: e.newText }));
      const result = await connection.workspace.applyEdit({ documentChanges: [TextDocumentEdit.create({ uri, version: open.version }, lspEdits)] });
      if (!result.applied) throw new Error(result.failureReason ?? 'the editor refused the edit');
      return;
    }
    await writeFileAtomic(fileURLToPath(uri), applyEdits(text, edits));
    await check(uri);
  }

  async function runCommand(command: string, uri: string | undefined): Promise<CommandResult> {
    if (command === Commands.checkWorkspace) {
      const files = await scanWorkspace();
      let errors = 0;
      for (const t of tracked.values()) errors += t.errors;
      return { message: `Checked ${files} file${files === 1 ? '' : 's'}: ${errors} error${errors === 1 ? '' : 's'}.` };
    }
    if (!trusted && WRITING_COMMANDS.includes(command)) throw new Error('NeuroCache does not write files in a restricted (untrusted) workspace.');
    if (!uri?.startsWith('file:')) throw new Error(`${command} needs the URI of a manifest.json or dataset_info.json`);
    const t = track(uri);
    const current = await textOf(t);
    if (!current) throw new Error(`cannot read ${t.file}`);
    const whole = (newText: string): TextEdit[] => [{ offset: 0, length: current.text.length, newText }];
    if (command === Commands.rebuildManifest) {
      const { text, result } = await computeManifest(path.dirname(t.file), inspector);
      await applyFix(uri, current.text, whole(text));
      const w = result.windows;
      return { message: `Rebuilt from ${result.files} files: ${w.partial_seizure} partial, ${w.full_seizure} full, ${w.no_seizure} no-seizure windows${result.skipped.length ? `; ${result.skipped.length} unreadable file(s) skipped` : ''}.` };
    }
    if (command === Commands.dropMissingEntries) {
      const directory = path.dirname(t.file);
      const exists = new Map<string, boolean>();
      for (const name of analyzeText(current.text).manifest?.files ?? []) {
        exists.set(name, await fs.stat(path.join(directory, name)).then(() => true, () => false));
      }
      const result = dropEntries(current.text, (name) => typeof name === 'string' && exists.get(name) === true);
      if (!result) throw new Error('the manifest is not valid JSON; fix it or rebuild it');
      if (result.dropped) await applyFix(uri, current.text, whole(result.text));
      return { message: result.dropped ? `Dropped ${plural(result.dropped, 'entry', 'entries')} whose cache files are missing.` : 'No entry references a missing file.' };
    }
    const analysis = await analyzeDocument(t.file, current.text, inspector, { content: true, cwd: folders[0] ?? path.dirname(t.file) });
    if (analysis.kind !== 'arc-dataset-info') throw new Error(`${path.basename(t.file)} is not an ARC dataset_info.json`);
    const edits = command === Commands.recomputeLesionVolumes
      ? lesionVolumeEdits(analysis.parsed, analysis.facts.masks.map((m) => m?.nifti?.positiveVoxels))
      : legacyPathEdits(analysis.parsed, analysis.facts.images, analysis.facts.masks, analysis.directory);
    if (edits.length) await applyFix(uri, current.text, edits);
    const what = command === Commands.recomputeLesionVolumes ? 'lesion volume' : 'legacy path';
    return { message: edits.length ? `Updated ${edits.length} ${what}${edits.length === 1 ? '' : 's'}.` : `Every ${what} is already correct.` };
  }

  connection.onExecuteCommand(async (params) => {
    const uri = typeof params.arguments?.[0] === 'string' ? (params.arguments[0] as string) : undefined;
    try {
      return await runCommand(params.command, uri);
    } catch (error) {
      const message = `NeuroCache: ${(error as Error).message}`;
      // A notification, not window/showMessageRequest: no client must be required to answer it.
      void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Error, message });
      return { message } satisfies CommandResult;
    }
  });

  connection.onRequest(DownloadArcRequest.method, async (params: DownloadArcRequest.Params, cancel): Promise<DownloadArcRequest.Result> => {
    if (!trusted) throw new ResponseError(ErrorCodes.InvalidRequest, 'NeuroCache does not download in a restricted (untrusted) workspace.');
    const controller = new AbortController();
    cancel.onCancellationRequested(() => controller.abort(new Error('cancelled; run the download again to resume')));
    let lastReport = 0;
    try {
      const result = await downloadArc({
        out: params.out,
        repo: params.repo || DEFAULT_REPO,
        revision: params.revision || 'main',
        endpoint: hubEndpoint(params.endpoint),
        token: hubToken(params.token),
        jobs: 8,
        force: !!params.force,
        paperParity: !!params.paperParity,
        verifyCounts: true,
        includeTse: !!params.includeTse,
        requireMask: params.requireMask !== false,
        offline: hubOffline(),
      }, {
        signal: controller.signal,
        countLesion: (file) => inspector.pool.lesionVolume(file),
        onProgress: (p) => {
          if (Date.now() - lastReport < 250 && p.shardsDone < p.shards) return;
          lastReport = Date.now();
          void connection.sendNotification(DownloadProgressNotification.method, { id: params.id, ...p } satisfies DownloadProgressNotification.Params);
        },
        log: (line) => connection.console.log(`download: ${line}`),
      });
      const message = result.status === 'up-to-date'
        ? `${result.datasetInfo} is already complete (${result.samples} samples).`
        : `Downloaded ${result.samples} samples from ${result.shards} shards (${(result.bytesTransferred / 1e6).toFixed(1)} MB transferred).`;
      return { datasetInfo: result.datasetInfo, samples: result.samples, message };
    } catch (error) {
      const reason = controller.signal.aborted ? (controller.signal.reason as Error) : (error as Error);
      throw new ResponseError(controller.signal.aborted ? LSPErrorCodes.RequestCancelled : ErrorCodes.InternalError, `Download ARC dataset: ${reason.message}`);
    }
  });

  connection.onShutdown(async () => {
    scan?.abort();
    for (const t of tracked.values()) t.running?.abort();
    await inspector?.store.save().catch(() => undefined);
    await inspector?.pool.close();
  });

  documents.listen(connection);
  connection.listen();
}
