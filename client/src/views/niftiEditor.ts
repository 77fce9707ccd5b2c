/**
 * The NIfTI viewer: a read-only custom editor for `.nii` / `.nii.gz` built on NiiVue (in the
 * webview bundle only). The language server finds the lesion mask (the dataset_info.json
 * sample, or a sibling file) and reads the bytes; the extension host passes them on. Without
 * WebGL2 the webview asks for the server's slice pictures instead.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { NiftiPairRequest, SlicePictureRequest, VolumeBytesRequest } from '../../../server/src/protocol';
import { sendRequest } from '../rpc';
import type { NiftiViewAsk, NiftiViewTell, TrainingGridInfo } from './messages';
import { webviewHtml, webviewOptions } from './webviewHtml';

export const NIFTI_VIEW_TYPE = 'neurocache.niftiViewer';

// The training grid needs arc-meshchop's preprocessing model (issue 18), which is not in this build.
const TRAINING_GRID: TrainingGridInfo = {
  available: false,
  message:
    'Training grid: not available yet (the arc-meshchop preprocessing model is not part of this NeuroCache build)',
};

export class NiftiEditorProvider implements vscode.CustomReadonlyEditorProvider {
  constructor(
    private readonly extension: vscode.Uri,
    private readonly client: () => LanguageClient | undefined,
  ) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    const { webview } = panel;
    webview.options = webviewOptions(this.extension);
    webview.html = webviewHtml(webview, this.extension, 'nifti', path.posix.basename(document.uri.path));
    const tell = (message: NiftiViewTell) => void webview.postMessage(message);
    let pair: NiftiPairRequest.Result | undefined;
    const subscription = webview.onDidReceiveMessage(async (message: NiftiViewAsk) => {
      const client = this.client();
      try {
        if (!client)
          throw new Error('the NeuroCache language server is not running ("NeuroCache: Restart Server" starts it)');
        if (document.uri.scheme !== 'file')
          throw new Error(
            `${document.uri.scheme}: files cannot be read by the language server; open the file from the workspace`,
          );
        if (message.type === 'ready') {
          pair = await sendRequest(client, NiftiPairRequest.type, { uri: document.uri.toString() });
          tell({ type: 'pair', pair, grid: TRAINING_GRID });
          if (pair.error) return;
          if (message.webgl2) await this.sendVolumes(client, pair, tell);
          else await this.sendSlice(client, pair, undefined, tell);
        } else if ((message.type === 'slice' || message.type === 'fallback') && pair) {
          await this.sendSlice(client, pair, message.type === 'slice' ? message.z : undefined, tell);
        }
      } catch (error) {
        tell({ type: 'failed', message: (error as Error).message });
      }
    });
    panel.onDidDispose(() => subscription.dispose());
  }

  private async sendVolumes(
    client: LanguageClient,
    pair: NiftiPairRequest.Result,
    tell: (m: NiftiViewTell) => void,
  ): Promise<void> {
    const errors: string[] = [];
    const load = async (volume: NiftiPairRequest.Result['image']) => {
      if (!volume) return undefined;
      const bytes = await sendRequest(client, VolumeBytesRequest.type, { uri: volume.uri });
      if (bytes.ok) return new Uint8Array(Buffer.from(bytes.base64, 'base64'));
      errors.push(`${volume.name}: ${bytes.error}`);
      return undefined;
    };
    const [image, mask] = await Promise.all([load(pair.image), load(pair.mask)]);
    tell({ type: 'volumes', image, mask, errors });
  }

  private async sendSlice(
    client: LanguageClient,
    pair: NiftiPairRequest.Result,
    z: number | undefined,
    tell: (m: NiftiViewTell) => void,
  ): Promise<void> {
    const image = pair.image ?? pair.mask;
    if (!image) return;
    const picture = await sendRequest(client, SlicePictureRequest.type, {
      image: image.uri,
      mask: pair.image ? pair.mask?.uri : undefined,
      z,
    });
    tell({ type: 'slice', picture });
  }
}
