/**
 * Code actions, as ESLint's: for a diagnostic, a fix for just its entry or sample (an edit)
 * next to the whole-file fixes (commands); and `source.fixAll.neurocache`, the fixes safe to
 * apply on save (`editor.codeActionsOnSave`). Edits come from the analysis of the document's
 * current version and carry that version, so an editor never applies them to another text.
 * In restricted mode nothing is offered (NeuroCache writes nothing there).
 */
import { CancellationToken, CodeAction, CodeActionKind, CodeActionParams, Diagnostic, TextDocumentEdit } from 'vscode-languageserver/node';
import type { DiagnosticCode } from '../engine/diagnostics';
import type { TextEdit } from '../engine/json/edits';
import { Commands } from '../protocol';
import { entryFixes, mayHaveSafeFixes, safeFixes } from '../service/entryFixes';
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
  'lesion-volume-mismatch': [{ command: Commands.recomputeLesionVolumes, title: 'Recompute every lesion volume from the masks' }],
  'legacy-path': [{ command: Commands.rewriteLegacyPaths, title: 'Rewrite every legacy path relative to dataset_info.json' }],
  'index-window-count': [{ command: Commands.rewriteWindowCounts, title: 'Rewrite every window count from the cache' }],
  'no-labels': [REBUILD],
};

/** `edits` on the text of `snapshot`, as an LSP edit of that document version. */
export function documentEdit(uri: string, snapshot: TextSnapshot, edits: TextEdit[]): TextDocumentEdit {
  const changes = edits.map((e) => ({ range: { start: snapshot.positionAt(e.offset), end: snapshot.positionAt(e.offset + e.length) }, newText: e.newText }));
  return TextDocumentEdit.create({ uri, version: snapshot.version }, changes);
}

/** Whether the client asked for actions of `kind` (`only` lists kinds or their parents, e.g. `source.fixAll`). */
function wanted(only: string[] | undefined, kind: string): boolean {
  return !only || only.some((k) => kind === k || kind.startsWith(`${k}.`));
}

export async function codeActions(state: ServerState, params: CodeActionParams, token?: CancellationToken): Promise<CodeAction[]> {
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
      for (const fix of entryFixes(current.analysis, current.analysed.text, diagnostic.code as DiagnosticCode, offset)) {
        actions.push({ title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], isPreferred: fix.preferred, edit: { documentChanges: [documentEdit(uri, current.analysed, fix.edits)] } });
      }
    }
    actions.push(...fileFixes(diagnostics, uri));
  }
  const safe = fixAll && current ? safeFixes(current.analysis) : [];
  if (safe.length) {
    const title = current!.analysis.kind === 'eeg-dataset-index' ? 'Fix window counts (NeuroCache)' : 'Fix lesion volumes and legacy paths (NeuroCache)';
    actions.push({ title, kind: FIX_ALL, edit: { documentChanges: [documentEdit(uri, current!.analysed, safe)] } });
  }
  return actions;
}

/** The whole-file commands for the diagnostics, each once, after every per-entry fix. */
function fileFixes(diagnostics: Diagnostic[], uri: string): CodeAction[] {
  const actions: CodeAction[] = [];
  const seen = new Set<string>();
  for (const diagnostic of diagnostics) {
    for (const fix of FILE_FIXES[diagnostic.code as DiagnosticCode] ?? []) {
      if (seen.has(fix.command)) continue;
      seen.add(fix.command);
      actions.push({ title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], command: { title: fix.title, command: fix.command, arguments: [uri] } });
    }
  }
  return actions;
}
