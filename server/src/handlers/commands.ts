/**
 * Code actions and `workspace/executeCommand`. Unknown commands are errors; trust is checked
 * before any command runs; a writing command acts only on a file inside a workspace folder
 * (symbolic links resolved), whose content is of the command's kind (service/commands.ts).
 * Its edits go to the open buffer as a workspace edit, or to the closed file atomically
 * (never replacing a link, never widening its mode: service/atomic.ts).
 */
import { fileURLToPath } from 'node:url';
import {
  CodeAction, CodeActionKind, CodeActionParams, ErrorCodes, ExecuteCommandParams, MessageType, ResponseError, ShowMessageNotification, TextDocumentEdit,
} from 'vscode-languageserver/node';
import { applyEdits, TextEdit } from '../engine/json/edits';
import { plural } from '../engine/report';
import { CommandResult, Commands, WRITING_COMMANDS } from '../protocol';
import { RefusedWrite, writeFileAtomic } from '../service/atomic';
import { FileCommand, isFileCommand, planCommand } from '../service/commands';
import { assertInsideWorkspace, readDocumentFile } from '../service/documentFiles';
import { TextSnapshot } from '../service/textDocument';
import { check } from './diagnostics';
import type { ServerState } from './state';
import { scanWorkspace } from './workspace';

const REBUILD = { command: Commands.rebuildManifest, title: 'Rebuild manifest.json from the cache' };
const DROP = { command: Commands.dropMissingEntries, title: 'Drop entries whose cache files are missing' };

/** Which fixes each diagnostic code offers. */
const FIXES: Record<string, { command: string; title: string }[]> = {
  'missing-cache-file': [DROP, REBUILD],
  'stale-manifest': [REBUILD, DROP],
  'category-mismatch': [REBUILD],
  'unreferenced-cache-file': [REBUILD],
  'window-out-of-range': [REBUILD],
  'lesion-volume-mismatch': [{ command: Commands.recomputeLesionVolumes, title: 'Recompute lesion volumes from the masks' }],
  'legacy-path': [{ command: Commands.rewriteLegacyPaths, title: 'Rewrite legacy paths relative to dataset_info.json' }],
  'index-window-count': [{ command: Commands.rewriteWindowCounts, title: 'Rewrite window counts from the cache' }],
};

export function codeActions(state: ServerState, params: CodeActionParams): CodeAction[] {
  const actions: CodeAction[] = [];
  const seen = new Set<string>();
  for (const diagnostic of params.context.diagnostics) {
    if (diagnostic.source !== 'neurocache') continue;
    for (const fix of FIXES[String(diagnostic.code)] ?? []) {
      if (seen.has(fix.command) || (!state.trusted && WRITING_COMMANDS.has(fix.command))) continue;
      seen.add(fix.command);
      actions.push({ title: fix.title, kind: CodeActionKind.QuickFix, diagnostics: [diagnostic], command: { title: fix.title, command: fix.command, arguments: [params.textDocument.uri] } });
    }
  }
  return actions;
}

/** Applies edits to the open buffer (as a workspace edit) or to the file on disk (atomically). */
async function applyFix(state: ServerState, uri: string, file: string, before: TextSnapshot, edits: TextEdit[]): Promise<void> {
  if (before.version >= 0) {
    const changes = edits.map((e) => ({ range: { start: before.positionAt(e.offset), end: before.positionAt(e.offset + e.length) }, newText: e.newText }));
    const result = await state.connection.workspace.applyEdit({ documentChanges: [TextDocumentEdit.create({ uri, version: before.version }, changes)] });
    if (!result.applied) throw new RefusedWrite(result.failureReason ?? 'the editor refused the edit');
    return;
  }
  // Planning can take a while (a rebuild reads the whole cache): never write over a change made meanwhile.
  if ((await readDocumentFile(file)) !== before.text) throw new RefusedWrite(`${file} changed while the command ran; run it again`);
  await writeFileAtomic(file, applyEdits(before.text, edits));
  await check(state, uri);
}

async function runFileCommand(state: ServerState, command: FileCommand, uri: string | undefined): Promise<CommandResult> {
  if (!state.trusted) throw new RefusedWrite('NeuroCache does not write files in a restricted (untrusted) workspace.');
  if (!uri?.startsWith('file:')) throw new RefusedWrite(`${command} needs the URI of a manifest.json, _dataset_index.json or dataset_info.json`);
  const file = fileURLToPath(uri);
  await assertInsideWorkspace(file, state.folders, 'the document');
  const open = state.openText(uri);
  const text = open?.text ?? (await readDocumentFile(file));
  if (text === undefined) throw new RefusedWrite(`cannot read ${file} (missing, or not a regular file)`);
  const before = open ?? new TextSnapshot(text, -1);
  const plan = await planCommand(command, file, text, { inspector: state.inspector, cwd: state.cwdFor(file) });
  if (plan.edits.length) await applyFix(state, uri, file, before, plan.edits);
  return { message: plan.message };
}

async function checkWorkspace(state: ServerState): Promise<CommandResult> {
  const files = await scanWorkspace(state);
  let errors = 0;
  for (const t of state.tracked.values()) errors += t.errors;
  return { message: `Checked ${plural(files, 'file')}: ${plural(errors, 'error')}.` };
}

export async function executeCommand(state: ServerState, params: ExecuteCommandParams): Promise<CommandResult> {
  const { command } = params;
  const uri = typeof params.arguments?.[0] === 'string' ? params.arguments[0] : undefined;
  const run = command === Commands.checkWorkspace ? () => checkWorkspace(state) : isFileCommand(command) ? () => runFileCommand(state, command, uri) : undefined;
  // Only the advertised commands exist: anything else is the client's mistake, never a fix to guess.
  if (!run) throw new ResponseError(ErrorCodes.InvalidParams, `NeuroCache has no command "${command}"`);
  try {
    return await run();
  } catch (error) {
    const message = `NeuroCache: ${(error as Error).message}`;
    state.log.error(`${command} failed: ${(error as Error).message}`);
    // A notification, not window/showMessageRequest: no client must be required to answer it.
    void state.connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Error, message });
    return { message };
  }
}
