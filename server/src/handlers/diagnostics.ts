/**
 * Diagnostics scheduling: schema problems straight from the text, then content checks (missing
 * files, counts, categories) from the worker pool, which replace them when they arrive.
 *
 * Work is per burst, not per edit: an edit only queues its change, aborts the check under way
 * and restarts the debounce; when it fires, the latest text is built once and parsed once. A
 * check that a newer one supersedes stops before parsing, and results for an older version
 * are dropped.
 */
import * as path from 'node:path';
import { CancellationToken, Diagnostic as LspDiagnostic, DiagnosticSeverity } from 'vscode-languageserver/node';
import { Diagnostic, Severity } from '../engine/diagnostics';
import type { PythonJsonError } from '../engine/json/pythonJsonLoad';
import { Analysis, analyzeStructure, KnownFacts, knownFacts, structuralAnalysis } from '../service/analyze';
import { detectDocument, Structure } from '../service/detect';
import { reparseManifest } from '../engine/eeg/manifestReparse';
import { openDocumentDecodeError, readJsonFile } from '../service/readJson';
import { MAX_JSON_BYTES } from '../service/regularFile';
import { codeLink } from '../service/diagnosticDocs';
import { TextSnapshot } from '../service/textDocument';
import { nextTurn } from '../service/nextTurn';
import { forgetClosed, keepClosed } from './closedAnalyses';
import { buildExcludeFor } from './buildExclude';
import { settingsFor } from './settings';
import type { Settings } from '../protocol';
import { applySeverityOverrides, mergeOverrides, SeverityOverrides } from '../engine/severity';
import type { ServerState, Tracked } from './state';
import { reportFailure, statusChanged } from './status';
import { fileProblems, fileProblemsChanged } from './fileProblems';

/** Quiet time after the last edit before a document is checked again. */
export const EDIT_DEBOUNCE_MS = 300;

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

/**
 * Why a check runs: an edit of an open document changed only its text, so the cache-file facts
 * of its last check still hold; anything else (a file or a setting changed, a command) may have
 * changed them.
 */
export type CheckReason = 'edit' | 'other';

/** Checks `uri` after `delay` ms; a later call for the same URI replaces an earlier one. */
export function scheduleCheck(state: ServerState, uri: string, delay: number, reason: CheckReason = 'other'): void {
  if (state.shuttingDown || !uri.startsWith('file:')) return;
  // Said at once: a later edit's timer replaces this one, and must not reuse facts this one was to refresh.
  if (reason !== 'edit') state.documents.factsEpoch++;
  clearTimeout(state.documents.checkTimers.get(uri));
  state.documents.checkTimers.set(
    uri,
    setTimeout(() => {
      state.documents.checkTimers.delete(uri);
      void check(state, uri, reason);
    }, delay),
  );
}

/**
 * The structure of an edited text from its last analysis, when the edit allows it: the same
 * text (a re-check), or a manifest edit that re-parses only the entries it touches.
 */
function structureFromLast(t: Tracked, snapshot: TextSnapshot): Structure | undefined {
  const { analysis, analysed } = t;
  if (analysis?.kind !== 'seizure-manifest' || !analysed) return undefined;
  if (snapshot === analysed) return { kind: 'seizure-manifest', parsed: analysis.parsed };
  const change = snapshot.changeSince(analysed.id);
  if (!change) return undefined;
  const parsed = reparseManifest(analysis.parsed, snapshot, change);
  return parsed && { kind: 'seizure-manifest', parsed };
}

/**
 * The cache-file facts of the last check, when nothing but the text changed since they were
 * gathered. Only a client that watches files tells us when the cache files change; without one
 * (a plain LSP client) every check gathers them afresh, as it always did.
 */
function factsFromLast(state: ServerState, t: Tracked, reason: CheckReason): KnownFacts | undefined {
  const { analysis } = t;
  if (reason !== 'edit' || analysis?.kind !== 'seizure-manifest' || !state.client.watcherRegistration) return undefined;
  return t.factsEpoch === state.documents.factsEpoch ? knownFacts(analysis) : undefined;
}

/** Stops the check under way for `uri` (its results would be for an older version). */
export function abortCheck(state: ServerState, uri: string): void {
  state.documents.tracked.get(uri)?.running?.abort();
}

/**
 * The document's current text: the open buffer, else the file (regular files only), with the
 * UnicodeDecodeError Python's json.load raises for the bytes on disk, if any.
 */
async function currentText(
  state: ServerState,
  t: Tracked,
): Promise<{ snapshot: TextSnapshot; decodeError?: PythonJsonError } | undefined> {
  const open = state.documents.openText(t.uri);
  if (open) return { snapshot: open, decodeError: await openDocumentDecodeError(t.file, open) };
  const read = await readJsonFile(t.file).catch(() => undefined);
  return read && { snapshot: new TextSnapshot(read.text, -1), decodeError: read.decodeError };
}

/** Whether a text is over the largest JSON document read (its UTF-8 bytes are counted only when they may be). */
const overJsonBound = (snapshot: TextSnapshot) =>
  snapshot.length > MAX_JSON_BYTES ||
  (snapshot.length * 3 > MAX_JSON_BYTES && Buffer.byteLength(snapshot.text) > MAX_JSON_BYTES);

const versionOf = (snapshot: TextSnapshot) => (snapshot.version < 0 ? undefined : snapshot.version);

/** The levels the user chose: `.neurocache.json` (nearest above the file, within its folder), then the setting. */
async function severityOverrides(state: ServerState, t: Tracked, settings: Settings): Promise<SeverityOverrides> {
  const project = await state.settings.projects.for(t.file, state.workspace.folderOf(t.file));
  if (project.file && (project.error || project.problems.length)) {
    const said = `${project.file}\0${project.error ?? project.problems.join('\0')}`;
    if (!state.settings.loggedProjectProblems.has(said)) {
      state.settings.loggedProjectProblems.add(said);
      if (project.error) state.log.warn(`${project.error}: its severities and build exclusions are not applied`);
      for (const problem of project.problems) state.log.warn(`${project.file}: ${problem}; ignored`);
    }
  }
  return mergeOverrides(project.severity, settings.diagnostics.severity as SeverityOverrides);
}

async function publish(state: ServerState, t: Tracked, snapshot: TextSnapshot, found: Diagnostic[]): Promise<void> {
  const settings = await settingsFor(state, t.uri);
  const { maxDiagnosticsPerFile } = settings;
  const diagnostics = applySeverityOverrides(found, await severityOverrides(state, t, settings));
  // The snapshot's line starts: carried over from edit to edit, never scanned again per publish.
  const range = (offset: number, length: number) => ({
    start: snapshot.positionAt(offset),
    end: snapshot.positionAt(offset + length),
  });
  const shown = diagnostics.slice(0, maxDiagnosticsPerFile);
  const lsp: LspDiagnostic[] = shown.map((d) => {
    const href = codeLink(d.code);
    return {
      range: range(d.offset, d.length),
      severity: SEVERITY[d.severity],
      code: d.code,
      ...(href && { codeDescription: { href } }),
      source: 'neurocache',
      message: d.message,
    };
  });
  if (diagnostics.length > shown.length) {
    const more = diagnostics.length - shown.length;
    lsp.push({
      range: range(0, 1),
      severity: DiagnosticSeverity.Information,
      source: 'neurocache',
      message: `${more.toLocaleString('en-US')} more findings not shown: raise neurocache.maxDiagnosticsPerFile (now ${maxDiagnosticsPerFile}) to see them.`,
    });
  }
  t.errors = diagnostics.filter((d) => d.severity === 'error').length;
  t.warnings = diagnostics.filter((d) => d.severity === 'warning').length;
  state.documents.counters(t.uri).publishes++;
  await state.connection.sendDiagnostics({ uri: t.uri, version: versionOf(snapshot), diagnostics: lsp });
  fileProblemsChanged(state, t.uri, fileProblems(diagnostics, path.dirname(t.file)));
  statusChanged(state);
}

/** Forgets a file (closed and not ours, or deleted) and clears its diagnostics. */
export function untrack(state: ServerState, uri: string): void {
  const t = state.documents.tracked.get(uri);
  t?.running?.abort();
  state.documents.tracked.delete(uri);
  forgetClosed(state, uri);
  void state.connection.sendDiagnostics({ uri, diagnostics: [] });
  fileProblemsChanged(state, uri, []);
  statusChanged(state);
}

/**
 * Checks one file: schema at once, content in the background; superseded work stops early. After
 * an edit whose facts still hold, the content check reuses them and comes at once instead.
 */
export async function check(state: ServerState, uri: string, reason: CheckReason = 'other'): Promise<void> {
  if (!uri.startsWith('file:') || state.shuttingDown) return;
  if (reason !== 'edit') state.documents.factsEpoch++;
  const t = state.documents.track(uri);
  t.running?.abort();
  const controller = new AbortController();
  t.running = controller;
  const { signal } = controller;
  try {
    const { contentChecks, deepChecks, training, cv, preprocessing } = await settingsFor(state, uri);
    if (signal.aborted) return; // a newer check (or an edit) came while we waited
    const current = await currentText(state, t);
    // After an edit, hovers and edits that came while the text was built are answered first. Not
    // before a whole parse: another check (the workspace scan's) would stop this one and parse again.
    if (reason === 'edit') await nextTurn();
    if (signal.aborted) return;
    if (!current) return untrack(state, uri);
    const { snapshot } = current;
    if (state.documents.open.has(uri) && overJsonBound(snapshot)) {
      // As for a file on disk over the bound (readRegularBytes): not checked, and its text not kept.
      state.documents.open.delete(uri);
      state.log.warn(
        `${t.file} is open with over ${MAX_JSON_BYTES} bytes of text, more than NeuroCache reads for a JSON file: not checked.`,
      );
      return untrack(state, uri);
    }
    // From the last analysis when the edit allows it (exactly what a parse gives); else decided by the
    // content, and for a file Python cannot read that does not say what it is, by where it sits.
    const fromLast = current.decodeError ? undefined : structureFromLast(t, snapshot);
    const counters = state.documents.counters(uri);
    if (fromLast) counters.reparses++;
    else counters.parses++;
    const structure = fromLast ?? (await detectDocument(t.file, snapshot.text, { decodeError: current.decodeError }));
    if (fromLast) await nextTurn(); // a whole parse's result is published before anything else runs
    if (signal.aborted) return;
    if (structure.kind === 'unrelated') {
      // Named like ours but not our format (a browser-extension manifest): say nothing at all.
      if (state.documents.open.has(uri)) {
        t.analysis = undefined;
        t.released = undefined;
        t.analysed = snapshot; // checked, and found to be none of ours
        await state.connection.sendDiagnostics({ uri, diagnostics: [] });
      } else untrack(state, uri);
      return;
    }
    const known = fromLast && factsFromLast(state, t, reason);
    const factsEpoch = state.documents.factsEpoch;
    // The same text checked again (a cache file changed, a setting, Check Workspace): its findings
    // stay as published until the new facts replace them, rather than dropping the content
    // findings for the moment a structural publish would show.
    // (Texts are compared only after a whole parse, which made this one whole already.)
    const last = t.analysis && t.analysed;
    const sameText =
      last === snapshot ||
      (!fromLast && last !== undefined && last.length === snapshot.length && last.text === snapshot.text);
    if (!known && !sameText) {
      t.analysis = structuralAnalysis(t.file, structure, training, cv);
      t.released = undefined;
      t.analysed = snapshot;
      t.factsEpoch = undefined; // its facts are assumed, not gathered
      await publish(state, t, snapshot, t.analysis.diagnostics);
      if (signal.aborted) return;
    }
    counters.contentChecks++;
    const analysis: Analysis = await analyzeStructure(t.file, structure, state.inspector, {
      content: contentChecks,
      deep: deepChecks || state.documents.deepRequested.has(uri),
      onDeepProgress: state.documents.deepProgress.get(uri),
      composition: training,
      cv,
      resampleMethod: preprocessing.resampleMethod,
      cwd: state.workspace.cwdFor(t.file),
      searchMovedUnder: state.workspace.folderOf(t.file),
      buildExclude: await buildExcludeFor(state, t.file),
      signal,
      known,
    });
    const open = state.documents.open.get(uri);
    if (signal.aborted || (open && open.version !== snapshot.version)) return; // superseded
    t.analysis = analysis;
    t.released = undefined;
    t.analysed = snapshot;
    t.factsEpoch = factsEpoch;
    await publish(state, t, snapshot, analysis.diagnostics);
    void state.inspector.store.save().catch(() => undefined);
  } catch (error) {
    if (!signal.aborted) reportFailure(state, `Checking ${t.file} failed: ${(error as Error).message}`);
  } finally {
    if (t.running === controller) t.running = undefined;
    if (state.documents.tracked.get(uri) === t && !state.documents.open.has(uri)) keepClosed(state, t);
    statusChanged(state);
    state.documents.checks.emit('checked', uri);
  }
}

/**
 * The analysis of an open document's current text, once its check has finished (requests that
 * edit the text, or return ranges in it, must not use one made from an older version).
 * Undefined when the document is not open, not one of ours, its check failed, or `token` is
 * cancelled.
 */
export async function currentAnalysis(
  state: ServerState,
  uri: string,
  token?: CancellationToken,
): Promise<{ analysis: Analysis; analysed: TextSnapshot } | undefined> {
  for (;;) {
    const document = state.documents.open.get(uri);
    if (!document || token?.isCancellationRequested || state.shuttingDown) return undefined;
    const t = state.documents.tracked.get(uri);
    const underWay = !!t?.running || state.documents.checkTimers.has(uri);
    if (!underWay) {
      const current = t?.analysed?.version === document.version;
      return current && t.analysis && t.analysed ? { analysis: t.analysis, analysed: t.analysed } : undefined;
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        state.documents.checks.off('checked', onChecked);
        cancelled?.dispose();
        resolve();
      };
      const onChecked = (checked: string) => checked === uri && done();
      state.documents.checks.on('checked', onChecked);
      const cancelled = token?.onCancellationRequested(done);
    });
  }
}
