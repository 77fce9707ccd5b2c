/**
 * The worker pool every cache-file read goes through. Two independent limits: CPU threads
 * (piscina; default one per core) inflate and count, while the reads themselves run on the main
 * thread, many files at once (`readsInFlight`), because on network storage each read is a round
 * trip and a thread per file would leave most of the time waiting. Bytes read but not yet counted
 * are capped too (`bytesInFlight`), so memory stays bounded however many files are in flight.
 * Cancellable through AbortSignal; identical in-flight jobs collapse into one (sharedJobs.ts). A
 * process with nothing else to do (the CLI's build) may count NPZ files on the main thread too
 * (`countHereBytes`, mainThreadCounting.ts). Deep checks stream `windows` to a thread
 * (deepWindowsStream.ts), largest file first (largestFirstTurns.ts).
 */
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import type Piscina from 'piscina';
import { bundleBeside } from '../bundles';
import { findMember, npzDirectory, readNpzSpans, readWindowCount } from '../engine/eeg/npz';
import type { WindowValues } from '../engine/eeg/windowValues';
import { ByteSource, ByteSpan } from '../engine/io/source';
import { TAIL_READ } from '../engine/io/zip';
import { DEFAULT_MACHINE_SETTINGS } from '../protocol';
import type { ResampleMethod } from '../engine/arc/preprocessing';
import { Budget } from './budget';
import { DeepStreamHost, streamWindows } from './deepWindowsStream';
import { FileSource, openFileSource, taskFailure } from './fileSource';
import { LargestFirstTurns } from './largestFirstTurns';
import { MainThreadCounting } from './mainThreadCounting';
import { countLocalNpz, countNpz } from './npzTask';
import { SharedJobs } from './sharedJobs';
import type {
  DeepWindowsValue,
  DeepWorkerTime,
  FileStamp,
  LabelTrace,
  MaskPreprocessing,
  NiftiResult,
  NpzResult,
  SlicePicture,
  Task,
  TaskResult,
} from './tasks';
import type { NpzMemberInfo, WindowTrace } from '../engine/eeg/npzView';

/** Compressed bytes held between reading and counting, by default. */
export const DEFAULT_BYTES_IN_FLIGHT = 256 << 20;

export { DEEP_READ_AHEAD, DEEP_READ_CHUNK } from './deepWindowsStream';

/** The deep checks' time, summed over files: the workers' parts, the main thread's reads, and the wait for a thread. */
export interface DeepTime extends DeepWorkerTime {
  readMs: number;
  queuedMs: number;
}

export interface PoolOptions {
  /** Files whose contents are read at once (I/O concurrency, independent of `threads`). */
  readsInFlight?: number;
  /** Compressed bytes read but not yet counted, at most (a larger single member is read alone). */
  bytesInFlight?: number;
  /** Opens a file for positional reads; tests pass slow or counting sources. */
  open?: (file: string, size?: number) => Promise<FileSource>;
  /** Start the threads at once (a build will need them) instead of on first use. */
  startThreads?: boolean;
  /**
   * Inflated `labels` bytes the main thread may count alone, without any thread (default 0:
   * never count here). For a process that only builds (the CLI): starting a thread costs more
   * than counting a few files (measured: 8 files of 3.7 MB, ~10 ms to count cold, ~40 ms to
   * start each thread). When the files in sight need more, the threads start at the first file
   * and the main thread counts alongside them, one file whenever every thread has one waiting.
   * Not for the language server, whose main thread must stay free to answer the editor.
   */
  countHereBytes?: number;
  /**
   * The NPZ files are on a local file system: each is opened and read where it is counted (a
   * thread, or the main thread when `countHereBytes` lets it), with synchronous calls, instead
   * of on the main thread through fs.promises for a thread to count (the way for network
   * storage, where each call is a round trip and many files are read at once). The caller
   * decides (manifestBuild.ts: from the file system's type); never set for network storage.
   */
  localReads?: boolean;
}

/**
 * NPZ files handed to one thread at once with `localReads`: a thread that finishes one takes the
 * next from its own queue instead of waiting for the main thread, which may be counting a file
 * of its own (~1 ms) before it sees the thread's answer and hands on another.
 */
const LOCAL_TASKS_PER_THREAD = 3;

/** The bundled worker for a task: NPZ counting has a bundle of its own, which loads far less. */
export function workerScript(kind?: Task['kind']): string {
  const name = kind === 'npz' || kind === 'npz-local' ? 'neurocache-npz-worker.js' : 'neurocache-worker.js';
  // Looked for once (bundleBeside tries up to three paths): a build dispatches a task per file.
  let found = workerScripts.get(name);
  if (found === undefined) workerScripts.set(name, (found = bundleBeside(name)));
  return found;
}
const workerScripts = new Map<string, string>();

export class WorkerPool {
  /** Created on first use: a process that never needs a thread (a small build, a re-check) never loads piscina. */
  private piscina: Piscina | undefined;
  private readonly max: number;
  private readonly startThreads: boolean;
  private readonly jobs = new SharedJobs<TaskResult<unknown>>();
  /** Files being read on the main thread; `peak` is the most ever read at once. */
  readonly files: Budget;
  readonly bytes: Budget;
  private readonly open: NonNullable<PoolOptions['open']>;
  /** Bytes of cache-file content read (here and in the workers), for tests and benchmarks. */
  bytesRead = 0;
  /** Read requests made on the main thread (the workers' NIfTI reads are not counted). */
  readRequests = 0;
  tasksRun = 0;
  /**
   * Deep checks run, `.npy` bytes they inflated, the most compressed bytes one worker held at
   * once, the largest inflated chunk one held, and where their time went (summed over files).
   */
  deepScans = 0;
  bytesInflated = 0;
  deepPeakHeld = 0;
  deepLargestOutput = 0;
  readonly deepTime: DeepTime = { inflateMs: 0, checkMs: 0, crcMs: 0, starvedMs: 0, readMs: 0, queuedMs: 0 };
  /** Deep checks' places on the threads (running or next in line there), one per thread. */
  private readonly deepTurns: LargestFirstTurns;
  /** Whether (and which) NPZ files the main thread counts itself. */
  private readonly mainThread: MainThreadCounting;
  private readonly localReads: boolean;

  constructor(
    readonly threads = availableParallelism(),
    options: PoolOptions = {},
  ) {
    // Threads start on first use unless asked: a re-check answered from fingerprints never needs one.
    this.max = Math.max(1, threads);
    this.startThreads = options.startThreads ?? false;
    this.files = new Budget(Math.max(1, options.readsInFlight ?? DEFAULT_MACHINE_SETTINGS.io.readsInFlight));
    this.bytes = new Budget(Math.max(1, options.bytesInFlight ?? DEFAULT_BYTES_IN_FLIGHT));
    this.open = options.open ?? openFileSource;
    this.mainThread = new MainThreadCounting(options.countHereBytes ?? 0);
    this.deepTurns = new LargestFirstTurns(Math.max(1, threads));
    this.localReads = options.localReads ?? false;
    if (this.startThreads) this.threadPool();
  }

  /**
   * Window counts and per-window label positives of an NPZ: its bytes fetched here (usually one
   * round of two reads), counted in a worker. `size` (from a stat just made) saves a round trip;
   * without it a stat alongside the open gives the size, and the result's `statBefore` the stamp to key it by.
   */
  npz(file: string, signal?: AbortSignal, options: { size?: number } = {}): Promise<NpzResult> {
    return this.jobs.run(JSON.stringify({ kind: 'npz', path: file }), signal, (jobSignal) =>
      this.readNpz(file, options.size, jobSignal),
    ) as Promise<NpzResult>;
  }

  /** windows.shape[0] from its `.npy` header (for `_dataset_index.json`): read and parsed here, no worker needed. */
  windowCount(file: string, signal?: AbortSignal, options: { size?: number } = {}): Promise<TaskResult<number>> {
    return this.jobs.run(JSON.stringify({ kind: 'window-count', path: file }), signal, async (jobSignal) => {
      try {
        const read = await this.readHere(file, options.size, jobSignal, (source) => readWindowCount(source));
        const stamps = { statBefore: read.opened, statAfter: await read.statAfter };
        if (read.failed) return { ok: false, ...taskFailure(read.error), bytesRead: 0, ...stamps };
        return { ok: true, value: read.value, bytesRead: 0, ...stamps };
      } catch (error) {
        if (jobSignal.aborted) throw error;
        return { ok: false, ...taskFailure(error), bytesRead: 0 };
      }
    }) as Promise<TaskResult<number>>;
  }

  /** The deep check of `windows`, on a thread, fed from here chunk by chunk (deepWindowsStream.ts). */
  deepWindows(file: string, signal?: AbortSignal, options: { size?: number } = {}): Promise<TaskResult<WindowValues>> {
    return this.jobs.run(JSON.stringify({ kind: 'deep-windows', path: file }), signal, async (jobSignal) => {
      const done = await this.deepTurns.take(options.size ?? 0, jobSignal);
      try {
        return await streamWindows(this.deepStreamHost(), file, options.size, jobSignal);
      } finally {
        done();
      }
    }) as Promise<TaskResult<WindowValues>>;
  }

  /** What the deep check's stream uses of this pool, and where its figures go. */
  private deepStreamHost(): DeepStreamHost {
    return {
      open: (file, size) => this.open(file, size),
      files: this.files,
      bytes: this.bytes,
      dispatch: (task, signal, transferList) => this.dispatch(task, signal, transferList),
      noteReads: (source) => {
        this.bytesRead += source.bytesRead;
        this.readRequests += source.reads;
      },
      noteScan: (done: DeepWindowsValue | undefined, readMs, queuedMs) => {
        this.deepScans++;
        if (!done) return;
        this.deepTime.readMs += readMs;
        this.deepTime.queuedMs += queuedMs;
        this.bytesInflated += done.inflatedBytes;
        this.deepPeakHeld = Math.max(this.deepPeakHeld, done.peakHeldBytes);
        this.deepLargestOutput = Math.max(this.deepLargestOutput, done.largestOutputBytes);
        for (const [part, ms] of Object.entries(done.time)) this.deepTime[part as keyof DeepWorkerTime] += ms;
      },
    };
  }

  nifti(file: string, countVoxels: boolean, signal?: AbortSignal): Promise<NiftiResult> {
    return this.run({ kind: 'nifti', path: file, countVoxels }, signal) as Promise<NiftiResult>;
  }

  /** A mask's summary and count, and what preprocess_volume makes of it with `image`'s header. */
  maskPreprocessing(mask: string, image: string, signal?: AbortSignal): Promise<TaskResult<MaskPreprocessing>> {
    return this.run({ kind: 'preprocessing', path: mask, image }, signal) as Promise<TaskResult<MaskPreprocessing>>;
  }

  labelTrace(file: string): Promise<TaskResult<LabelTrace>> {
    return this.run({ kind: 'label-trace', path: file }) as Promise<TaskResult<LabelTrace>>;
  }

  lesionPicture(mask: string, image: string): Promise<TaskResult<string>> {
    return this.run({ kind: 'lesion-picture', path: mask, image }) as Promise<TaskResult<string>>;
  }

  /** Axial slice `z` of an image with its mask over it, for the viewer's fallback (never cached: one per slider step). */
  slicePicture(
    image: string,
    mask: string | undefined,
    z: number | undefined,
    signal?: AbortSignal,
  ): Promise<TaskResult<SlicePicture>> {
    return this.run({ kind: 'slice-picture', path: image, mask, z }, signal) as Promise<TaskResult<SlicePicture>>;
  }

  /** One window's channels and labels, inflated in a worker up to that window only. */
  npzWindow(file: string, window: number, signal?: AbortSignal): Promise<TaskResult<WindowTrace>> {
    return this.run({ kind: 'npz-window', path: file, window }, signal) as Promise<TaskResult<WindowTrace>>;
  }

  /** The members and their `.npy` headers (each header inflates a few hundred bytes). */
  npzMembers(file: string, signal?: AbortSignal): Promise<TaskResult<{ members: NpzMemberInfo[]; total: number }>> {
    return this.run({ kind: 'npz-members', path: file }, signal) as Promise<
      TaskResult<{ members: NpzMemberInfo[]; total: number }>
    >;
  }

  trainingPicture(mask: string, image: string, method: ResampleMethod): Promise<TaskResult<string>> {
    return this.run({ kind: 'training-picture', path: mask, image, method }) as Promise<TaskResult<string>>;
  }

  /** Voxels > 0 of a mask (the lesion volume), or an error naming the file. */
  async lesionVolume(file: string, signal?: AbortSignal): Promise<number> {
    const counted = await this.nifti(file, true, signal);
    if (!counted.ok) throw new Error(`${path.basename(file)}: ${counted.error}`);
    return counted.value.positiveVoxels ?? 0;
  }

  /**
   * Opens `file` in a slot among `readsInFlight`, runs `read` on it here and closes it. Also
   * returns the stamp the stat alongside the open gave (`opened`, when no `size` was passed) and whether
   * the file changed while it was read: its fstat afterwards (one request on the open handle, no
   * path lookup), which completes while the caller goes on (counting in a worker). A failed read
   * comes back as `failed` with the same stamps, so the caller can tell a file in motion from a
   * broken one; a failed open or abort throws.
   */
  private async readHere<T>(
    file: string,
    size: number | undefined,
    signal: AbortSignal,
    read: (source: FileSource) => Promise<T>,
  ): Promise<
    ({ failed: false; value: T } | { failed: true; error: unknown }) & {
      opened?: FileStamp;
      statAfter: Promise<FileStamp | undefined>;
    }
  > {
    await this.files.acquire(1);
    try {
      signal.throwIfAborted();
      const source = await this.open(file, size);
      const statAfter = () =>
        source
          .stamp()
          .then(
            (stamp) => stamp,
            () => undefined,
          )
          .finally(() => source.close().catch(() => undefined));
      try {
        const value = await read(source);
        return { failed: false, value, opened: source.opened, statAfter: statAfter() };
      } catch (error) {
        if (signal.aborted) {
          await source.close().catch(() => undefined);
          throw error;
        }
        return { failed: true, error, opened: source.opened, statAfter: statAfter() };
      } finally {
        this.bytesRead += source.bytesRead;
        this.readRequests += source.reads;
      }
    } finally {
      this.files.release(1);
    }
  }

  /** Fetches here, then counts in a worker while other files are fetched (`localReads`: see readLocalNpz). */
  private async readNpz(file: string, size: number | undefined, signal: AbortSignal): Promise<NpzResult> {
    if (this.localReads) return this.readLocalNpz(file, size, signal);
    let held = 0;
    const handedOn = this.mainThread.asked();
    // The main thread's counting turn, once taken (MainThreadCounting.turn); released at the latest on the way out.
    let release = () => {};
    try {
      let fetched: Awaited<ReturnType<typeof this.readHere<{ size: number; spans: ByteSpan[]; labels: number }>>>;
      try {
        fetched = await this.readHere(file, size, signal, async (source) => {
          const drawing = this.drawOnBudget(
            source,
            (n) => (held += n),
            () => held > 0,
          );
          const cache = await readNpzSpans(drawing, { maxLabelsInMemory: this.bytes.capacity });
          // What counting it will cost (its inflated labels), for where to count it (countsHere).
          const labels = await npzDirectory(cache).then(
            (members) => findMember(members, 'labels')?.uncompressedSize ?? 0,
            () => 0,
          );
          return { size: source.size, spans: cache.spans, labels };
        });
      } catch (error) {
        if (signal.aborted) throw error;
        this.tasksRun++;
        return { ok: false, ...taskFailure(error), bytesRead: 0 };
      }
      const statBefore = fetched.opened;
      if (fetched.failed) {
        this.tasksRun++;
        return {
          ok: false,
          ...taskFailure(fetched.error),
          bytesRead: 0,
          statBefore,
          statAfter: await fetched.statAfter,
        };
      }
      this.mainThread.noteLabels(fetched.value.labels);
      release = await this.mainThread.turn();
      const here = this.countsHere(fetched.value.labels);
      handedOn();
      if (here) {
        signal.throwIfAborted();
        const task: Task = { kind: 'npz', path: file, size: fetched.value.size, spans: fetched.value.spans };
        const result = await countNpz(task);
        release();
        this.noteCountedHere(result);
        const stamp = await fetched.statAfter;
        return { ...result, statBefore, statAfter: result.bytesRead === 0 ? stamp : undefined };
      }
      release();
      // Handed over, not copied: a view into a larger buffer is copied out first (not with
      // Buffer#slice, which makes another view), so transferring never detaches other bytes.
      const spans = fetched.value.spans.map(({ offset, bytes }) => ({
        offset,
        bytes: bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes),
      }));
      const transfer = [...new Set(spans.map((s) => s.bytes.buffer as ArrayBuffer))];
      const task: Task = { kind: 'npz', path: file, size: fetched.value.size, spans };
      const [result, stamp] = await Promise.all([this.dispatch(task, signal, transfer), fetched.statAfter]);
      // A worker that read the file itself (labels streamed) read after the stamp: the caller must stat again.
      return { ...(result as NpzResult), statBefore, statAfter: result.bytesRead === 0 ? stamp : undefined };
    } finally {
      release();
      handedOn();
      this.bytes.release(held);
    }
  }

  /**
   * An NPZ on a local file system: read and counted here, or handed to a thread that reads and
   * counts it, by the same rule as a fetched file (countsHere), with the files counted so far
   * standing in for the labels of this one (nothing of it has been read yet).
   */
  private async readLocalNpz(file: string, size: number | undefined, signal: AbortSignal): Promise<NpzResult> {
    const decided = this.mainThread.asked();
    let release = () => {};
    try {
      release = await this.mainThread.turn();
      signal.throwIfAborted();
      // Before a file is counted there is nothing to go by: the first is counted here (or, once
      // threads run, handed on by their queue as any other).
      const here =
        this.mainThread.anyKnown || this.piscina
          ? this.countsHere(this.mainThread.meanLabels)
          : this.mainThread.allowed;
      decided();
      const task: Task = { kind: 'npz-local', path: file, size };
      if (!here) {
        release();
        return (await this.dispatch(task, signal)) as NpzResult;
      }
      const result = await countLocalNpz(task);
      release();
      this.mainThread.noteLabels(this.noteCountedHere(result));
      return result;
    } finally {
      release();
      decided();
    }
  }

  /** Counts an NPZ counted on this thread in the pool's figures; returns its inflated `labels` bytes. */
  private noteCountedHere(result: NpzResult): number {
    const labels = result.ok ? (result.value.members.labels?.inflated ?? 0) : 0;
    this.mainThread.noteCounted(labels);
    this.bytesRead += result.bytesRead;
    this.tasksRun++;
    return labels;
  }

  private threadPool(): Piscina {
    if (!this.piscina) {
      // Loaded here, not imported: its module and node:worker_threads cost a short process ~10 ms.
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- evaluated on first use only
      const { Piscina: Pool } = require('piscina') as typeof import('piscina');
      this.piscina = new Pool({
        // Each task names its bundle (dispatch): a thread loads only the bundles of the tasks it runs.
        filename: null,
        minThreads: this.startThreads ? this.max : 0,
        maxThreads: this.max,
        idleTimeout: 2000,
        concurrentTasksPerWorker: this.localReads ? LOCAL_TASKS_PER_THREAD : 1,
      });
    }
    return this.piscina;
  }

  /** Whether an NPZ whose labels inflate to `labels` bytes is counted on this thread (MainThreadCounting.takes). */
  private countsHere(labels: number): boolean {
    return this.mainThread.takes(labels, this.piscina?.queueSize);
  }

  /**
   * Reads up to the speculative tail size are bounded by the files in flight; larger ones (whole
   * `labels` members) wait for room in the byte budget, except when this file already holds some.
   */
  private drawOnBudget(source: ByteSource, hold: (bytes: number) => void, holding: () => boolean): ByteSource {
    return {
      size: source.size,
      read: async (offset, length) => {
        if (length > TAIL_READ) {
          if (holding()) this.bytes.force(length);
          else await this.bytes.acquire(length);
          hold(length);
        }
        return source.read(offset, length);
      },
    };
  }

  private run(task: Task, signal?: AbortSignal): Promise<TaskResult<unknown>> {
    return this.jobs.run(JSON.stringify(task), signal, (jobSignal) => this.dispatch(task, jobSignal));
  }

  private async dispatch(
    task: Task,
    signal?: AbortSignal,
    transferList: ArrayBuffer[] = [],
  ): Promise<TaskResult<unknown>> {
    const result = (await this.threadPool().run(task, {
      signal,
      transferList,
      filename: workerScript(task.kind),
    })) as TaskResult<unknown>;
    this.bytesRead += result.bytesRead;
    this.tasksRun++;
    return result;
  }

  /** NPZ files counted on the main thread, and the inflated `labels` bytes they held. */
  get countedHere(): number {
    return this.mainThread.counted;
  }

  get bytesCountedHere(): number {
    return this.mainThread.bytesCounted;
  }

  /** Distinct tasks handed to the threads and not yet settled (identical ones shared: sharedJobs.ts). */
  get tasksInFlight(): number {
    return this.jobs.size;
  }

  /** Threads the pool holds now (a terminated thread leaves at once, even before it has stopped). */
  get threadCount(): number {
    return this.piscina?.threads.length ?? 0;
  }

  async close(): Promise<void> {
    await this.piscina?.destroy();
  }
}
