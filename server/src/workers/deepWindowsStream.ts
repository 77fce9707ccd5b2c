/**
 * The deep check of an NPZ's `windows`, fed from the main thread: its compressed bytes read in
 * sequential chunks (the next read in flight while the worker inflates the last), each drawn
 * from the byte budget until the worker has consumed it, so memory stays bounded whatever the
 * member's size. Nothing is read, and no budget held, until a thread runs the task.
 */
import { locateWindowsMember, readNpzSpans } from '../engine/eeg/npz';
import type { WindowValues } from '../engine/eeg/windowValues';
import type { ZipMember } from '../engine/io/zip';
import type { Budget } from './budget';
import { FileSource, taskFailure } from './fileSource';
import type { DeepWindowsValue, DeepWorkerMessage, Task, TaskResult } from './tasks';

/** Compressed bytes of `windows` per read of the deep check (smaller when the byte budget is). */
export const DEEP_READ_CHUNK = 4 << 20;
/** Chunks of one file read ahead of its worker: the next read overlaps the inflating of the last. */
export const DEEP_READ_AHEAD = 2;

/** What the stream needs of the pool: its opener, budgets and threads, and where its figures go. */
export interface DeepStreamHost {
  open: (file: string, size?: number) => Promise<FileSource>;
  files: Budget;
  bytes: Budget;
  dispatch(task: Task, signal: AbortSignal, transferList: ArrayBuffer[]): Promise<TaskResult<unknown>>;
  /** A file's reads are over (counted in the pool's bytes and requests). */
  noteReads(source: FileSource): void;
  /** A deep check ended: its worker's figures when it succeeded, the main thread's read time and the wait for a thread. */
  noteScan(done: DeepWindowsValue | undefined, readMs: number, queuedMs: number): void;
}

export async function streamWindows(
  host: DeepStreamHost,
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
      host.bytes.release(message.consumed);
    }
    wake();
  });
  const onAbort = () => wake();
  signal.addEventListener('abort', onAbort);
  const task: Task = { kind: 'deep-windows', path: file, port: port2 };
  const result = host.dispatch(task, signal, [port2 as unknown as ArrayBuffer]) as Promise<
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
    await waitFor(() => started);
    signal.throwIfAborted();
    await host.files.acquire(1);
    slot = true;
    let member: ZipMember;
    let dataOffset: number;
    try {
      source = await host.open(file, size);
      ({ member, dataOffset } = await locateWindowsMember(await readNpzSpans(source, { labels: false })));
    } catch (error) {
      port1.postMessage({ end: true });
      await outcome.catch(() => undefined);
      throw error;
    }
    port1.postMessage({
      member: { method: member.method, uncompressedSize: member.uncompressedSize, crc32: member.crc32 },
    });
    const chunkSize = Math.max(64 << 10, Math.min(DEEP_READ_CHUNK, Math.floor(host.bytes.capacity / DEEP_READ_AHEAD)));
    const end = dataOffset + member.compressedSize;
    for (let at = dataOffset; at < end && !settled;) {
      await waitFor(() => unacknowledged < DEEP_READ_AHEAD);
      signal.throwIfAborted();
      if (settled) break;
      const length = Math.min(chunkSize, end - at);
      await host.bytes.acquire(length);
      held += length;
      const reading = performance.now();
      const bytes = await source.read(at, length);
      readMs += performance.now() - reading;
      const got = bytes.length; // the transfer below detaches `bytes`
      // Bytes not sent are released here; a short read is a truncated member (the worker says so at the end).
      host.bytes.release(length - got);
      held -= length - got;
      if (got === 0) break;
      unacknowledged++;
      port1.postMessage({ chunk: bytes }, [bytes.buffer as ArrayBuffer]);
      at += got;
      if (got < length) break;
    }
    port1.postMessage({ end: true });
    const done = await outcome;
    host.noteScan(done.ok ? done.value : undefined, readMs, queuedMs);
    const stamp = await source.stamp().catch(() => undefined);
    if (!done.ok) return { ...done, statAfter: stamp };
    return { ok: true, value: done.value.values, bytesRead: 0, statAfter: stamp };
  } catch (error) {
    if (signal.aborted) throw error;
    return { ok: false, ...taskFailure(error), bytesRead: 0 };
  } finally {
    signal.removeEventListener('abort', onAbort);
    host.bytes.release(held);
    port1.close();
    if (source) {
      host.noteReads(source);
      await source.close().catch(() => undefined);
    }
    if (slot) host.files.release(1);
  }
}
