/**
 * Gathers facts about cache files for the engine: existence from stat, contents from the
 * worker pool, both remembered in the fingerprint store. Shared by the CLI and the server.
 */
import { promises as fs, Stats } from 'node:fs';
import type { PathFacts } from '../engine/arc/datasetInfo';
import type { CacheFileFacts } from '../engine/eeg/manifest';
import type { NiftiSummary } from '../engine/arc/nifti';
import type { NpzSummary } from '../engine/eeg/npz';
import type { LabelTrace, TaskResult } from '../workers/tasks';
import { WorkerPool } from '../workers/pool';
import { FingerprintStore } from './fingerprints';

export async function statOrUndefined(file: string): Promise<Stats | undefined> {
  try {
    return await fs.stat(file);
  } catch {
    return undefined;
  }
}

// Fingerprint kinds: a labels summary, and one that also holds windows.shape.
const NPZ = 'npz';
const NPZ_WITH_WINDOWS = 'npz-windows';

type Stored<T> = { ok: true; value: T } | { ok: false; error: string };

export class CacheInspector {
  constructor(
    readonly pool: WorkerPool,
    readonly store: FingerprintStore,
  ) {}

  /**
   * Existence, and with `readContent` the labels summary. `windowsShape` also reads windows'
   * `.npy` header (windows.shape[0] is what `_dataset_index.json` counts must match); without it
   * windows.shape is known only for files without labels, as the builder never needs it.
   */
  async npz(file: string, readContent: boolean, signal?: AbortSignal, options: { windowsShape?: boolean } = {}): Promise<CacheFileFacts> {
    const stat = await statOrUndefined(file);
    if (!stat) return { exists: false };
    if (!readContent) return { exists: true };
    // A summary that includes windows.shape answers the plain question too.
    const withWindows = this.store.get<Stored<NpzSummary>>(file, stat, NPZ_WITH_WINDOWS);
    const result =
      (!options.windowsShape && this.store.get<Stored<NpzSummary>>(file, stat, NPZ)) ||
      withWindows ||
      (await this.cached(file, stat, options.windowsShape ? NPZ_WITH_WINDOWS : NPZ, () =>
        this.pool.npz(file, signal, { size: stat.size, windowsShape: options.windowsShape }),
      ));
    return result.ok ? { exists: true, summary: result.value } : { exists: true, error: result.error };
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

  private async cached<T>(file: string, stat: Stats, kind: string, compute: () => Promise<TaskResult<T>>): Promise<Stored<T>> {
    const known = this.store.get<Stored<T>>(file, stat, kind);
    if (known) return known;
    const result = await compute();
    const stored: Stored<T> = result.ok ? { ok: true, value: result.value } : { ok: false, error: result.error };
    // A file that changed while we read it must not be remembered under the old key: compare
    // with its stamp after the last read (taken by the reader, or a stat now).
    const after = result.statAfter ?? (await statOrUndefined(file));
    if (after && after.size === stat.size && after.mtimeMs === stat.mtimeMs) this.store.set(file, stat, kind, stored);
    return stored;
  }
}

export type { NpzSummary };
