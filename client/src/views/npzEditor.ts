/**
 * The NPZ view: a read-only custom editor, the default for `*_windows.npz` ("Open With…" →
 * the binary editor still works). The language server reads the file, where the data is; the
 * webview gets the results by postMessage and asks only for "window N" or "reference K".
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { NpzViewRequest, NpzWindowRequest } from '../../../server/src/protocol';
import { sendRequest } from '../rpc';
import type { NpzViewAsk, NpzViewTell } from './messages';
import { webviewHtml, webviewOptions, serverFor } from './webviewHtml';

export const NPZ_VIEW_TYPE = 'neurocache.npzView';

export class NpzEditorProvider implements vscode.CustomReadonlyEditorProvider {
  constructor(
    private readonly extension: vscode.Uri,
    private readonly client: () => LanguageClient | undefined,
  ) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    const { webview } = panel;
    const name = path.posix.basename(document.uri.path);
    webview.options = webviewOptions(this.extension);
    webview.html = webviewHtml(webview, this.extension, 'npz', name);
    const tell = (message: NpzViewTell) => void webview.postMessage(message);
    let view: NpzViewRequest.Result | undefined;
    const subscription = webview.onDidReceiveMessage(async (message: NpzViewAsk) => {
      try {
        const client = serverFor(this.client(), document.uri);
        if (message.type === 'ready') {
          view = await sendRequest(client, NpzViewRequest.type, { uri: document.uri.toString() });
          tell({ type: 'view', name, view });
        } else if (message.type === 'window' && Number.isInteger(message.window)) {
          const trace = await sendRequest(client, NpzWindowRequest.type, {
            uri: document.uri.toString(),
            window: message.window,
          });
          tell({ type: 'window', window: message.window, trace });
        } else if (message.type === 'openReference') {
          const reference = view?.references[message.index];
          if (!reference) return;
          const { start, end } = reference.range;
          const selection = new vscode.Range(start.line, start.character, end.line, end.character);
          await vscode.window.showTextDocument(vscode.Uri.parse(reference.uri), {
            selection,
            viewColumn: vscode.ViewColumn.Active,
          });
        }
      } catch (error) {
        tell({ type: 'failed', message: (error as Error).message });
      }
    });
    panel.onDidDispose(() => subscription.dispose());
  }
}
