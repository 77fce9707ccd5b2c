/**
 * The worker pool every cache-file read goes through. Two independent limits: CPU threads
 * (piscina; default one per core) inflate and count, while the reads themselves run on the main
 * thread, many files at once (`readsInFlight`), because on network storage each read is a round
 * trip and a thread per file would leave most of the time waiting. Bytes read but not yet counted
 * are capped too (`bytesInFlight`), so memory stays bounded however many files are in flight.
 * Cancellable through AbortSignal; identical in-flight jobs collapse into one. A process with
 * nothing else to do (the CLI's build) may count NPZ files on the main thread too (`countHereBytes`).
 */
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import type Piscina from 'piscina';
import { bundleBeside } from '../bundles';
import { findMember, locateWindowsMember, npzDirectory, readNpzSpans, readWindowCount } from '../engine/eeg/npz';
import type { WindowValues } from '../engine/eeg/windowValues';
import { ByteSource, ByteSpan } from '../engine/io/source';
import { TAIL_READ, ZipMember } from '../engine/io/zip';
import { DEFAULT_MACHINE_SETTINGS } from '../protocol';
import type { ResampleMethod } from '../engine/arc/preprocessing';
import { Budget } from './budget';
import { FileSource, openFileSource, taskFailure } from './fileSource';
import { countLocalNpz, countNpz } from './npzTask';
import type {
  DeepWindowsValue,
  DeepWorkerMessage,
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

/** Compressed bytes of `windows` per read of the deep check (smaller when the byte budget is). */
export const DEEP_READ_CHUNK = 4 << 20;
/** Chunks of one file read ahead of its worker: the next read overlaps the inflating of the last. */
export const DEEP_READ_AHEAD = 2;

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

/** One job shared by every caller that asked for it; aborted only when all of them gave up. */
interface SharedJob {
  result: Promise<TaskResult<unknown>>;
  controller: AbortController;
  /** Callers still waiting that could give up (callers without a signal never do). */
  waiting: number;
  unstoppable: boolean;
}

export class WorkerPool {
  /** Created on first use: a process that never needs a thread (a small build, a re-check) never loads piscina. */
  private piscina: Piscina | undefined;
  private readonly max: number;
  private readonly startThreads: boolean;
  private readonly inFlight = new Map<string, SharedJob>();
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
  /** Deep checks handed to the threads (running or next in line there), at most one per thread. */
  private deepDispatched = 0;
  /** Deep checks waiting for one of those places, largest file first. */
  private readonly deepWaiting: { size: number; go: () => void }[] = [];
  /** NPZ files counted on the main thread, and the inflated `labels` bytes they held. */
  countedHere = 0;
  bytesCountedHere = 0;
  private readonly countHereBytes: number;
  private readonly localReads: boolean;
  /** NPZ counts asked for and not yet counted or handed over, and the inflated `labels` bytes declared by those fetched so far. */
  private npzWaiting = 0;
  private labelsFetched = { files: 0, bytes: 0 };

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
    this.countHereBytes = options.countHereBytes ?? 0;
    this.localReads = options.localReads ?? false;
    if (this.startThreads) this.threadPool();
  }

  /**
   * Window counts and per-window label positives of an NPZ: its bytes fetched here (usually one
   * round of two reads), counted in a worker. `size` (from a stat just made) saves a round trip;
   * without it a stat alongside the open gives the size, and the result's `statBefore` the stamp to key it by.
   */
  npz(file: string, signal?: AbortSignal, options: { size?: number } = {}): Promise<NpzResult> {
    return this.once(JSON.stringify({ kind: 'npz', path: file }), signal, (jobSignal) =>
      this.readNpz(file, options.size, jobSignal),
    ) as Promise<NpzResult>;
  }

  /** windows.shape[0] from its `.npy` header (for `_dataset_index.json`): read and parsed here, no worker needed. */
  windowCount(file: string, signal?: AbortSignal, options: { size?: number } = {}): Promise<TaskResult<number>> {
    return this.once(JSON.stringify({ kind: 'window-count', path: file }), signal, async (jobSignal) => {
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

  /**
   * The deep check of `windows`: its compressed bytes read here in sequential chunks (the next
   * read in flight while the worker inflates the last), each drawn from the byte budget until
   * the worker has consumed it, so memory stays bounded whatever the member's size.
   */
  deepWindows(file: string, signal?: AbortSignal, options: { size?: number } = {}): Promise<TaskResult<WindowValues>> {
    return this.once(JSON.stringify({ kind: 'deep-windows', path: file }), signal, async (jobSignal) => {
      const done = await this.deepTurn(options.size ?? 0, jobSignal);
      try {
        return await this.streamWindows(file, options.size, jobSignal);
      } finally {
        done();
      }
    }) as Promise<TaskResult<WindowValues>>;
  }

  /**
   * Waits for a thread's place for a deep check of a file of `size` bytes. Largest first: a
   * file takes one thread from start to end, so the big ones go first and the small ones fill
   * in at the end, where otherwise a thread would idle while the other finishes a big file.
   * Resolves to the release, which hands the place straight to the next in line.
   */
  private async deepTurn(size: number, signal: AbortSignal): Promise<() => void> {
    const release = () => {
      const next = this.deepWaiting.shift();
      if (next) next.go();
      else this.deepDispatched--;
    };
    if (this.deepDispatched < Math.max(1, this.threads)) {
      this.deepDispatched++;
      return release;
    }
    signal.throwIfAborted();
    await new Promise<void>((resolve, reject) => {
      const entry = {
        size,
        go: () => {
          signal.removeEventListener('abort', giveUp);
          resolve();
        },
      };
      const giveUp = () => {
        this.deepWaiting.splice(this.deepWaiting.indexOf(entry), 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', giveUp, { once: true });
      const at = this.deepWaiting.findIndex((w) => w.size < size);
      this.deepWaiting.splice(at < 0 ? this.deepWaiting.length : at, 0, entry);
    });
    return release;
  }

  private async streamWindows(
    file: string,
    size: number | undefined,
    signal: AbortSignal,
  ): Promise<TaskResult<WindowValues>> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- node:worker_threads loads only when a thread is needed
    const { MessageChannel } = require('node:worker_threads') as typeof import('node:worker_threads');
    const { port1, port2 } = new MessageChannel();
    let held = 0;
    let unacknowledged = 0;
    let started = false;
    let settled = false;
    let wake = () => {};
    const waitFor = async (ready: () => boolean) => {
      while (!ready() && !settled && !signal.aborted) await new Promise<void>((r) => (wake = r));
    };
    const dispatched = performance.now();
    let readMs = 0;
    let queuedMs = 0;
    port1.on('message', (message: DeepWorkerMessage) => {
      if ('started' in message) {
        started = true;
        queuedMs = performance.now() - dispatched;
      } else {
        held -= message.consumed;
        unacknowledged--;
        this.bytes.release(message.consumed);
      }
      wake();
    });
    const onAbort = () => wake();
    signal.addEventListener('abort', onAbort);
    const task: Task = { kind: 'deep-windows', path: file, port: port2 };
    const result = this.dispatch(task, signal, [port2 as unknown as ArrayBuffer]) as Promise<
      TaskResult<DeepWindowsValue>
    >;
    const outcome = result.then(
      (r) => ((settled = true), wake(), r),
      (error) => ((settled = true), wake(), Promise.reject(error)),
    );
    outcome.catch(() => undefined);
    let source: FileSource | undefined;
    let slot = false;
    try {
      // Nothing is read, and no budget held, until a thread runs the task.
      await waitFor(() => started);
      signal.throwIfAborted();
      await this.files.acquire(1);
      slot = true;
      let member: ZipMember;
      let dataOffset: number;
      try {
        source = await this.open(file, size);
        ({ member, dataOffset } = await locateWindowsMember(await readNpzSpans(source, { labels: false })));
      } catch (error) {
        port1.postMessage({ end: true });
        await outcome.catch(() => undefined);
        throw error;
      }
      port1.postMessage({
        member: { method: member.method, uncompressedSize: member.uncompressedSize, crc32: member.crc32 },
      });
      const chunkSize = Math.max(
        64 << 10,
        Math.min(DEEP_READ_CHUNK, Math.floor(this.bytes.capacity / DEEP_READ_AHEAD)),
      );
      const end = dataOffset + member.compressedSize;
      for (let at = dataOffset; at < end && !settled;) {
        await waitFor(() => unacknowledged < DEEP_READ_AHEAD);
        signal.throwIfAborted();
        if (settled) break;
        const length = Math.min(chunkSize, end - at);
        await this.bytes.acquire(length);
        held += length;
        const reading = performance.now();
        const bytes = await source.read(at, length);
        readMs += performance.now() - reading;
        const got = bytes.length; // the transfer below detaches `bytes`
        // Bytes not sent are released here; a short read is a truncated member (the worker says so at the end).
        this.bytes.release(length - got);
        held -= length - got;
        if (got === 0) break;
        unacknowledged++;
        port1.postMessage({ chunk: bytes }, [bytes.buffer as ArrayBuffer]);
        at += got;
        if (got < length) break;
      }
      port1.postMessage({ end: true });
      const done = await outcome;
      this.deepScans++;
      const stamp = await source.stamp().catch(() => undefined);
      if (!done.ok) return { ...done, statAfter: stamp };
      this.bytesInflated += done.value.inflatedBytes;
      this.deepPeakHeld = Math.max(this.deepPeakHeld, done.value.peakHeldBytes);
      this.deepLargestOutput = Math.max(this.deepLargestOutput, done.value.largestOutputBytes);
      for (const [part, ms] of Object.entries(done.value.time)) this.deepTime[part as keyof DeepWorkerTime] += ms;
      this.deepTime.readMs += readMs;
      this.deepTime.queuedMs += queuedMs;
      return { ok: true, value: done.value.values, bytesRead: 0, statAfter: stamp };
    } catch (error) {
      if (signal.aborted) throw error;
      return { ok: false, ...taskFailure(error), bytesRead: 0 };
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.bytes.release(held);
      port1.close();
      if (source) {
        this.bytesRead += source.bytesRead;
        this.readRequests += source.reads;
        await source.close().catch(() => undefined);
      }
      if (slot) this.files.release(1);
    }
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
    let waiting = true;
    this.npzWaiting++;
    const handedOn = () => {
      if (waiting) this.npzWaiting--;
      waiting = false;
    };
    // The main thread's counting turn, once taken (takeTurn); released at the latest on the way out.
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
          // What counting it will cost (its inflated labels), for where to count it (countHere).
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
      this.labelsFetched.files++;
      this.labelsFetched.bytes += fetched.value.labels;
      if (this.countHereBytes > 0) release = await this.takeTurn();
      const here = this.countHere(fetched.value.labels);
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
   * counts it, by the same rule as a fetched file (countHere), with the files counted so far
   * standing in for the labels of this one (nothing of it has been read yet).
   */
  private async readLocalNpz(file: string, size: number | undefined, signal: AbortSignal): Promise<NpzResult> {
    this.npzWaiting++;
    let waiting = true;
    let release = () => {};
    try {
      if (this.countHereBytes > 0) release = await this.takeTurn();
      signal.throwIfAborted();
      // Before a file is counted there is nothing to go by: the first is counted here (or, once
      // threads run, handed on by their queue as any other).
      const { files, bytes } = this.labelsFetched;
      const here = files > 0 || this.piscina ? this.countHere(files ? bytes / files : 0) : this.countHereBytes > 0;
      this.npzWaiting--;
      waiting = false;
      const task: Task = { kind: 'npz-local', path: file, size };
      if (!here) {
        release();
        return (await this.dispatch(task, signal)) as NpzResult;
      }
      const result = await countLocalNpz(task);
      release();
      const labels = this.noteCountedHere(result);
      this.labelsFetched.files++;
      this.labelsFetched.bytes += labels;
      return result;
    } finally {
      release();
      if (waiting) this.npzWaiting--;
    }
  }

  /** Counts an NPZ counted on this thread in the pool's figures; returns its inflated `labels` bytes. */
  private noteCountedHere(result: NpzResult): number {
    const labels = result.ok ? (result.value.members.labels?.inflated ?? 0) : 0;
    this.countedHere++;
    this.bytesCountedHere += labels;
    this.bytesRead += result.bytesRead;
    this.tasksRun++;
    return labels;
  }

  /** The main thread's counting turns, one NPZ file each (takeTurn). */
  private turns: Promise<void> = Promise.resolve();

  /**
   * Waits for a file's turn to be counted here or handed over: a turn of the event loop after
   * the last file's. Reads complete many at once, and counting each as its read completes kept
   * the main thread busy for all of them in one go while a thread's messages (ready, done)
   * waited, and with them the files it would take (seen at 160 files: a thread that was ready
   * early got its first file 570 ms later, and counted 3 of 160). Resolves to the release.
   */
  private async takeTurn(): Promise<() => void> {
    const previous = this.turns;
    let release!: () => void;
    this.turns = new Promise<void>((resolve) => (release = resolve));
    await previous;
    await new Promise<void>((resolve) => setImmediate(resolve));
    return release;
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

  /**
   * Whether an NPZ whose labels inflate to `labels` bytes is counted here: while every thread has
   * a file waiting, or, before any thread is started, when the whole work in sight fits the
   * allowance: what was counted here, this file, and the files still waiting at the mean size of
   * those fetched. Decided at the first file, not after the allowance is used up: a thread then
   * starts while this one counts, instead of after it (at 160 of the bench's files the thread
   * started only after 70 were counted here and then had little left to take).
   */
  private countHere(labels: number): boolean {
    if (this.countHereBytes <= 0) return false;
    if (this.piscina) return this.piscina.queueSize > 0;
    const { files, bytes } = this.labelsFetched;
    const inSight = this.bytesCountedHere + labels + (this.npzWaiting - 1) * (bytes / files);
    return inSight <= this.countHereBytes;
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
    return this.once(JSON.stringify(task), signal, (jobSignal) => this.dispatch(task, jobSignal));
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

  /**
   * Identical jobs in flight collapse into one. A caller whose signal aborts stops waiting at
   * once; the job itself is cancelled only when every caller has (one editor check superseding
   * another must not cancel the file read the newer check shares).
   */
  private once(
    key: string,
    signal: AbortSignal | undefined,
    job: (signal: AbortSignal) => Promise<TaskResult<unknown>>,
  ): Promise<TaskResult<unknown>> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    let shared = this.inFlight.get(key);
    if (!shared) {
      const controller = new AbortController();
      const result = job(controller.signal).finally(() => {
        if (this.inFlight.get(key) === shared) this.inFlight.delete(key);
      });
      result.catch(() => undefined); // callers see the outcome; a job all of them left must not be an unhandled rejection
      shared = { result, controller, waiting: 0, unstoppable: false };
      this.inFlight.set(key, shared);
    }
    const entry = shared;
    if (!signal) {
      entry.unstoppable = true;
      return entry.result;
    }
    entry.waiting++;
    return new Promise((resolve, reject) => {
      const giveUp = () => {
        reject(signal.reason);
        if (--entry.waiting > 0 || entry.unstoppable) return;
        if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
        entry.controller.abort(signal.reason);
      };
      signal.addEventListener('abort', giveUp, { once: true });
      entry.result.then(resolve, reject).finally(() => signal.removeEventListener('abort', giveUp));
    });
  }

  /** Distinct tasks handed to the threads and not yet settled. */
  get tasksInFlight(): number {
    return this.inFlight.size;
  }

  /** Threads the pool holds now (a terminated thread leaves at once, even before it has stopped). */
  get threadCount(): number {
    return this.piscina?.threads.length ?? 0;
  }

  async close(): Promise<void> {
    await this.piscina?.destroy();
  }
}
