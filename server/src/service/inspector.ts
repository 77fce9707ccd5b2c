/**
 * Gathers facts about cache files for the engine: existence from stat, contents from the
 * worker pool, both remembered in the fingerprint store. Shared by the CLI and the server.
 */
import { promises as fs, Stats } from 'node:fs';
import * as path from 'node:path';
import type { PathFacts } from '../engine/arc/datasetInfo';
import type { CacheFileFacts } from '../engine/eeg/manifestCheck';
import type { NiftiSummary } from '../engine/arc/nifti';
import { NPZ_SUMMARY_KIND, NpzSummary } from '../engine/eeg/npz';
import { LoadFailure, notRegularFailure } from '../engine/eeg/numpyLoad';
import type { DeepResult } from '../engine/eeg/deepChecks';
import { DEEP_WINDOWS_KIND, WindowValues } from '../engine/eeg/windowValues';
import type { FileStamp, LabelTrace, MaskPreprocessing, TaskResult } from '../workers/tasks';
import type { PreprocessingOutcome } from '../engine/arc/preprocessSample';
import type { ResampleMethod } from '../engine/arc/preprocessing';
import { WorkerPool } from '../workers/pool';
import { FingerprintStore } from './fingerprints';
import { listAndStatNpz, ListedStats, listNpz } from './npzListing';

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
  /**
   * `ready`: the store's load, still under way; awaited before the store is first asked, so the
   * caller's first reads (the document, the folder's stats) overlap the load.
   */
  constructor(
    readonly pool: WorkerPool,
    readonly store: FingerprintStore,
    private readonly ready: Promise<void> = Promise.resolve(),
  ) {}

  /** Each regular file's size and mtime when a check last stat-ed or opened it. */
  private readonly seen = new Map<string, FileStamp>();

  /**
   * What the store holds of `kind` for `file` as the last check saw it, found without a stat.
   * Hover pictures come from here first: they then show the files as the hover's text (the last
   * check's facts) describes them, and answer at once where a stat is a round trip (network
   * storage; even a local disk whose inodes were evicted: stats of 6–23 ms made most of the
   * slowest typing hovers of the bench). A file changed since is re-stat-ed by its re-check, and
   * the new stamp finds nothing here until the picture is made again.
   */
  private async fromLastSeen<T>(file: string, kind: string): Promise<Stored<T> | undefined> {
    const stamp = this.seen.get(file);
    if (!stamp) return undefined;
    await this.ready;
    return this.store.get<Stored<T>>(file, stamp, kind);
  }

  private saw(file: string, { size, mtimeMs }: FileStamp): void {
    this.seen.set(file, { size, mtimeMs });
  }

  /** A stat now (or the one `pending`), its stamp remembered as the last seen: forgotten when the file is gone or not regular. */
  private async statNow(file: string, pending?: Promise<Stats | undefined>): Promise<Stats | undefined> {
    const stat = await (pending ?? statOrUndefined(file));
    if (stat?.isFile()) this.saw(file, stat);
    else this.seen.delete(file);
    return stat;
  }

  /**
   * Existence, and with `readContent` the summary (labels counted; windows' shape from its header).
   * A file the store has never seen is opened straight away (a read is certain: the open with a
   * stat alongside, the reads, an fstat on the handle), not stat-ed first (on network storage a
   * path stat is a lookup and a getattr, one more dependent round trip per file). A file the
   * store knows is stat-ed first: an unchanged one is then answered without opening it.
   */
  async npz(file: string, readContent: boolean, signal?: AbortSignal): Promise<CacheFileFacts> {
    await this.ready;
    if (readContent && !this.store.knows(file, NPZ_SUMMARY_KIND)) {
      const opened = await this.npzOpenFirst(file, signal);
      if (opened) return opened;
    }
    const stat = await this.statNow(file, this.prefetched(file));
    if (!stat) {
      const target = await danglingTarget(file);
      return target === undefined ? { exists: false } : { exists: false, error: `dangling symbolic link to ${target}` };
    }
    if (!readContent) return { exists: true };
    const result = await this.cached(file, stat, NPZ_SUMMARY_KIND, () =>
      this.pool.npz(file, signal, { size: stat.size }),
    );
    return npzFacts(result);
  }

  /**
   * The summary read without a stat before: the stat alongside the open gives the stamp.
   * Undefined when the file could not be opened as a regular file (missing, a dangling link, a
   * directory, a FIFO, no permission): the stat-first path then says which, as it always has.
   */
  private async npzOpenFirst(file: string, signal?: AbortSignal): Promise<CacheFileFacts | undefined> {
    const result = await this.pool.npz(file, signal);
    if (!result.statBefore) return undefined; // not opened (or shared with a stat-first read): ask the path
    this.saw(file, result.statBefore);
    return npzFacts(await this.remember(file, result.statBefore, NPZ_SUMMARY_KIND, result));
  }

  /** Stats of a folder's `*.npz` asked for ahead of a check that will want them (see `prefetchNpzStats`), each used once. */
  private readonly ahead = new Map<string, Promise<Map<string, Promise<Stats | undefined>>>>();

  /**
   * Lists `directory` and stats every `*.npz` in it now, side by side, for a check about to
   * read a manifest there: the manifest's read and the folder's stats then overlap instead of
   * running one after the other. `listNpz` and `npz` use them once; nothing else changes.
   * The stats wait for the listing even when the fingerprint store already names the files: on
   * a mount whose names the kernel has not looked up yet, stats beside the listing are first
   * lookups, which both FUSE harnesses serialise, where the listing (READDIRPLUS) brings every
   * name in one round trip. Measured: 40 files re-checked in about 0.6 s this way, 2.6 s with the
   * stats started first (it saves two round trips only once the names are known to the kernel).
   * `started`: the same, when the caller started it already (for `directory` resolved).
   */
  prefetchNpzStats(directory: string, started?: ListedStats): void {
    const folder = path.resolve(directory);
    if (this.ahead.has(folder)) return;
    const { names, stats } = started ?? listAndStatNpz(folder);
    this.listings.set(folder, names);
    this.ahead.set(folder, stats);
  }

  private readonly listings = new Map<string, Promise<string[]>>();

  /** `listNpz(directory)`, from the prefetch when one was asked for (once). */
  listNpz(directory: string): Promise<string[]> {
    const folder = path.resolve(directory);
    const listing = this.listings.get(folder);
    this.listings.delete(folder);
    return listing ?? listNpz(folder);
  }

  private prefetched(file: string): Promise<Stats | undefined> | undefined {
    const folder = path.dirname(path.resolve(file));
    const stats = this.ahead.get(folder);
    if (!stats) return undefined;
    return stats.then((byName) => {
      const name = path.basename(file);
      const stat = byName.get(name);
      byName.delete(name);
      return stat ?? statOrUndefined(file);
    });
  }

  /** The deep check of an NPZ's `windows` (every value inflated), remembered by fingerprint: an unchanged file is never inflated again. */
  async deepWindows(file: string, signal?: AbortSignal): Promise<DeepResult | undefined> {
    const stat = await this.statNow(file);
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
    const stat = await this.statNow(file);
    if (!stat) return { exists: false };
    const result = await this.cached(file, stat, 'window-count', () =>
      this.pool.windowCount(file, signal, { size: stat.size }),
    );
    return result.ok ? { exists: true, windows: result.value } : { exists: true, error: result.error };
  }

  /** Header facts for images, plus the positive-voxel count for masks. */
  async nifti(file: string, countVoxels: boolean, signal?: AbortSignal): Promise<Pick<PathFacts, 'nifti' | 'error'>> {
    const stat = await this.statNow(file);
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
    const [stat, imageStat] = await Promise.all([this.statNow(mask), this.statNow(image)]);
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
    const known = await this.fromLastSeen<LabelTrace>(file, 'label-trace');
    if (known) return known.ok ? known.value : undefined;
    const stat = await this.statNow(file);
    if (!stat) return undefined;
    const result = await this.cached<LabelTrace>(file, stat, 'label-trace', () => this.pool.labelTrace(file));
    return result.ok ? result.value : undefined;
  }

  /** Base64 PNG of a mask's largest-lesion slice over its image, remembered by both fingerprints. */
  async lesionPicture(mask: string, image: string): Promise<string | undefined> {
    const kindFor = (imageStat: FileStamp) => `lesion-picture:${image}:${imageStat.size}:${imageStat.mtimeMs}`;
    const imageSeen = this.seen.get(image);
    const known = imageSeen && (await this.fromLastSeen<string>(mask, kindFor(imageSeen)));
    if (known) return known.ok ? known.value : undefined;
    const [stat, imageStat] = await Promise.all([this.statNow(mask), this.statNow(image)]);
    if (!stat || !imageStat) return undefined;
    const kind = kindFor(imageStat);
    const result = await this.cached<string>(mask, stat, kind, () => this.pool.lesionPicture(mask, image));
    return result.ok ? result.value : undefined;
  }

  /** Base64 PNG of the training grid's most-lesion slice for `method`, remembered by both fingerprints. */
  async trainingPicture(mask: string, image: string, method: ResampleMethod): Promise<string | undefined> {
    const kindFor = (imageStat: FileStamp) =>
      `training-picture:${method}:${image}:${imageStat.size}:${imageStat.mtimeMs}`;
    const imageSeen = this.seen.get(image);
    const known = imageSeen && (await this.fromLastSeen<string>(mask, kindFor(imageSeen)));
    if (known) return known.ok ? known.value : undefined;
    const [stat, imageStat] = await Promise.all([this.statNow(mask), this.statNow(image)]);
    if (!stat || !imageStat) return undefined;
    const kind = kindFor(imageStat);
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
      const failure = notRegularFailure(stat);
      return { ok: false, error: failure.message, failure };
    }
    await this.ready;
    const known = this.store.get<Stored<T>>(file, stat, kind);
    if (known) return known;
    return this.remember(file, stat, kind, await compute());
  }

  /**
   * A result read from a file whose stamp was `before`, remembered under it unless the file
   * changed while it was read: compared with its stamp after the last read (taken by the
   * reader on the open handle, or a stat now).
   */
  private async remember<T>(file: string, before: FileStamp, kind: string, result: TaskResult<T>): Promise<Stored<T>> {
    const after = result.statAfter ?? (await statOrUndefined(file));
    const unchanged = !!after && after.size === before.size && after.mtimeMs === before.mtimeMs;
    if (!result.ok && !unchanged) {
      // Whatever failed read a file in motion (truncated, rewritten): say that, not what the half-read bytes suggest.
      const now = after ? `${after.size} bytes now` : 'gone now';
      const message = `it changed while NeuroCache read it (${before.size} bytes when it was opened, ${now}; the read said: ${result.error})`;
      return { ok: false, error: message, failure: { message, changedWhileRead: true } };
    }
    const stored: Stored<T> = result.ok
      ? { ok: true, value: result.value }
      : { ok: false, error: result.error, failure: result.failure };
    if (unchanged) this.store.set(file, before, kind, stored);
    return stored;
  }
}

function npzFacts(result: Stored<NpzSummary>): CacheFileFacts {
  return result.ok
    ? { exists: true, summary: result.value }
    : { exists: true, error: result.error, failure: result.failure };
}

export type { NpzSummary };
