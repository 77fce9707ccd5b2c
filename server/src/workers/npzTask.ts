/**
 * The `npz` task: inflates and counts an NPZ from the bytes the pool fetched on the main thread,
 * opening the file only for bytes they miss (labels too large to hand over); and `npz-local`,
 * which reads a file on a local file system itself. Run by a worker thread, or by the main
 * thread itself when the pool is allowed to count there (pool.ts).
 */
import { summarizeNpz } from '../engine/eeg/npz';
import type { NpzSummary } from '../engine/eeg/npz';
import { ByteSource, SpanCache } from '../engine/io/source';
import { FileSource, openFileSource, openLocalFileSource, taskFailure } from './fileSource';
import type { Task, TaskResult } from './tasks';

export async function countNpz(task: Extract<Task, { kind: 'npz' }>): Promise<TaskResult<NpzSummary>> {
  let opened: Promise<FileSource> | undefined;
  const file: ByteSource = {
    size: task.size,
    read: async (offset, length) => (await (opened ??= openFileSource(task.path, task.size))).read(offset, length),
  };
  try {
    return {
      ok: true,
      value: await summarizeNpz(new SpanCache(task.size, file, task.spans)),
      bytesRead: opened ? (await opened).bytesRead : 0,
    };
  } catch (error) {
    const bytesRead = opened
      ? await opened.then(
          (s) => s.bytesRead,
          () => 0,
        )
      : 0;
    return { ok: false, ...taskFailure(error), bytesRead };
  } finally {
    await opened?.then(
      (s) => s.close(),
      () => undefined,
    );
  }
}

/**
 * The `npz-local` task: the file opened, read (synchronous calls: pool.ts's local reads) and
 * counted here, with the stamps the pool's own reads give: `statBefore` from the fstat at the
 * open (when no `size` was given) and `statAfter` from one after the last read. A file that
 * cannot be opened as a regular file comes back without stamps, as from the pool's reader.
 */
export async function countLocalNpz(task: Extract<Task, { kind: 'npz-local' }>): Promise<TaskResult<NpzSummary>> {
  let source: FileSource;
  try {
    source = await openLocalFileSource(task.path, task.size);
  } catch (error) {
    return { ok: false, ...taskFailure(error), bytesRead: 0 };
  }
  try {
    let result: TaskResult<NpzSummary>;
    try {
      result = { ok: true, value: await summarizeNpz(source), bytesRead: source.bytesRead };
    } catch (error) {
      result = { ok: false, ...taskFailure(error), bytesRead: source.bytesRead };
    }
    const statAfter = await source.stamp().catch(() => undefined);
    return { ...result, statBefore: source.opened, statAfter };
  } finally {
    await source.close().catch(() => undefined);
  }
}
