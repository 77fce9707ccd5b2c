/**
 * VS Code adapter: starts the language server for seizure manifests and ARC dataset_info
 * files, shows its health in the status bar (status.ts), logs to the NeuroCache output
 * channel (log.ts), forwards palette commands with the active file, runs the ARC download
 * (download.ts) with the Hub token from secret storage (token.ts), and keeps restricted-mode
 * (untrusted) workspaces read-only.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, State, TransportKind } from 'vscode-languageclient/node';
import {
  CHECKED_FILE_NAMES,
  ClientCommands,
  CommandResult,
  Commands,
  DEFAULT_MACHINE_SETTINGS,
  DEFAULT_SETTINGS,
  FileProblemsNotification,
  InitializationOptions,
  MachineSettings,
  StatusNotification,
  WRITING_COMMANDS,
} from '../../server/src/protocol';
import { downloadArc, openHubSettings } from './download';
import { ClientLog, logLevelSetting } from './log';
import { deepCheckWindows } from './deepCheck';
import { onNotification } from './rpc';
import { ServerStatus } from './status';
import { CacheFolders } from './cacheFolders';
import { FileBadges } from './fileBadges';
import { openDocs, previewCodeLinks } from './docsLinks';
import { HubToken } from './token';
import { NIFTI_VIEW_TYPE, NiftiEditorProvider } from './views/niftiEditor';
import { NPZ_VIEW_TYPE, NpzEditorProvider } from './views/npzEditor';

let client: LanguageClient | undefined;

function documentSelector(): LanguageClientOptions['documentSelector'] {
  const extra = vscode.workspace
    .getConfiguration('neurocache')
    .get<string[]>('extraGlobs', DEFAULT_SETTINGS.extraGlobs);
  return [...Object.values(CHECKED_FILE_NAMES).map((name) => `**/${name}`), ...extra].map((pattern) => ({
    scheme: 'file',
    pattern,
  }));
}

function createClient(context: vscode.ExtensionContext, log: ClientLog, cacheFolders: CacheFolders): LanguageClient {
  const module = context.asAbsolutePath(path.join('out', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc },
  };
  const initializationOptions: InitializationOptions = {
    storageDirectory: context.globalStorageUri.fsPath,
    trusted: vscode.workspace.isTrusted,
    maxWorkers: vscode.workspace
      .getConfiguration('neurocache')
      .get<MachineSettings['maxWorkers']>('maxWorkers', DEFAULT_MACHINE_SETTINGS.maxWorkers),
    logLevel: logLevelSetting(),
    readsInFlight: vscode.workspace
      .getConfiguration('neurocache.io')
      .get<number>('readsInFlight', DEFAULT_MACHINE_SETTINGS.io.readsInFlight),
    dataViews: true,
    fileCommands: true,
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: documentSelector(),
    initializationOptions,
    outputChannel: log.channel,
    synchronize: { configurationSection: 'neurocache' },
    middleware: {
      handleDiagnostics: (uri, diagnostics, next) => {
        previewCodeLinks(diagnostics);
        next(uri, diagnostics);
      },
      executeCommand: async (command, args, next) => {
        // The Explorer passes a Uri object; the server takes URIs as strings.
        args = args.map((a: unknown) => (a instanceof vscode.Uri ? a.toString() : a));
        // Rebuild from the palette with no manifest active: which folder, then build there.
        if (
          command === Commands.rebuildManifest &&
          args.length === 0 &&
          path.basename(vscode.window.activeTextEditor?.document.uri.fsPath ?? '') !== 'manifest.json'
        ) {
          const folder = await cacheFolders.pick();
          if (!folder) return undefined;
          command = Commands.buildManifestHere;
          args = [folder.toString()];
        }
        // Every writing command acts on one file: from the palette, the active editor's.
        if (WRITING_COMMANDS.has(command) && args.length === 0) {
          const uri = vscode.window.activeTextEditor?.document.uri;
          if (!uri) {
            void vscode.window.showWarningMessage('Open a manifest.json or dataset_info.json first.');
            return undefined;
          }
          args = [uri.toString()];
        }
        let result: CommandResult | undefined;
        try {
          result = await next(command, args);
        } catch (error) {
          log.error(`${command} failed: ${(error as Error).message}`);
          throw error;
        }
        // A failed command was shown as an error, and logged, by the server already.
        if (result?.ok === false) log.error(`${command} failed: ${result.message}`);
        else if (result?.message) {
          log.info(`${command}: ${result.message}`);
          const show = result.warning ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
          void show(`NeuroCache: ${result.message}`);
        }
        return result;
      },
    },
  };
  return new LanguageClient('neurocache', 'NeuroCache', serverOptions, clientOptions);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const log = new ClientLog(vscode.window.createOutputChannel('NeuroCache', { log: true }));
  const status = new ServerStatus();
  const badges = new FileBadges();
  const cacheFolders = new CacheFolders();
  const token = new HubToken(context.secrets, log);
  const remote = vscode.env.remoteName ? `, remote ${vscode.env.remoteName}` : '';
  log.info(
    `NeuroCache ${String(context.extension.packageJSON.version)} in ${vscode.env.appName} ${vscode.version}${remote}; log level ${logLevelSetting()}`,
  );

  // Set while this extension stops the server itself (a restart), so that is not reported as a failure.
  let stopping = false;
  const start = async () => {
    status.starting();
    badges.clear();
    const started = createClient(context, log, cacheFolders);
    client = started;
    started.onDidChangeState(({ newState }) => {
      if (client !== started) return;
      if (newState === State.Starting) status.starting();
      else if (newState === State.Running) status.running();
      else if (!stopping) status.stopped('see the output; "NeuroCache: Restart Server" starts it again');
    });
    onNotification(started, StatusNotification.type, (params) => {
      if (client === started) status.running(params);
    });
    onNotification(started, FileProblemsNotification.type, (params) => {
      if (client === started) badges.update(params);
    });
    try {
      await started.start();
    } catch (error) {
      log.error(`The language server did not start: ${(error as Error).message}`);
      status.stopped((error as Error).message);
    }
  };
  const restart = async (why: string) => {
    log.info(`Restarting the language server (${why})`);
    stopping = true;
    try {
      await client?.stop();
    } catch (error) {
      log.warn(`The language server did not stop cleanly: ${(error as Error).message}`);
    } finally {
      stopping = false;
    }
    await start();
  };
  const downloads = { client: () => client, log, token };
  context.subscriptions.push(
    log,
    log.channel,
    status,
    badges,
    cacheFolders,
    vscode.commands.registerCommand(ClientCommands.downloadArc, () => downloadArc(downloads, false)),
    vscode.commands.registerCommand(ClientCommands.forceDownloadArc, () => downloadArc(downloads, true)),
    vscode.commands.registerCommand(ClientCommands.setHubToken, () => token.prompt()),
    vscode.commands.registerCommand(ClientCommands.openHubSettings, openHubSettings),
    vscode.commands.registerCommand(ClientCommands.showOutput, () => log.show()),
    vscode.commands.registerCommand(ClientCommands.restartServer, () => restart('asked for')),
    vscode.commands.registerCommand(ClientCommands.deepCheckWindows, (uri?: vscode.Uri) =>
      deepCheckWindows(client, uri instanceof vscode.Uri ? uri : undefined),
    ),
    // The data views: the server reads (where the data is), the webviews only draw.
    vscode.window.registerCustomEditorProvider(
      NPZ_VIEW_TYPE,
      new NpzEditorProvider(context.extensionUri, () => client),
      { supportsMultipleEditorsPerDocument: true },
    ),
    vscode.window.registerCustomEditorProvider(
      NIFTI_VIEW_TYPE,
      new NiftiEditorProvider(context.extensionUri, () => client),
      { supportsMultipleEditorsPerDocument: true },
    ),
    // Code actions on findings about a data file: where it is, and what is in it (the NPZ view for a cache).
    vscode.commands.registerCommand(ClientCommands.revealFile, (uri: string) =>
      vscode.commands.executeCommand('revealInExplorer', vscode.Uri.parse(uri)),
    ),
    vscode.commands.registerCommand(ClientCommands.openFile, (uri: string) =>
      vscode.commands.executeCommand('vscode.open', vscode.Uri.parse(uri)),
    ),
    vscode.commands.registerCommand(ClientCommands.openDocs, (file: string, line: number) => openDocs(file, line)),
    vscode.commands.registerCommand(ClientCommands.viewSample, (uri: string) =>
      vscode.commands.executeCommand('vscode.openWith', vscode.Uri.parse(uri), NIFTI_VIEW_TYPE),
    ),
    // Trust granted: restart so the server may write; globs changed: the document selector changes.
    vscode.workspace.onDidGrantWorkspaceTrust(() => void restart('workspace trusted')),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (['extraGlobs', 'maxWorkers', 'io.readsInFlight'].some((key) => e.affectsConfiguration(`neurocache.${key}`)))
        void restart('settings changed');
      if (e.affectsConfiguration('neurocache.hubToken')) void token.moveOldSetting();
    }),
  );
  void token.moveOldSetting();
  await start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
