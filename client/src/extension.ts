/**
 * VS Code adapter: starts the language server for seizure manifests and ARC dataset_info
 * files, shows its health in the status bar, forwards palette commands with the active file,
 * and keeps restricted-mode (untrusted) workspaces read-only.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from 'vscode-languageclient/node';
import {
  CommandResult, Commands, DEFAULT_SETTINGS, DownloadArcRequest, DownloadProgressNotification, InitializationOptions, StatusNotification,
} from '../../server/src/protocol';

let client: LanguageClient | undefined;

function documentSelector(): LanguageClientOptions['documentSelector'] {
  const extra = vscode.workspace.getConfiguration('neurocache').get<string[]>('extraGlobs', DEFAULT_SETTINGS.extraGlobs);
  return ['**/manifest.json', '**/dataset_info.json', ...extra].map((pattern) => ({ scheme: 'file', pattern }));
}

/** Commands that act on one file take the active editor's file when run from the palette. */
const FILE_COMMANDS: string[] = [Commands.rebuildManifest, Commands.dropMissingEntries, Commands.recomputeLesionVolumes, Commands.rewriteLegacyPaths];

function createClient(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): LanguageClient {
  const module = context.asAbsolutePath(path.join('out', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc },
  };
  const initializationOptions: InitializationOptions & { maxWorkers?: number } = {
    storageDirectory: context.globalStorageUri.fsPath,
    trusted: vscode.workspace.isTrusted,
    maxWorkers: vscode.workspace.getConfiguration('neurocache').get<number>('maxWorkers', 0),
    readsInFlight: vscode.workspace.getConfiguration('neurocache').get<number>('io.readsInFlight'),
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: documentSelector(),
    initializationOptions,
    outputChannel: output,
    synchronize: { configurationSection: 'neurocache' },
    middleware: {
      executeCommand: async (command, args, next) => {
        if (FILE_COMMANDS.includes(command) && args.length === 0) {
          const uri = vscode.window.activeTextEditor?.document.uri;
          if (!uri) {
            void vscode.window.showWarningMessage('Open a manifest.json or dataset_info.json first.');
            return undefined;
          }
          args = [uri.toString()];
        }
        const result = (await next(command, args)) as CommandResult | undefined;
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

function formatBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : `${(n / 1e6).toFixed(1)} MB`;
}

/** "Download ARC dataset": a cancellable notification forwarding its token to the server's download. */
async function downloadArc(): Promise<void> {
  if (!client) return;
  const out = await pickDownloadFolder();
  if (!out) return;
  const settings = vscode.workspace.getConfiguration('neurocache');
  const id = `${Date.now()}`;
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Downloading ARC dataset', cancellable: true },
    async (progress, token) => {
      let reported = 0;
      const listener = client!.onNotification(DownloadProgressNotification.method, (p: DownloadProgressNotification.Params) => {
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
          endpoint: settings.get<string>('hubEndpoint') || undefined,
          token: settings.get<string>('hubToken') || undefined,
          includeTse: settings.get<boolean>('download.includeTurboSpinEcho', false),
          requireMask: settings.get<boolean>('download.requireMask', true),
        };
        return await client!.sendRequest(DownloadArcRequest.method, params, token) as DownloadArcRequest.Result;
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
    client.onNotification(StatusNotification.method, (status: StatusNotification.Params) => showStatus(item, status));
    await client.start();
  };
  const restart = async () => {
    await client?.stop();
    await start();
  };
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand('neurocache.downloadArc', downloadArc),
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
