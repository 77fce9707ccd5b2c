/**
 * The `npz` task: inflates and counts an NPZ from the bytes the pool fetched on the main thread,
 * opening the file only for bytes they miss (labels too large to hand over). Run by a worker
 * thread, or by the main thread itself when the pool is allowed to count there (pool.ts).
 */
import { summarizeNpz } from '../engine/eeg/npz';
import type { NpzSummary } from '../engine/eeg/npz';
import { ByteSource, SpanCache } from '../engine/io/source';
import { FileSource, openFileSource, taskFailure } from './fileSource';
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
