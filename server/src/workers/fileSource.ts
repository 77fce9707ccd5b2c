/**
 * A file as a ByteSource: positional reads on an open handle, counted (reads and bytes) for the
 * I/O figures the CLI and the benchmarks report. Used by the pool's readers on the main thread
 * and by the workers.
 */
import { constants, promises as fs } from 'node:fs';
import { loadFailure, LoadFailure, osException } from '../engine/eeg/numpyLoad';
import { notRegularFile } from '../engine/io/fileType';
import { ByteSource, FormatError } from '../engine/io/source';
import type { FileStamp } from './tasks';

export interface FileSource extends ByteSource {
  /** Read requests made and bytes they returned. */
  readonly reads: number;
  readonly bytesRead: number;
  /** Size and mtime of the open file now (fstat: one request, no path lookup). */
  stamp(): Promise<FileStamp>;
  close(): Promise<void>;
}

/**
 * Opens `file` for positional reads. Only regular files: O_NONBLOCK makes opening a FIFO return
 * at once (instead of waiting for a writer), and the fstat refuses it. A `size` from a stat just
 * made (which found a regular file) saves that fstat's round trip; a file swapped meanwhile shows
 * in `stamp()` after the reads.
 */
export async function openFileSource(file: string, size?: number): Promise<FileSource> {
  const handle = await fs.open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    let length = size;
    if (length === undefined) {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new FormatError(notRegularFile(stat));
      length = stat.size;
    }
    const known = length;
    let reads = 0;
    let bytesRead = 0;
    return {
      size: known,
      get reads() {
        return reads;
      },
      get bytesRead() {
        return bytesRead;
      },
      async read(offset, wanted) {
        // Never from Buffer's shared pool: a result may be transferred to a worker thread.
        const buffer = Buffer.allocUnsafeSlow(Math.max(0, Math.min(wanted, known - offset)));
        let filled = 0;
        while (filled < buffer.length) {
          reads++;
          const { bytesRead: n } = await handle.read(buffer, filled, buffer.length - filled, offset + filled);
          if (n === 0) break;
          filled += n;
        }
        bytesRead += filled;
        return buffer.subarray(0, filled);
      },
      stamp: () => handle.stat().then(({ size, mtimeMs }) => ({ size, mtimeMs })),
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** A failed task's message, and what Python's open() or np.load raises for the same file. */
export function taskFailure(error: unknown): { error: string; failure?: LoadFailure } {
  const code = (error as NodeJS.ErrnoException).code;
  return {
    error: describeError(error),
    failure: loadFailure(error) ?? (code ? { message: describeError(error), exception: osException(code) } : undefined),
  };
}

/** The message users see for a file that could not be read. */
export function describeError(error: unknown): string {
  if (error instanceof FormatError) return error.message;
  const e = error as NodeJS.ErrnoException;
  if (e.code === 'EISDIR') return 'is a directory';
  if (e.code === 'EACCES' || e.code === 'EPERM') return 'permission denied';
  if (e.code === 'ENOENT') return 'file vanished while reading';
  return e.message ?? String(error);
}
