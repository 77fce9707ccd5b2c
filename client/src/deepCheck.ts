/**
 * "Deep-check cache windows": a cancellable notification around the server's deep check of the
 * active manifest (or the one the command was given), showing files done of all; it ends with
 * what was found (the problems list the windows).
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { DeepCheckProgressNotification, DeepCheckRequest } from '../../server/src/protocol';
import { onNotification, sendRequest } from './rpc';

export async function deepCheckWindows(client: LanguageClient | undefined, target?: vscode.Uri): Promise<void> {
  const uri = target ?? vscode.window.activeTextEditor?.document.uri;
  if (!client)
    return void vscode.window.showErrorMessage(
      'NeuroCache: the language server is not running; run "NeuroCache: Restart Server" first.',
    );
  if (!uri)
    return void vscode.window.showErrorMessage('NeuroCache: open a manifest.json to deep-check its cache windows.');
  const id = `${Date.now()}`;
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Deep-checking cache windows', cancellable: true },
    async (progress, cancel) => {
      let reported = 0;
      const listener = onNotification(client, DeepCheckProgressNotification.type, (p) => {
        if (p.id !== id || p.total === 0) return;
        const percent = (100 * p.done) / p.total;
        progress.report({ increment: percent - reported, message: `${p.done}/${p.total} cache files` });
        reported = percent;
      });
      try {
        return { result: await sendRequest(client, DeepCheckRequest.type, { id, uri: uri.toString() }, cancel) };
      } catch (error) {
        return cancel.isCancellationRequested ? { cancelled: true as const } : { failure: (error as Error).message };
      } finally {
        listener.dispose();
      }
    },
  );
  if ('cancelled' in outcome)
    void vscode.window.showInformationMessage(
      'NeuroCache: deep check cancelled; files already checked are remembered.',
    );
  else if ('failure' in outcome) void vscode.window.showErrorMessage(`NeuroCache: ${outcome.failure}`);
  else if (outcome.result.nonFiniteWindows || outcome.result.unclippedWindows)
    void vscode.window.showWarningMessage(`NeuroCache: ${outcome.result.message}`);
  else void vscode.window.showInformationMessage(`NeuroCache: ${outcome.result.message}`);
}
