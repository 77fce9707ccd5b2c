/**
 * Messages between the data views and their webviews (postMessage). Webviews name nothing on
 * disk: they ask for "the view", "window 3" or "reference 2" and the extension host decides
 * which file that is. Types only: the webview bundles import them too.
 */
import type {
  NiftiPairRequest,
  NpzViewRequest,
  NpzWindowRequest,
  SlicePictureRequest,
} from '../../../server/src/protocol';

/** webview → extension host, NPZ view. */
export type NpzViewAsk =
  { type: 'ready' } | { type: 'window'; window: number } | { type: 'openReference'; index: number };

/** extension host → webview, NPZ view. */
export type NpzViewTell =
  | { type: 'view'; name: string; view: NpzViewRequest.Result }
  | { type: 'window'; trace: NpzWindowRequest.Result; window: number }
  | { type: 'failed'; message: string };

/** webview → extension host, NIfTI viewer. `webgl2`: whether the webview can render with WebGL2. */
export type NiftiViewAsk =
  { type: 'ready'; webgl2: boolean } | { type: 'slice'; z?: number } | { type: 'fallback'; reason: string };

/** What the viewer knows of the training grid: the preprocessing model, when it is there. */
export interface TrainingGridInfo {
  available: boolean;
  message: string;
}

/** extension host → webview, NIfTI viewer. */
export type NiftiViewTell =
  | { type: 'pair'; pair: NiftiPairRequest.Result; grid: TrainingGridInfo }
  | { type: 'volumes'; image?: Uint8Array; mask?: Uint8Array; errors: string[] }
  | { type: 'slice'; picture: SlicePictureRequest.Result }
  | { type: 'failed'; message: string };
