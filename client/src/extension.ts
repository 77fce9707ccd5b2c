/**
 * VS Code adapter: starts the language server for seizure manifests and ARC dataset_info
 * files, shows its health in the status bar, forwards palette commands with the active file,
 * and keeps restricted-mode (untrusted) workspaces read-only.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CancellationToken, Disposable, LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from 'vscode-languageclient/node';
import { formatBytes } from '../../server/src/engine/units';
import {
  ClientCommands, CommandResult, Commands, DEFAULT_MACHINE_SETTINGS, DEFAULT_SETTINGS, DownloadArcRequest, DownloadProgressNotification, InitializationOptions,
  MachineSettings, NotificationType, RequestType, StatusNotification, WRITING_COMMANDS,
} from '../../server/src/protocol';

let client: LanguageClient | undefined;

// The protocol's typed messages, bound to this client's connection.
function sendRequest<P, R>(to: LanguageClient, type: RequestType<P, R>, params: P, token?: CancellationToken): Promise<R> {
  return to.sendRequest<R>(type.method, params, token);
}

function onNotification<P>(from: LanguageClient, type: NotificationType<P>, handler: (params: P) => void): Disposable {
  return from.onNotification(type.method, handler);
}

/** A machine setting under `neurocache.`, with the protocol's default. */
function machineSetting<K extends keyof MachineSettings>(key: K): MachineSettings[K] {
  return vscode.workspace.getConfiguration('neurocache').get<MachineSettings[K]>(key, DEFAULT_MACHINE_SETTINGS[key]);
}

function downloadSetting<K extends keyof MachineSettings['download']>(key: K): MachineSettings['download'][K] {
  return vscode.workspace.getConfiguration('neurocache.download').get<MachineSettings['download'][K]>(key, DEFAULT_MACHINE_SETTINGS.download[key]);
}

function documentSelector(): LanguageClientOptions['documentSelector'] {
  const extra = vscode.workspace.getConfiguration('neurocache').get<string[]>('extraGlobs', DEFAULT_SETTINGS.extraGlobs);
  return ['**/manifest.json', '**/_dataset_index.json', '**/dataset_info.json', ...extra].map((pattern) => ({ scheme: 'file', pattern }));
}

function createClient(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): LanguageClient {
  const module = context.asAbsolutePath(path.join('out', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc },
  };
  const initializationOptions: InitializationOptions = {
    storageDirectory: context.globalStorageUri.fsPath,
    trusted: vscode.workspace.isTrusted,
    maxWorkers: machineSetting('maxWorkers'),
    readsInFlight: vscode.workspace.getConfiguration('neurocache.io').get<number>('readsInFlight', DEFAULT_MACHINE_SETTINGS.io.readsInFlight),
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: documentSelector(),
    initializationOptions,
    outputChannel: output,
    synchronize: { configurationSection: 'neurocache' },
    middleware: {
      executeCommand: async (command, args, next) => {
        // Every writing command acts on one file: from the palette, the active editor's.
        if (WRITING_COMMANDS.has(command) && args.length === 0) {
          const uri = vscode.window.activeTextEditor?.document.uri;
          if (!uri) {
            void vscode.window.showWarningMessage('Open a manifest.json or dataset_info.json first.');
            return undefined;
          }
          args = [uri.toString()];
        }
        const result: CommandResult | undefined = await next(command, args);
        if (result?.message && !result.message.startsWith('NeuroCache:')) void vscode.window.showInformationMessage(`NeuroCache: ${result.message}`);
        return result;
      },
    },
  };
  return new LanguageClient('neurocache', 'NeuroCache', serverOptions, clientOptions);
}

function statusBar(context: vscode.ExtensionContext): vscode.StatusBarItem {
  const item = vscode.window.createStatusBarItem('neurocache.status', vscode.StatusBarAlignment.Left, 10);
  item.name = 'NeuroCache';
  item.text = '$(database) NeuroCache';
  item.tooltip = 'NeuroCache: starting…';
  item.command = Commands.checkWorkspace;
  item.show();
  context.subscriptions.push(item);
  return item;
}

function showStatus(item: vscode.StatusBarItem, status: StatusNotification.Params): void {
  const icon = status.pending ? '$(sync~spin)' : status.errors ? '$(error)' : status.warnings ? '$(warning)' : '$(database)';
  const counts = status.pending ? ` ${status.pending}` : status.errors ? ` ${status.errors}` : status.warnings ? ` ${status.warnings}` : '';
  item.text = `${icon} NeuroCache${counts}`;
  item.tooltip = `NeuroCache: ${status.message}${vscode.workspace.isTrusted ? '' : ' (restricted mode: read-only)'}\nClick to check the workspace.`;
  item.backgroundColor = status.errors ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
}

/** Asks where to put the dataset: data/arc in the workspace by default, or any folder. */
async function pickDownloadFolder(): Promise<vscode.Uri | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const fallback = folder ? vscode.Uri.joinPath(folder, 'data', 'arc') : undefined;
  const choices: (vscode.QuickPickItem & { uri?: vscode.Uri })[] = [
    ...(fallback ? [{ label: '$(folder) data/arc', description: fallback.fsPath, uri: fallback }] : []),
    { label: '$(folder-opened) Choose another folder…' },
  ];
  const choice = await vscode.window.showQuickPick(choices, { title: 'Download ARC dataset into', placeHolder: 'Where should dataset_info.json and cache/nifti_cache/ go?' });
  if (!choice) return undefined;
  if (choice.uri) return choice.uri;
  const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, defaultUri: folder, openLabel: 'Download here' });
  return picked?.[0];
}

/** "Download ARC dataset": a cancellable notification forwarding its token to the server's download. */
async function downloadArc(): Promise<void> {
  if (!client) return;
  const out = await pickDownloadFolder();
  if (!out) return;
  const id = `${Date.now()}`;
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Downloading ARC dataset', cancellable: true },
    async (progress, token) => {
      let reported = 0;
      const listener = onNotification(client!, DownloadProgressNotification.type, (p) => {
        if (p.id !== id) return;
        const percent = 100 * p.fraction;
        const eta = p.etaSeconds === undefined ? '' : `, ETA ${Math.ceil(p.etaSeconds)} s`;
        progress.report({ increment: percent - reported, message: `${p.shardsDone}/${p.shards} shards, ${p.sessionsWritten} sessions, ${formatBytes(p.bytes)} at ${formatBytes(p.bytesPerSecond)}/s${eta}` });
        reported = percent;
      });
      try {
        const params: DownloadArcRequest.Params = {
          id,
          out: out.fsPath,
          endpoint: machineSetting('hubEndpoint') || undefined,
          token: machineSetting('hubToken') || undefined,
          includeTse: downloadSetting('includeTurboSpinEcho'),
          requireMask: downloadSetting('requireMask'),
          parallel: downloadSetting('parallel'),
        };
        return await sendRequest(client!, DownloadArcRequest.type, params, token);
      } catch (error) {
        if (!token.isCancellationRequested) void vscode.window.showErrorMessage((error as Error).message);
        else void vscode.window.showInformationMessage('ARC download cancelled; run it again to resume.');
        return undefined;
      } finally {
        listener.dispose();
      }
    },
  );
  if (!result) return;
  void vscode.window.showInformationMessage(`NeuroCache: ${result.message}`);
  await vscode.window.showTextDocument(vscode.Uri.file(result.datasetInfo));
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('NeuroCache', { log: true });
  const item = statusBar(context);
  const start = async () => {
    client = createClient(context, output);
    onNotification(client, StatusNotification.type, (status) => showStatus(item, status));
    await client.start();
  };
  const restart = async () => {
    await client?.stop();
    await start();
  };
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand(ClientCommands.downloadArc, downloadArc),
    // Trust granted: restart so the server may write; globs changed: the document selector changes.
    vscode.workspace.onDidGrantWorkspaceTrust(() => void restart()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (['extraGlobs', 'maxWorkers', 'io.readsInFlight'].some((key) => e.affectsConfiguration(`neurocache.${key}`))) void restart();
    }),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
