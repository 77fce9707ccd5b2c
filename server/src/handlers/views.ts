/**
 * The data views' requests (NPZ view, NIfTI viewer) and the "View sample" code lenses of a
 * dataset_info.json. Requests name files by `file:` URI; the answers come from service/views.ts.
 * References and pairs come from the checked documents, once the workspace scan and the checks
 * under way have finished (so a view opened at start-up still finds its manifest).
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CancellationToken, CodeLens, CodeLensParams } from 'vscode-languageserver/node';
import {
  ClientCommands,
  NiftiPairRequest,
  NpzViewRequest,
  NpzWindowRequest,
  SlicePictureRequest,
  VolumeBytesRequest,
} from '../protocol';
import { CheckedDocument, niftiPair, npzView, npzWindow, slicePicture, volumeBytes } from '../service/views';
import { currentAnalysis } from './diagnostics';
import type { ServerState } from './state';

/** Most "View sample" lenses per document (one per sample; a larger dataset gets the first ones). */
export const MAX_SAMPLE_LENSES = 5_000;

/** A file: URI's path, or an error the view shows (another scheme cannot be read where the server runs). */
function filePath(uri: unknown): string {
  if (typeof uri !== 'string' || !uri.startsWith('file:'))
    throw new Error(`not a file: URI: ${String(uri).slice(0, 200)}`);
  return fileURLToPath(uri);
}

/** Every checked document, after the scan and the checks under way (a check that keeps restarting is not waited for). */
async function checkedDocuments(state: ServerState): Promise<CheckedDocument[]> {
  await state.workspace.scan?.done;
  const running = [...state.documents.tracked.values()]
    .filter((t) => t.running && !t.running.signal.aborted)
    .map((t) => t.uri);
  await Promise.all(
    running.map(
      (uri) =>
        new Promise<void>((resolve) => {
          const onChecked = (checked: string) => {
            if (checked !== uri) return;
            state.documents.checks.off('checked', onChecked);
            resolve();
          };
          state.documents.checks.on('checked', onChecked);
          if (!state.documents.tracked.get(uri)?.running) onChecked(uri);
        }),
    ),
  );
  const documents: CheckedDocument[] = [];
  for (const t of state.documents.tracked.values()) {
    if (t.analysis && t.analysed)
      documents.push({ uri: t.uri, analysis: t.analysis, positionAt: (offset) => t.analysed!.positionAt(offset) });
  }
  return documents;
}

export async function npzViewRequest(
  state: ServerState,
  params: NpzViewRequest.Params,
): Promise<NpzViewRequest.Result> {
  return npzView(filePath(params.uri), state.inspector, await checkedDocuments(state));
}

export function npzWindowRequest(
  state: ServerState,
  params: NpzWindowRequest.Params,
): Promise<NpzWindowRequest.Result> {
  return npzWindow(filePath(params.uri), params.window, state.inspector);
}

export async function niftiPairRequest(
  state: ServerState,
  params: NiftiPairRequest.Params,
): Promise<NiftiPairRequest.Result> {
  return niftiPair(filePath(params.uri), await checkedDocuments(state));
}

export function volumeBytesRequest(params: VolumeBytesRequest.Params): Promise<VolumeBytesRequest.Result> {
  return volumeBytes(filePath(params.uri));
}

export function slicePictureRequest(
  state: ServerState,
  params: SlicePictureRequest.Params,
): Promise<SlicePictureRequest.Result> {
  return slicePicture(
    { image: filePath(params.image), mask: params.mask === undefined ? undefined : filePath(params.mask), z: params.z },
    state.inspector,
  );
}

/** "View sample" above each sample's image path of a checked dataset_info.json: opens image and mask together. */
export async function codeLenses(
  state: ServerState,
  params: CodeLensParams,
  token?: CancellationToken,
): Promise<CodeLens[]> {
  if (!state.client.dataViews) return [];
  const current = await currentAnalysis(state, params.textDocument.uri, token);
  if (!current || current.analysis.kind !== 'arc-dataset-info') return [];
  const { analysis, analysed } = current;
  const lenses: CodeLens[] = [];
  for (const sample of analysis.parsed.samples) {
    if (lenses.length >= MAX_SAMPLE_LENSES) break;
    const image = analysis.facts.images[sample.index]?.resolved;
    if (!sample.image || !image) continue;
    const mask = analysis.facts.masks[sample.index]?.resolved;
    const at = analysed.positionAt(sample.image.offset);
    lenses.push({
      range: { start: at, end: at },
      command: {
        title: mask ? 'View sample' : 'View sample (no mask)',
        command: ClientCommands.viewSample,
        arguments: [pathToUri(image)],
      },
    });
  }
  return lenses;
}

function pathToUri(file: string): string {
  return pathToFileURL(file).href;
}
