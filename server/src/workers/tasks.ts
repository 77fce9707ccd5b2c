/**
 * The contract between the pool (main thread) and its workers: plain, structured-cloneable
 * task and result objects. Workers import only the engine.
 */
import type { NiftiSummary } from '../engine/arc/nifti';
import type { NpzSummary } from '../engine/eeg/npz';
import type { LoadFailure } from '../engine/eeg/numpyLoad';
import type { ByteSpan } from '../engine/io/source';

export type Task =
  /**
   * Inflates and counts an NPZ from the bytes the main thread fetched (`spans` of the file's
   * `size` bytes); the worker opens `path` only for bytes they miss (labels too large to hand over).
   */
  | { kind: 'npz'; path: string; size: number; spans: ByteSpan[] }
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
export type TaskResult<T> = ({ ok: true; value: T } | { ok: false; error: string; failure?: LoadFailure }) & {
  /** Bytes of the file this task read (0 when it worked on bytes handed to it). */
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
