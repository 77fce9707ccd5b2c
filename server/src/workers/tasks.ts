/**
 * The contract between the pool (main thread) and its workers: plain, structured-cloneable
 * task and result objects. Workers import only the engine.
 */
import type { NiftiSummary } from '../engine/arc/nifti';
import type { NpzSummary } from '../engine/eeg/npz';
import type { LoadFailure } from '../engine/eeg/numpyLoad';

export type Task =
  | { kind: 'npz'; path: string }
  /** windows.shape[0] from its .npy header only (for _dataset_index.json). */
  | { kind: 'window-count'; path: string }
  | { kind: 'nifti'; path: string; countVoxels: boolean }
  /** Per-window label bins, for the seizure-trace pictures. */
  | { kind: 'label-trace'; path: string }
  /** PNG (base64) of the axial slice with the largest lesion area over the T2w image. */
  | { kind: 'lesion-picture'; path: string; image: string };

export interface LabelTrace {
  windows: number;
  bins: number;
  samplesPerBin: number;
  counts: number[];
}

/** A failed task: `error` is the message; NPZ tasks add what Python raises for the file (`failure`). */
export type TaskResult<T> = { ok: true; value: T; bytesRead: number } | { ok: false; error: string; failure?: LoadFailure; bytesRead: number };

export type NpzResult = TaskResult<NpzSummary>;
export type NiftiResult = TaskResult<NiftiSummary>;
