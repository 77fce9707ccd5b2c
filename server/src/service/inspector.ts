/**
 * Gathers facts about cache files for the engine: existence from stat, contents from the
 * worker pool, both remembered in the fingerprint store. Shared by the CLI and the server.
 */
import { promises as fs, Stats } from 'node:fs';
import * as path from 'node:path';
import { notRegularFile } from '../engine/io/fileType';
import type { PathFacts } from '../engine/arc/datasetInfo';
import type { CacheFileFacts } from '../engine/eeg/manifestCheck';
import type { NiftiSummary } from '../engine/arc/nifti';
import { NPZ_SUMMARY_KIND, NpzSummary } from '../engine/eeg/npz';
import type { LoadFailure } from '../engine/eeg/numpyLoad';
import type { DeepResult } from '../engine/eeg/deepChecks';
import { DEEP_WINDOWS_KIND, WindowValues } from '../engine/eeg/windowValues';
import type { LabelTrace, MaskPreprocessing, TaskResult } from '../workers/tasks';
import type { PreprocessingOutcome } from '../engine/arc/preprocessSample';
import type { ResampleMethod } from '../engine/arc/preprocessing';
import { WorkerPool } from '../workers/pool';
import { FingerprintStore } from './fingerprints';

export async function statOrUndefined(file: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(file);
  } catch {
    return undefined;
  }
}

/** Where a symbolic link that points at nothing points (stat failed but lstat did not), else undefined. */
export async function danglingTarget(file: string): Promise<string | undefined> {
  try {
    const target = await fs.readlink(file);
    return path.resolve(path.dirname(file), target) === target
      ? target
      : `${target} (${path.resolve(path.dirname(file), target)})`;
  } catch {
    return undefined;
  }
}

type Stored<T> = { ok: true; value: T } | { ok: false; error: string; failure?: LoadFailure };

export class CacheInspector {
  constructor(
    readonly pool: WorkerPool,
    readonly store: FingerprintStore,
  ) {}

  /** Existence, and with `readContent` the summary (labels counted; windows' shape from its header). */
  async npz(file: string, readContent: boolean, signal?: AbortSignal): Promise<CacheFileFacts> {
    const stat = await statOrUndefined(file);
    if (!stat) {
      const target = await danglingTarget(file);
      return target === undefined ? { exists: false } : { exists: false, error: `dangling symbolic link to ${target}` };
    }
    if (!readContent) return { exists: true };
    const result = await this.cached(file, stat, NPZ_SUMMARY_KIND, () =>
      this.pool.npz(file, signal, { size: stat.size }),
    );
    return result.ok
      ? { exists: true, summary: result.value }
      : { exists: true, error: result.error, failure: result.failure };
  }

  /** The deep check of an NPZ's `windows` (every value inflated), remembered by fingerprint: an unchanged file is never inflated again. */
  async deepWindows(file: string, signal?: AbortSignal): Promise<DeepResult | undefined> {
    const stat = await statOrUndefined(file);
    if (!stat) return undefined;
    const result = await this.cached<WindowValues>(file, stat, DEEP_WINDOWS_KIND, () =>
      this.pool.deepWindows(file, signal, { size: stat.size }),
    );
    return result.ok ? { ok: true, value: result.value } : { ok: false, error: result.error };
  }

  /** windows.shape[0] of an NPZ from its `.npy` header, remembered by fingerprint. */
  async windowCount(
    file: string,
    signal?: AbortSignal,
  ): Promise<{ exists: boolean; windows?: number; error?: string }> {
    const stat = await statOrUndefined(file);
    if (!stat) return { exists: false };
    const result = await this.cached(file, stat, 'window-count', () =>
      this.pool.windowCount(file, signal, { size: stat.size }),
    );
    return result.ok ? { exists: true, windows: result.value } : { exists: true, error: result.error };
  }

  /** Header facts for images, plus the positive-voxel count for masks. */
  async nifti(file: string, countVoxels: boolean, signal?: AbortSignal): Promise<Pick<PathFacts, 'nifti' | 'error'>> {
    const stat = await statOrUndefined(file);
    if (!stat) return { error: 'file vanished' };
    const result = await this.cached<NiftiSummary>(file, stat, countVoxels ? 'nifti-count' : 'nifti-header', () =>
      this.pool.nifti(file, countVoxels, signal),
    );
    return result.ok ? { nifti: result.value } : { error: result.error };
  }

  /**
   * A mask's header facts and count (as `nifti(mask, true)`) plus what preprocess_volume makes
   * of it with its image's header, from one pass over the mask; remembered by both files'
   * fingerprints, so an unchanged sample is answered without reading either.
   */
  async maskPreprocessing(
    mask: string,
    image: string,
    signal?: AbortSignal,
  ): Promise<Pick<PathFacts, 'nifti' | 'error'> & { preprocessing?: PreprocessingOutcome }> {
    const [stat, imageStat] = await Promise.all([statOrUndefined(mask), statOrUndefined(image)]);
    if (!stat) return { error: 'file vanished' };
    if (!imageStat) return this.nifti(mask, true, signal);
    const kind = `preprocessing:${image}:${imageStat.size}:${imageStat.mtimeMs}`;
    const result = await this.cached<MaskPreprocessing>(mask, stat, kind, () =>
      this.pool.maskPreprocessing(mask, image, signal),
    );
    if (!result.ok) return { error: result.error };
    return { nifti: result.value.mask, preprocessing: result.value.preprocessing };
  }

  /** Per-window label bins of an NPZ, remembered by fingerprint. */
  async labelTrace(file: string): Promise<LabelTrace | undefined> {
    const stat = await statOrUndefined(file);
    if (!stat) return undefined;
    const result = await this.cached<LabelTrace>(file, stat, 'label-trace', () => this.pool.labelTrace(file));
    return result.ok ? result.value : undefined;
  }

  /** Base64 PNG of a mask's largest-lesion slice over its image, remembered by both fingerprints. */
  async lesionPicture(mask: string, image: string): Promise<string | undefined> {
    const [stat, imageStat] = await Promise.all([statOrUndefined(mask), statOrUndefined(image)]);
    if (!stat || !imageStat) return undefined;
    const kind = `lesion-picture:${image}:${imageStat.size}:${imageStat.mtimeMs}`;
    const result = await this.cached<string>(mask, stat, kind, () => this.pool.lesionPicture(mask, image));
    return result.ok ? result.value : undefined;
  }

  /** Base64 PNG of the training grid's most-lesion slice for `method`, remembered by both fingerprints. */
  async trainingPicture(mask: string, image: string, method: ResampleMethod): Promise<string | undefined> {
    const [stat, imageStat] = await Promise.all([statOrUndefined(mask), statOrUndefined(image)]);
    if (!stat || !imageStat) return undefined;
    const kind = `training-picture:${method}:${image}:${imageStat.size}:${imageStat.mtimeMs}`;
    const result = await this.cached<string>(mask, stat, kind, () => this.pool.trainingPicture(mask, image, method));
    return result.ok ? result.value : undefined;
  }

  private async cached<T>(
    file: string,
    stat: Stats,
    kind: string,
    compute: () => Promise<TaskResult<T>>,
  ): Promise<Stored<T>> {
    // Never handed to a worker: a FIFO would block it forever, a device never end. (Python's
    // open() refuses a directory with IsADirectoryError, which the manifest builder catches.)
    if (!stat.isFile()) {
      const error = notRegularFile(stat);
      return {
        ok: false,
        error,
        failure: stat.isDirectory() ? { message: error, exception: 'IsADirectoryError' } : { message: error },
      };
    }
    const known = this.store.get<Stored<T>>(file, stat, kind);
    if (known) return known;
    const result = await compute();
    // A file that changed while we read it must not be remembered under the old key: compare
    // with its stamp after the last read (taken by the reader, or a stat now).
    const after = result.statAfter ?? (await statOrUndefined(file));
    const unchanged = !!after && after.size === stat.size && after.mtimeMs === stat.mtimeMs;
    if (!result.ok && !unchanged) {
      // Whatever failed read a file in motion (truncated, rewritten): say that, not what the half-read bytes suggest.
      const now = after ? `${after.size} bytes now` : 'gone now';
      const message = `it changed while NeuroCache read it (${stat.size} bytes when it was opened, ${now}; the read said: ${result.error})`;
      return { ok: false, error: message, failure: { message, changedWhileRead: true } };
    }
    const stored: Stored<T> = result.ok
      ? { ok: true, value: result.value }
      : { ok: false, error: result.error, failure: result.failure };
    if (unchanged) this.store.set(file, stat, kind, stored);
    return stored;
  }
}

export type { NpzSummary };
