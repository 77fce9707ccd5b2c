/**
 * The contract between the pool (main thread) and its workers: plain, structured-cloneable
 * task and result objects. Workers import only the engine.
 */
import type { NiftiSummary } from '../engine/arc/nifti';
import type { PreprocessingOutcome } from '../engine/arc/preprocessSample';
import type { ResampleMethod } from '../engine/arc/preprocessing';
import type { NpzSummary } from '../engine/eeg/npz';
import type { LoadFailure } from '../engine/eeg/numpyLoad';
import type { ByteSpan } from '../engine/io/source';
import type { MessagePort } from 'node:worker_threads';
import type { WindowValues } from '../engine/eeg/windowValues';

export type Task =
  /**
   * Inflates and counts an NPZ from the bytes the main thread fetched (`spans` of the file's
   * `size` bytes); the worker opens `path` only for bytes they miss (labels too large to hand over).
   */
  | { kind: 'npz'; path: string; size: number; spans: ByteSpan[] }
  /**
   * Counts an NPZ on a local file system, opening and reading it where the task runs (the pool's
   * `localReads`); `size` from a stat just made, when there was one.
   */
  | { kind: 'npz-local'; path: string; size?: number }
  | { kind: 'nifti'; path: string; countVoxels: boolean }
  /** Per-window label bins, for the seizure-trace pictures. */
  | { kind: 'label-trace'; path: string }
  /**
   * The deep check of one file's `windows` member (ZIP method 0 or 8): once the task runs on a
   * thread it says so on `port`; the main thread then opens the file, sends the member's
   * facts and its compressed bytes in chunks, read within the byte budget; the worker answers
   * each chunk with how many bytes it has consumed (the budget's release). A task still queued
   * for a thread holds no budget, so running ones can always go on.
   */
  | { kind: 'deep-windows'; path: string; port: MessagePort }
  /** PNG (base64) of the axial slice with the largest lesion area over the T2w image. */
  | { kind: 'lesion-picture'; path: string; image: string }
  /** PNG (base64) of axial slice `z` of an image (`path`) with its mask over it; z absent: the largest lesion slice (or the middle). */
  | { kind: 'slice-picture'; path: string; mask?: string; z?: number }
  /** One window of an NPZ's `windows` (and `labels`), inflated only up to it: the NPZ view's trace. */
  | { kind: 'npz-window'; path: string; window: number }
  /** The members of an NPZ with their `.npy` headers, for the NPZ view. */
  | { kind: 'npz-members'; path: string }
  /** A mask's voxel count and what preprocess_volume makes of it, from its image's header (preprocessSample.ts). */
  | { kind: 'preprocessing'; path: string; image: string }
  /** PNG (base64) of the 256³ training grid's slice with the most lesion voxels (preprocessed mask over the image). */
  | { kind: 'training-picture'; path: string; image: string; method: ResampleMethod };

export interface SlicePicture {
  png: string;
  z: number;
  /** Axial slices in the volume. */
  depth: number;
  width: number;
  height: number;
}

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
  /** The file's size and mtime when the reader opened it, when it had no stat from the caller (the key to remember the result by). */
  statBefore?: FileStamp;
};

export interface FileStamp {
  size: number;
  mtimeMs: number;
}

/** A mask's summary (with its count) and the preprocessing facts, or why they cannot be computed. */
export interface MaskPreprocessing {
  mask: NiftiSummary;
  preprocessing: PreprocessingOutcome;
}

export type NpzResult = TaskResult<NpzSummary>;
export type NiftiResult = TaskResult<NiftiSummary>;

/** The `windows` member as the ZIP directory describes it. */
export interface DeepMember {
  method: number;
  uncompressedSize: number;
  crc32: number;
}

/** Messages on a deep-windows task's port. Main → worker: the member, its chunks, then the end (alone: nothing to check). */
export type DeepChunkMessage = { member: DeepMember } | { chunk: Uint8Array } | { end: true };
/** Worker → main: the task is running; bytes of a chunk consumed. */
export type DeepWorkerMessage = { started: true } | DeepConsumedMessage;
export interface DeepConsumedMessage {
  consumed: number;
}

/** A deep-windows task's value: the findings, and what it cost the worker (counted, for tests and benchmarks). */
export interface DeepWindowsValue {
  values: WindowValues;
  /** Bytes of `.npy` stream inflated (the member's uncompressed bytes). */
  inflatedBytes: number;
  /** Most compressed bytes the worker held at once (received, not yet consumed). */
  peakHeldBytes: number;
  /** Largest inflated chunk the worker held (it holds one at a time, never the member). */
  largestOutputBytes: number;
  time: DeepWorkerTime;
}

/**
 * Where a deep-windows task's time went, from its first chunk to its end (ms), for the
 * benchmark (nothing decides on it): inflating (zlib, with its hand-offs through libuv's
 * thread pool: the whole time but the waits for the reader), and within it, on the worker's own
 * thread while zlib inflates the next chunk, the value scan and the CRC.
 */
export interface DeepWorkerTime {
  inflateMs: number;
  checkMs: number;
  crcMs: number;
  /** Waiting for the reader: zlib had consumed every chunk it was given. */
  starvedMs: number;
}
