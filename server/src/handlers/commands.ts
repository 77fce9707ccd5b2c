/**
 * `workspace/executeCommand` (code actions are in codeActions.ts). Unknown commands are errors; trust is checked
 * before any command runs; a writing command acts only on a file inside a workspace folder
 * (symbolic links resolved), whose content is of the command's kind (service/commands.ts).
 * Its edits go to the open buffer as a workspace edit, or to the closed file atomically
 * (never replacing a link, never widening its mode: service/atomic.ts).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  ErrorCodes,
  ExecuteCommandParams,
  MessageType,
  ResponseError,
  ShowMessageNotification,
} from 'vscode-languageserver/node';
import { escapeGlob } from '../engine/eeg/buildExclude';
import { isBareFileName } from '../engine/eeg/manifestParse';
import { applyEdits, TextEdit } from '../engine/json/edits';
import { plural } from '../engine/report';
import { BUILD_EXCLUDE, CommandResult, Commands } from '../protocol';
import { RefusedWrite, removeStaleTemps, writeFileAtomic } from '../service/atomic';
import { computeManifest, describeBuild, MANIFEST_FILE } from '../service/buildManifest';
import { FileCommand, isFileCommand, planCommand } from '../service/commands';
import { assertInsideWorkspace, readDocumentFile } from '../service/documentFiles';
import { TextSnapshot } from '../service/textDocument';
import { addExcludePattern } from '../service/projectConfig';
import { PROJECT_FILE } from '../service/projectFile';
import { buildExcludeFor } from './buildExclude';
import { documentEdit } from './codeActions';
import { check, scheduleCheck } from './diagnostics';
import { isOurs, type ServerState } from './state';
import { scanWorkspace } from './workspace';

/** Applies edits to the open buffer (as a workspace edit) or to the file on disk (atomically). */
async function applyFix(
  state: ServerState,
  uri: string,
  file: string,
  before: TextSnapshot,
  edits: TextEdit[],
  confine: readonly string[],
): Promise<void> {
  if (before.version >= 0) {
    const result = await state.connection.workspace.applyEdit({ documentChanges: [documentEdit(uri, before, edits)] });
    if (!result.applied) throw new RefusedWrite(result.failureReason ?? 'the editor refused the edit');
    return;
  }
  // Planning can take a while (a rebuild reads the whole cache): never write over a change made meanwhile,
  // nor once the client has shut the server down.
  if (state.shuttingDown)
    throw new RefusedWrite(`the server was shut down while the command ran; ${file} is unchanged`);
  if ((await readDocumentFile(file)) !== before.text)
    throw new RefusedWrite(`${file} changed while the command ran; run it again`);
  // Inside the workspace folders as they were checked, judged again as it is written.
  await writeFileAtomic(file, applyEdits(before.text, edits), { confine });
  await removeStaleTemps(file);
  await check(state, uri);
}

async function runFileCommand(
  state: ServerState,
  command: FileCommand,
  uri: string | undefined,
): Promise<CommandResult> {
  if (!state.workspace.trusted)
    throw new RefusedWrite('NeuroCache does not write files in a restricted (untrusted) workspace.');
  if (!uri?.startsWith('file:'))
    throw new RefusedWrite(`${command} needs the URI of a manifest.json, _dataset_index.json or dataset_info.json`);
  const file = fileURLToPath(uri);
  const confine = await assertInsideWorkspace(file, state.workspace.folders, 'the document');
  const open = state.documents.openText(uri);
  const text = open?.text ?? (await readDocumentFile(file));
  if (text === undefined) throw new RefusedWrite(`cannot read ${file} (missing, or not a regular file)`);
  const before = open ?? new TextSnapshot(text, -1);
  const plan = await planCommand(command, file, text, {
    inspector: state.inspector,
    cwd: state.workspace.cwdFor(file),
    exclude: await buildExcludeFor(state, file),
  });
  if (plan.edits.length) await applyFix(state, uri, file, before, plan.edits, confine);
  return { ok: true, message: plan.message, ...(plan.warning && { warning: true }) };
}

/**
 * "Build manifest.json here": the folder's manifest.json rebuilt when there is one (as the
 * Rebuild command does), written new otherwise, atomically and only inside the workspace. A folder
 * without *.npz gets nothing: an empty manifest would make training rebuild it and hide the mistake.
 */
async function buildManifestHere(state: ServerState, uri: string | undefined): Promise<CommandResult> {
  if (!state.workspace.trusted)
    throw new RefusedWrite('NeuroCache does not write files in a restricted (untrusted) workspace.');
  if (!uri?.startsWith('file:'))
    throw new RefusedWrite(`${Commands.buildManifestHere} needs the URI of a folder holding *.npz cache files`);
  const folder = fileURLToPath(uri);
  const confine = await assertInsideWorkspace(folder, state.workspace.folders, 'the folder');
  const manifest = path.join(folder, MANIFEST_FILE);
  const manifestUri = pathToFileURL(manifest).href;
  // A manifest already there (open or on disk) is rebuilt, so an open buffer gets an edit, never a write behind it.
  if (state.documents.openText(manifestUri) || (await fs.lstat(manifest).catch(() => undefined)))
    return runFileCommand(state, Commands.rebuildManifest, manifestUri);
  const { text, result } = await computeManifest(folder, state.inspector, {
    exclude: await buildExcludeFor(state, manifest),
  });
  if (result.found === 0) throw new RefusedWrite(`${folder} holds no *.npz cache files: no manifest.json written`);
  if (state.shuttingDown)
    throw new RefusedWrite(`the server was shut down while the command ran; nothing was written in ${folder}`);
  await writeFileAtomic(manifest, text, { confine });
  await removeStaleTemps(manifest);
  await check(state, manifestUri);
  return {
    ok: true,
    message: describeBuild(result, `Wrote ${manifest}`),
    ...(result.pythonStopsAt && { warning: true }),
  };
}

/**
 * "Exclude x.npz from manifest builds": adds the file to `build.exclude` in the project file that
 * applies to the manifest (a new `.neurocache.json` in its workspace folder when none does), so
 * the editor's rebuilds and the CLI's `manifest build` leave it out alike. The project file is
 * written atomically, only inside the workspace, and never over a change made meanwhile.
 */
async function excludeFromBuild(state: ServerState, uri: string | undefined, name: unknown): Promise<CommandResult> {
  if (!state.workspace.trusted)
    throw new RefusedWrite('NeuroCache does not write files in a restricted (untrusted) workspace.');
  if (!uri?.startsWith('file:') || typeof name !== 'string' || !isBareFileName(name))
    throw new RefusedWrite(
      `${Commands.excludeFromBuild} needs the URI of a manifest.json and the name of a cache file next to it`,
    );
  const manifest = fileURLToPath(uri);
  await assertInsideWorkspace(manifest, state.workspace.folders, 'the manifest');
  const folder = state.workspace.folderOf(manifest) ?? path.dirname(manifest);
  const project = await state.settings.projects.for(manifest, folder);
  const target = project.file ?? path.join(folder, PROJECT_FILE);
  const confine = await assertInsideWorkspace(target, state.workspace.folders, 'the project file');
  const relative = path
    .relative(path.dirname(target), path.join(path.dirname(manifest), name))
    .split(path.sep)
    .join('/');
  // With a `/` the pattern is this one file, not every file of that name in any folder.
  const pattern = escapeGlob(relative.includes('/') ? relative : `./${relative}`);
  const before = await readDocumentFile(target);
  if (before === undefined && (await fs.lstat(target).catch(() => undefined)))
    throw new RefusedWrite(`cannot read ${target} (not a regular file)`);
  let next: string;
  try {
    next = addExcludePattern(target, before, pattern);
  } catch (error) {
    throw new RefusedWrite((error as Error).message);
  }
  if (next === before)
    return { ok: true, message: `${name} is already excluded from manifest builds ("${pattern}" in ${target}).` };
  if (state.shuttingDown)
    throw new RefusedWrite(`the server was shut down while the command ran; ${target} is unchanged`);
  if ((await readDocumentFile(target)) !== before) throw new RefusedWrite(`${target} changed meanwhile; run it again`);
  await writeFileAtomic(target, next, { confine });
  await removeStaleTemps(target);
  // Every file below it is judged again (from fingerprints); the manifest at once, so the finding goes now.
  state.settings.projects.forget();
  for (const tracked of state.documents.tracked.keys()) if (tracked !== uri) scheduleCheck(state, tracked, 0);
  await check(state, uri);
  return {
    ok: true,
    message: `Excluded ${name} from manifest builds ("${pattern}" in ${BUILD_EXCLUDE.projectKey} of ${target}): checks no longer report it, and a rebuild leaves it out and says its manifest differs from the Python builder's.`,
  };
}

async function checkWorkspace(state: ServerState): Promise<CommandResult> {
  await scanWorkspace(state);
  // The scan leaves open documents to their own checks; asked for everything, they are checked too.
  for (const uri of [...state.documents.open.keys()]) await check(state, uri);
  // Only NeuroCache's files count: a web app's manifest.json was looked at, not checked.
  let files = 0;
  let errors = 0;
  let warnings = 0;
  for (const t of state.documents.tracked.values()) {
    if (!isOurs(t)) continue;
    files++;
    errors += t.errors;
    warnings += t.warnings;
  }
  return {
    ok: true,
    message: `Checked ${plural(files, 'file')}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}.`,
  };
}

export async function executeCommand(state: ServerState, params: ExecuteCommandParams): Promise<CommandResult> {
  const { command } = params;
  const uri = typeof params.arguments?.[0] === 'string' ? params.arguments[0] : undefined;
  const run =
    command === Commands.checkWorkspace
      ? () => checkWorkspace(state)
      : command === Commands.buildManifestHere
        ? () => buildManifestHere(state, uri)
        : command === Commands.excludeFromBuild
          ? () => excludeFromBuild(state, uri, params.arguments?.[1])
          : isFileCommand(command)
            ? () => runFileCommand(state, command, uri)
            : undefined;
  // Only the advertised commands exist: anything else is the client's mistake, never a fix to guess.
  if (!run) throw new ResponseError(ErrorCodes.InvalidParams, `NeuroCache has no command "${command}"`);
  try {
    return await run();
  } catch (error) {
    const { message } = error as Error;
    state.log.error(`${command} failed: ${message}`);
    // A notification, not window/showMessageRequest: no client must be required to answer it.
    void state.connection.sendNotification(ShowMessageNotification.type, {
      type: MessageType.Error,
      message: `NeuroCache: ${message}`,
    });
    return { ok: false, message };
  }
}
