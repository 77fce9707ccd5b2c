/**
 * "Download ARC dataset" and "Force Re-download ARC dataset": a cancellable notification that
 * forwards its token to the server's download and shows its progress, including retries as
 * they happen. A failure offers Retry, Open Settings (the Hub endpoint) and Show Output; a
 * success says what the filters kept and left out, and opens dataset_info.json.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  DEFAULT_MACHINE_SETTINGS,
  DownloadArcRequest,
  DownloadProgressNotification,
  formatBytes,
  formatWait,
  MachineSettings,
} from '../../server/src/protocol';
import type { ClientLog } from './log';
import { onNotification, sendRequest } from './rpc';
import type { HubToken } from './token';

export interface DownloadDeps {
  /** The running language client, if any. */
  client(): LanguageClient | undefined;
  log: ClientLog;
  token: HubToken;
}

/** What a failed download offers. */
const RETRY = 'Retry';
const OPEN_SETTINGS = 'Open Settings';
const SHOW_OUTPUT = 'Show Output';
const SET_TOKEN = 'Set Token';
const FORCE = 'Force Re-download';

function downloadSetting<K extends keyof MachineSettings['download']>(key: K): MachineSettings['download'][K] {
  return vscode.workspace
    .getConfiguration('neurocache.download')
    .get<MachineSettings['download'][K]>(key, DEFAULT_MACHINE_SETTINGS.download[key]);
}

/**
 * "Open Hub Settings": the Settings editor on `neurocache.hubEndpoint`. It is machine-scoped,
 * so a remote window (Remote SSH, containers, code-server) shows it only among the Remote
 * settings.
 */
export async function openHubSettings(): Promise<void> {
  const query = '@id:neurocache.hubEndpoint';
  if (vscode.env.remoteName) await vscode.commands.executeCommand('workbench.action.openRemoteSettings', { query });
  else await vscode.commands.executeCommand('workbench.action.openSettings', query);
}

/**
 * Where the Hub endpoint comes from, in words: `neurocache.hubEndpoint` is machine-scoped, so in
 * a remote window (SSH, containers, code-server) only the Remote settings count, and a value in
 * the local User settings is silently not used. Said in the log and with every failure.
 */
export function hubEndpointSource(): { endpoint?: string; words: string } {
  const inspected = vscode.workspace.getConfiguration('neurocache').inspect<string>('hubEndpoint');
  const remote = vscode.env.remoteName;
  const settings = remote ? `Remote settings (${remote})` : 'User settings';
  const value = inspected?.globalValue?.trim();
  if (value) return { endpoint: value, words: `Hub endpoint ${value}, from neurocache.hubEndpoint in ${settings}` };
  const unread = remote
    ? `; in this remote window neurocache.hubEndpoint is read from ${settings} only, so a value in your local User settings is not used`
    : '';
  return {
    words: `Hub endpoint: neurocache.hubEndpoint is not set in ${settings}, so the server uses HF_ENDPOINT on ${remote ? 'the remote machine' : 'this machine'} or https://huggingface.co${unread}`,
  };
}

/** Asks where to put the dataset: data/arc in the workspace by default, or any folder. */
async function pickDownloadFolder(force: boolean): Promise<vscode.Uri | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const fallback = folder ? vscode.Uri.joinPath(folder, 'data', 'arc') : undefined;
  const choices: (vscode.QuickPickItem & { uri?: vscode.Uri })[] = [
    ...(fallback ? [{ label: '$(folder) data/arc', description: fallback.fsPath, uri: fallback }] : []),
    { label: '$(folder-opened) Choose another folder…' },
  ];
  const choice = await vscode.window.showQuickPick(choices, {
    title: force
      ? 'Force re-download the ARC dataset into (every file is fetched and written again)'
      : 'Download ARC dataset into',
    placeHolder: 'Where should dataset_info.json and cache/nifti_cache/ go?',
  });
  if (!choice) return undefined;
  if (choice.uri) return choice.uri;
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    defaultUri: folder,
    openLabel: 'Download here',
  });
  return picked?.[0];
}

/** The notification's line for a progress report: counts, then the latest retry while it is recent. */
function describeProgress(p: DownloadProgressNotification.Params): string {
  const eta = p.etaSeconds === undefined ? '' : `, ETA ${Math.ceil(p.etaSeconds)} s`;
  const counts = p.shards
    ? `${p.shardsDone}/${p.shards} shards, ${p.sessionsWritten} sessions, ${formatBytes(p.bytes)} at ${formatBytes(p.bytesPerSecond)}/s${eta}`
    : 'listing the shards';
  const retry = !p.retrying
    ? ''
    : p.retrying.rateLimited
      ? ` — rate limited by the Hub, resuming in ${formatWait(p.retrying.delayMs)}`
      : ` — retrying (${p.retrying.attempt}/${p.retrying.attempts}) after ${p.retrying.reason}`;
  return counts + retry;
}

export async function downloadArc(deps: DownloadDeps, force: boolean): Promise<void> {
  const out = await pickDownloadFolder(force);
  if (out) await runDownload(deps, out, force);
}

type Outcome = { result: DownloadArcRequest.Result } | { failure: string; httpStatus?: number } | { cancelled: true };

async function runDownload(deps: DownloadDeps, out: vscode.Uri, force: boolean): Promise<void> {
  const client = deps.client();
  if (!client) {
    void vscode.window.showErrorMessage(
      'NeuroCache: the language server is not running; run "NeuroCache: Restart Server" first.',
    );
    return;
  }
  const id = `${Date.now()}`;
  const source = hubEndpointSource();
  deps.log.info(source.words);
  const outcome = await vscode.window.withProgress<Outcome>(
    {
      location: vscode.ProgressLocation.Notification,
      title: force ? 'Re-downloading ARC dataset' : 'Downloading ARC dataset',
      cancellable: true,
    },
    async (progress, cancel) => {
      let reported = 0;
      const listener = onNotification(client, DownloadProgressNotification.type, (p) => {
        if (p.id !== id) return;
        const percent = 100 * p.fraction;
        progress.report({ increment: percent - reported, message: describeProgress(p) });
        reported = percent;
      });
      try {
        const params: DownloadArcRequest.Params = {
          id,
          out: out.fsPath,
          endpoint: source.endpoint,
          token: await deps.token.get(),
          force,
          includeTse: downloadSetting('includeTurboSpinEcho'),
          requireMask: downloadSetting('requireMask'),
          parallel: downloadSetting('parallel'),
        };
        return { result: await sendRequest(client, DownloadArcRequest.type, params, cancel) };
      } catch (error) {
        if (cancel.isCancellationRequested) return { cancelled: true };
        const data = (error as { data?: DownloadArcRequest.ErrorData }).data;
        return { failure: (error as Error).message, httpStatus: data?.httpStatus };
      } finally {
        listener.dispose();
      }
    },
  );
  // The server logs the download's start, retries, end and failure; the client adds nothing.
  if ('cancelled' in outcome) {
    void vscode.window.showInformationMessage('NeuroCache: ARC download cancelled; run it again to resume.');
    return;
  }
  if ('failure' in outcome) {
    // What the user can do about it.
    const refused = outcome.httpStatus === 401 || outcome.httpStatus === 403;
    const actions = [RETRY, ...(refused ? [SET_TOKEN] : []), OPEN_SETTINGS, SHOW_OUTPUT];
    const choice = await vscode.window.showErrorMessage(
      `NeuroCache: ${outcome.failure} (${source.words}.)`,
      ...actions,
    );
    if (choice === RETRY) return runDownload(deps, out, force);
    if (choice === SET_TOKEN) {
      await deps.token.prompt();
      return runDownload(deps, out, force);
    }
    if (choice === OPEN_SETTINGS) await openHubSettings();
    if (choice === SHOW_OUTPUT) deps.log.show();
    return;
  }
  const { result } = outcome;
  const actions = result.status === 'up-to-date' ? [FORCE] : result.problems.length ? [SHOW_OUTPUT] : [];
  void vscode.window.showInformationMessage(`NeuroCache: ${result.message}`, ...actions).then((choice) => {
    if (choice === FORCE) void runDownload(deps, out, true);
    if (choice === SHOW_OUTPUT) deps.log.show();
  });
  await vscode.window.showTextDocument(vscode.Uri.file(result.datasetInfo));
}
