/**
 * The NIfTI viewer: a read-only custom editor for `.nii` / `.nii.gz` built on NiiVue (in the
 * webview bundle only). The language server finds the lesion mask (the dataset_info.json
 * sample, or a sibling file) and reads the bytes; the extension host passes them on. Without
 * WebGL2 the webview asks for the server's slice pictures instead.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  NiftiPairRequest,
  SlicePictureRequest,
  TrainingGridRequest,
  VolumeBytesRequest,
} from '../../../server/src/protocol';
import { sendRequest } from '../rpc';
import type { NiftiViewAsk, NiftiViewTell, TrainingGridInfo } from './messages';
import { webviewHtml, webviewOptions, serverFor } from './webviewHtml';

export const NIFTI_VIEW_TYPE = 'neurocache.niftiViewer';

/** The toggle's state: the training grid needs the image and its lesion mask. */
function trainingGridInfo(pair: NiftiPairRequest.Result): TrainingGridInfo {
  return pair.image && pair.mask
    ? { available: true, message: 'Training grid: what the network is fed (256³, 1 mm, preprocess_volume)' }
    : { available: false, message: 'Training grid: needs the T2w image with its lesion mask' };
}

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
      try {
        const client = serverFor(this.client(), document.uri);
        if (message.type === 'ready') {
          pair = await sendRequest(client, NiftiPairRequest.type, { uri: document.uri.toString() });
          tell({ type: 'pair', pair, grid: trainingGridInfo(pair) });
          if (pair.error) return;
          if (message.webgl2) await this.sendVolumes(client, pair, tell);
          else await this.sendSlice(client, pair, undefined, tell);
        } else if ((message.type === 'slice' || message.type === 'fallback') && pair) {
          await this.sendSlice(client, pair, message.type === 'slice' ? message.z : undefined, tell);
        } else if (message.type === 'grid' && pair?.image && pair.mask) {
          const grid = await sendRequest(client, TrainingGridRequest.type, {
            image: pair.image.uri,
            mask: pair.mask.uri,
          });
          tell({ type: 'grid', grid });
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
