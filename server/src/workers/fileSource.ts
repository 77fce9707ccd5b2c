/**
 * A file as a ByteSource: positional reads on an open handle, counted (reads and bytes) for the
 * I/O figures the CLI and the benchmarks report. Used by the pool's readers on the main thread
 * and by the workers.
 */
import { constants, promises as fs, Stats } from 'node:fs';
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
  /** Size and mtime from the fstat made on opening; absent when the caller gave `size` (no fstat made). */
  readonly opened?: FileStamp;
  close(): Promise<void>;
}

/** The open file is not a regular file (a directory, a FIFO, a device): nothing was read from it. */
export class NotRegularSource extends FormatError {
  constructor(readonly stat: Stats) {
    super(notRegularFile(stat));
  }
}

// O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer; O_NOCTTY: a
// terminal opened here never becomes the process's controlling terminal.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/**
 * Opens `file` for positional reads. Only regular files: the fstat on the open handle refuses
 * anything else before a byte is read (`NotRegularSource`), and gives the size and mtime the
 * caller keys results by (`opened`) without a path stat (a lookup and a getattr on network
 * storage). A `size` from a stat just made (which found a regular file) saves that fstat too; a
 * file changed meanwhile shows in `stamp()` after the reads.
 */
export async function openFileSource(file: string, size?: number): Promise<FileSource> {
  const handle = await fs.open(file, OPEN_FLAGS);
  try {
    let length = size;
    let opened: FileStamp | undefined;
    if (length === undefined) {
      const stat = await handle.stat();
      if (!stat.isFile()) throw new NotRegularSource(stat);
      length = stat.size;
      opened = { size: stat.size, mtimeMs: stat.mtimeMs };
    }
    const known = length;
    let reads = 0;
    let bytesRead = 0;
    return {
      size: known,
      opened,
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
