/**
 * VS Code adapter: starts the language server (out/server.js) for seizure manifests and ARC
 * dataset_info files, and hands it a storage folder for fingerprints outside the workspace.
 */
import * as path from 'node:path';
import type { ExtensionContext } from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from 'vscode-languageclient/node';

let client: LanguageClient | undefined;

export async function activate(context: ExtensionContext): Promise<void> {
  const module = context.asAbsolutePath(path.join('out', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module, transport: TransportKind.ipc },
    debug: { module, transport: TransportKind.ipc },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', pattern: '**/manifest.json' },
      { scheme: 'file', pattern: '**/dataset_info.json' },
    ],
    initializationOptions: { storageDirectory: context.globalStorageUri.fsPath },
  };
  client = new LanguageClient('neurocache', 'NeuroCache', serverOptions, clientOptions);
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
