/**
 * Pool worker: opens the file, hands the engine a positional-read source, returns a plain
 * summary. All inflating happens here, never on the main thread.
 */
import { promises as fs } from 'node:fs';
import { summarizeNifti } from '../engine/nifti';
import { summarizeNpz } from '../engine/npz';
import { ByteSource, FormatError } from '../engine/source';
import type { Task, TaskResult } from './tasks';

async function withFile<T>(file: string, use: (source: ByteSource) => Promise<T>): Promise<TaskResult<T>> {
  let bytesRead = 0;
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(file, 'r');
    const { size } = await handle.stat();
    const opened = handle;
    const source: ByteSource = {
      size,
      async read(offset, length) {
        const buffer = Buffer.allocUnsafe(Math.max(0, Math.min(length, size - offset)));
        let filled = 0;
        while (filled < buffer.length) {
          const { bytesRead: n } = await opened.read(buffer, filled, buffer.length - filled, offset + filled);
          if (n === 0) break;
          filled += n;
        }
        bytesRead += filled;
        return buffer.subarray(0, filled);
      },
    };
    return { ok: true, value: await use(source), bytesRead };
  } catch (error) {
    return { ok: false, error: describeError(error), bytesRead };
  } finally {
    await handle?.close();
  }
}

function describeError(error: unknown): string {
  if (error instanceof FormatError) return error.message;
  const e = error as NodeJS.ErrnoException;
  if (e.code === 'EISDIR') return 'is a directory';
  if (e.code === 'EACCES' || e.code === 'EPERM') return 'permission denied';
  if (e.code === 'ENOENT') return 'file vanished while reading';
  return e.message ?? String(error);
}

export default function run(task: Task): Promise<TaskResult<unknown>> {
  switch (task.kind) {
    case 'npz':
      return withFile(task.path, summarizeNpz);
    case 'nifti':
      return withFile(task.path, (source) => summarizeNifti(source, { countVoxels: task.countVoxels }));
  }
}
