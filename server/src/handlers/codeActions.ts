/**
 * Code actions, as ESLint's: for a diagnostic, a fix for just its entry or sample (an edit)
 * next to the whole-file fixes (commands); and `source.fixAll.neurocache`, the fixes safe to
 * apply on save (`editor.codeActionsOnSave`). Edits come from the analysis of the document's
 * current version and carry that version, so an editor never applies them to another text.
 * In restricted mode nothing is offered (NeuroCache writes nothing there).
 */
import {
  CancellationToken,
  CodeAction,
  CodeActionKind,
  CodeActionParams,
  Diagnostic,
  TextDocumentEdit,
} from 'vscode-languageserver/node';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Diagnostic as EngineDiagnostic, DiagnosticCode } from '../engine/diagnostics';
import { BUILD_LEAVES_IT_OUT } from '../engine/eeg/manifestCheck';
import type { Analysis } from '../service/analyze';
import type { TextEdit } from '../engine/json/edits';
import { ClientCommands, Commands } from '../protocol';
import { entryFixes, mayHaveSafeFixes, safeFixes } from '../service/entryFixes';
import { PROJECT_FILE } from '../service/projectFile';
import type { TextSnapshot } from '../service/textDocument';
import { currentAnalysis } from './diagnostics';
import type { ServerState } from './state';

/** Fix-on-save: `"editor.codeActionsOnSave": {"source.fixAll.neurocache": "explicit"}`. */
export const FIX_ALL = `${CodeActionKind.SourceFixAll}.neurocache`;

const REBUILD = { command: Commands.rebuildManifest, title: 'Rebuild manifest.json from the cache' };
const DROP = { command: Commands.dropMissingEntries, title: 'Drop every entry whose cache file is missing' };

/** The whole-file fixes each diagnostic code offers (commands that may read the whole cache). */
const FILE_FIXES: Partial<Record<DiagnosticCode, { command: string; title: string }[]>> = {
  'missing-cache-file': [DROP, REBUILD],
  'stale-manifest': [REBUILD, DROP],
  'category-mismatch': [REBUILD],
  'unreferenced-cache-file': [REBUILD],
  'window-out-of-range': [REBUILD],
  'duplicate-entry': [REBUILD],
  'lesion-volume-mismatch': [
    { command: Commands.recomputeLesionVolumes, title: 'Recompute every lesion volume from the masks' },
  ],
  'legacy-path': [
    { command: Commands.rewriteLegacyPaths, title: 'Rewrite every legacy path relative to dataset_info.json' },
  ],
  'index-window-count': [{ command: Commands.rewriteWindowCounts, title: 'Rewrite every window count from the cache' }],
  'no-labels': [REBUILD],
};

/** `edits` on the text of `snapshot`, as an LSP edit of that document version. */
export function documentEdit(uri: string, snapshot: TextSnapshot, edits: TextEdit[]): TextDocumentEdit {
  const changes = edits.map((e) => ({
    range: { start: snapshot.positionAt(e.offset), end: snapshot.positionAt(e.offset + e.length) },
    newText: e.newText,
  }));
  return TextDocumentEdit.create({ uri, version: snapshot.version }, changes);
}

/** Whether the client asked for actions of `kind` (`only` lists kinds or their parents, e.g. `source.fixAll`). */
function wanted(only: string[] | undefined, kind: string): boolean {
  return !only || only.some((k) => kind === k || kind.startsWith(`${k}.`));
}

export async function codeActions(
  state: ServerState,
  params: CodeActionParams,
  token?: CancellationToken,
): Promise<CodeAction[]> {
  if (!state.workspace.trusted) return [];
  const uri = params.textDocument.uri;
  const { only } = params.context;
  const quickFixes = wanted(only, CodeActionKind.QuickFix);
  const fixAll = !!only && wanted(only, FIX_ALL); // a source action: only when asked for by kind
  const diagnostics = params.context.diagnostics.filter((d) => d.source === 'neurocache');
  if (!fixAll && !(quickFixes && diagnostics.length)) return [];
  // On save, a document with no safe fixes (a manifest) must not wait for a check of its cache.
  const kind = state.documents.tracked.get(uri)?.analysis?.kind;
  if (!(quickFixes && diagnostics.length) && kind && !mayHaveSafeFixes(kind)) return [];
  const current = await currentAnalysis(state, uri, token);
  const actions: CodeAction[] = [];
  if (quickFixes) {
    for (const diagnostic of diagnostics) {
      if (!current) break;
      const offset = current.analysed.offsetAt(diagnostic.range.start);
      for (const fix of entryFixes(
        current.analysis,
        current.analysed.text,
        diagnostic.code as DiagnosticCode,
        offset,
      )) {
        actions.push({
          title: fix.title,
          kind: CodeActionKind.QuickFix,
          diagnostics: [diagnostic],
          isPreferred: fix.preferred,
          edit: { documentChanges: [documentEdit(uri, current.analysed, fix.edits)] },
        });
      }
    }
    actions.push(...fileFixes(diagnostics, uri, current?.analysis));
    if (current) actions.push(...excludeActions(diagnostics, uri, current.analysis, current.analysed));
    if (state.client.fileCommands && current)
      actions.push(...dataFileActions(diagnostics, current.analysis, current.analysed));
  }
  const safe = fixAll && current ? safeFixes(current.analysis) : [];
  if (safe.length) {
    const title =
      current!.analysis.kind === 'eeg-dataset-index'
        ? 'Fix window counts (NeuroCache)'
        : 'Fix lesion volumes and legacy paths (NeuroCache)';
    actions.push({ title, kind: FIX_ALL, edit: { documentChanges: [documentEdit(uri, current!.analysed, safe)] } });
  }
  return actions;
}

/** The engine's finding an LSP diagnostic shows (same place, code and message). */
function findingOf(diagnostic: Diagnostic, analysis: Analysis, analysed: TextSnapshot): EngineDiagnostic | undefined {
  const offset = analysed.offsetAt(diagnostic.range.start);
  return analysis.diagnostics.find(
    (d) => d.offset === offset && d.code === diagnostic.code && d.message === diagnostic.message,
  );
}

/**
 * Whether a rebuild changes this finding. It cannot for a file the build leaves out anyway (no
 * labels, unreadable, too many windows) that the manifest does not list: offering it would be a dead end.
 */
function rebuildHelps(diagnostic: Diagnostic, analysis: Analysis | undefined): boolean {
  if (analysis?.kind !== 'seizure-manifest') return true;
  const finding = analysis.diagnostics.find((d) => d.code === diagnostic.code && d.message === diagnostic.message);
  if (finding?.file === undefined) return true;
  if (finding.code === 'unreferenced-cache-file') return !finding.message.includes(BUILD_LEAVES_IT_OUT);
  return analysis.parsed.files.includes(finding.file);
}

/** The empty or broken manifest.json training would rebuild: the rebuild is the fix. */
const isBrokenManifest = (analysis: Analysis | undefined) =>
  analysis?.kind === 'invalid-json' && analysis.format === 'seizure-manifest';

/** The whole-file commands for the diagnostics, each once, after every per-entry fix. */
function fileFixes(diagnostics: Diagnostic[], uri: string, analysis: Analysis | undefined): CodeAction[] {
  const actions: CodeAction[] = [];
  const seen = new Set<string>();
  for (const diagnostic of diagnostics) {
    const fixes =
      diagnostic.code === 'invalid-json' && isBrokenManifest(analysis)
        ? [REBUILD]
        : (FILE_FIXES[diagnostic.code as DiagnosticCode] ?? []);
    for (const fix of fixes) {
      if (seen.has(fix.command)) continue;
      if (fix === REBUILD && !rebuildHelps(diagnostic, analysis)) continue;
      seen.add(fix.command);
      actions.push({
        title: fix.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [diagnostic],
        command: { title: fix.title, command: fix.command, arguments: [uri] },
      });
    }
  }
  return actions;
}

/**
 * For a finding about a cache file the manifest does not list: leave the file out of builds on
 * purpose (`build.exclude` in `.neurocache.json`), after which the finding is gone. Not for a
 * file the Python build stops on: Python's own rebuild knows no exclusions, so the finding stays.
 */
function excludeActions(
  diagnostics: Diagnostic[],
  uri: string,
  analysis: Analysis,
  analysed: TextSnapshot,
): CodeAction[] {
  if (analysis.kind !== 'seizure-manifest') return [];
  const actions: CodeAction[] = [];
  const seen = new Set<string>();
  for (const diagnostic of diagnostics) {
    const finding = findingOf(diagnostic, analysis, analysed);
    const file = finding?.file;
    if (file === undefined || finding!.code === 'cache-file-stops-build' || seen.has(file)) continue;
    if (analysis.parsed.files.includes(file)) continue;
    seen.add(file);
    const title = `Exclude ${file} from manifest builds (${PROJECT_FILE})`;
    actions.push({
      title,
      kind: CodeActionKind.QuickFix,
      diagnostics: [diagnostic],
      command: { title, command: Commands.excludeFromBuild, arguments: [uri, file] },
    });
  }
  return actions;
}

/** For findings about one data file: reveal it in the Explorer and open it (each file once). */
function dataFileActions(diagnostics: Diagnostic[], analysis: Analysis, analysed: TextSnapshot): CodeAction[] {
  const actions: CodeAction[] = [];
  const seen = new Set<string>();
  for (const diagnostic of diagnostics) {
    const file = findingOf(diagnostic, analysis, analysed)?.file;
    if (file === undefined || !('directory' in analysis)) continue;
    const target = pathToFileURL(path.resolve(analysis.directory, file)).href;
    if (seen.has(target)) continue;
    seen.add(target);
    const name = path.basename(file);
    for (const [command, title] of [
      [ClientCommands.revealFile, `Reveal ${name} in the Explorer`],
      [ClientCommands.openFile, `Open ${name}`],
    ]) {
      actions.push({
        title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [diagnostic],
        command: { title, command, arguments: [target] },
      });
    }
  }
  return actions;
}
