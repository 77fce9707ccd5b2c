/**
 * The contract between the pool (main thread) and its workers: plain, structured-cloneable
 * task and result objects. Workers import only the engine.
 */
import type { NiftiSummary } from '../engine/arc/nifti';
import type { NpzParts, NpzSummary } from '../engine/eeg/npz';

export type Task =
  /** Inflates and counts what the main thread read (`parts`); streams labels from `path` when they were too large to hand over. */
  | { kind: 'npz'; path: string; parts: NpzParts }
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

export type TaskResult<T> = ({ ok: true; value: T } | { ok: false; error: string }) & {
  bytesRead: number;
  /** The open file's size and mtime after its last read, when the reader took them (saves a stat). */
  statAfter?: FileStamp;
};

export interface FileStamp {
  size: number;
  mtimeMs: number;
}

export type NpzResult = TaskResult<NpzSummary>;
export type NiftiResult = TaskResult<NiftiSummary>;
