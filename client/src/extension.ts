/**
 * VS Code adapter: starts the language server for seizure manifests and ARC dataset_info
 * files, shows its health in the status bar, forwards palette commands with the active file,
 * and keeps restricted-mode (untrusted) workspaces read-only.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from 'vscode-languageclient/node';
import { CommandResult, Commands, DEFAULT_SETTINGS, InitializationOptions, StatusNotification } from '../../server/src/protocol';

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
    // Trust granted: restart so the server may write; globs changed: the document selector changes.
    vscode.workspace.onDidGrantWorkspaceTrust(() => void restart()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('neurocache.extraGlobs') || e.affectsConfiguration('neurocache.maxWorkers')) void restart();
    }),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
