/**
 * A file as a ByteSource: positional reads on an open handle, counted (reads and bytes) for the
 * I/O figures the CLI and the benchmarks report. Used by the pool's readers on the main thread
 * and by the workers.
 */
import { closeSync, constants, fstatSync, openSync, promises as fs, readSync, Stats } from 'node:fs';
import { loadFailure, LoadFailure, osException } from '../engine/eeg/numpyLoad';
import { NotRegularFileError } from '../engine/io/fileType';
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
export class NotRegularSource extends NotRegularFileError {
  constructor(readonly stat: Stats) {
    super(stat);
  }
}

// O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer; O_NOCTTY: a
// terminal opened here never becomes the process's controlling terminal.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/**
 * Opens `file` for positional reads, only regular files. Without a `size`, the path is stat-ed
 * side by side with the open (on network storage each is a round trip; one after the other, or
 * an fstat after the open, would add one per file): the stat refuses anything but a regular file
 * before a byte is read (`NotRegularSource`) and gives the size and the stamp results are keyed
 * by (`opened`). A file swapped or changed between that stat and the open or the reads shows in
 * `stamp()` (an fstat on the open handle) after the reads, which callers compare with `opened`.
 * A `size` from a stat just made (which found a regular file) is taken as it is.
 */
export async function openFileSource(file: string, size?: number): Promise<FileSource> {
  let handle: fs.FileHandle;
  let length = size;
  let opened: FileStamp | undefined;
  if (length === undefined) {
    const [opening, statting] = await Promise.allSettled([fs.open(file, OPEN_FLAGS), fs.stat(file)]);
    if (opening.status === 'rejected') throw opening.reason;
    handle = opening.value;
    try {
      if (statting.status === 'rejected') throw statting.reason;
      const stat = statting.value;
      if (!stat.isFile()) throw new NotRegularSource(stat);
      length = stat.size;
      opened = { size: stat.size, mtimeMs: stat.mtimeMs };
    } catch (error) {
      await handle.close();
      throw error;
    }
  } else handle = await fs.open(file, OPEN_FLAGS);
  return countedSource(length, opened, {
    read: async (buffer, filled, offset) =>
      (await handle.read(buffer, filled, buffer.length - filled, offset + filled)).bytesRead,
    stamp: () => handle.stat().then(({ size, mtimeMs }) => ({ size, mtimeMs })),
    close: () => handle.close(),
  });
}

/**
 * `openFileSource` for a file on a local file system, with synchronous calls: open, an fstat
 * (without a `size`), reads and the fstat after them each take microseconds there, where a
 * promise-based FileHandle call costs the calling thread several times that in hand-offs
 * (measured: head and tail of 160 cache files read, 35 ms of CPU this way, 75–105 ms through
 * fs.promises). The fstat on the open file gives what the path stat beside the open gives
 * `openFileSource` (no second lookup is worth saving here). Never for network storage: there
 * each call holds the thread for a round trip (pool.ts reads those files many at once instead).
 */
export async function openLocalFileSource(file: string, size?: number): Promise<FileSource> {
  const fd = openSync(file, OPEN_FLAGS);
  try {
    let length = size;
    let opened: FileStamp | undefined;
    if (length === undefined) {
      const stat = fstatSync(fd);
      if (!stat.isFile()) throw new NotRegularSource(stat);
      length = stat.size;
      opened = { size: stat.size, mtimeMs: stat.mtimeMs };
    }
    return countedSource(length, opened, {
      read: async (buffer, filled, offset) => readSync(fd, buffer, filled, buffer.length - filled, offset + filled),
      stamp: async () => {
        const { size: now, mtimeMs } = fstatSync(fd);
        return { size: now, mtimeMs };
      },
      close: async () => closeSync(fd),
    });
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** What a FileSource does with its open file: read into `buffer` from `filled` on (at `offset + filled` in the file), fstat, close. */
interface OpenFile {
  read(buffer: Buffer, filled: number, offset: number): Promise<number>;
  stamp(): Promise<FileStamp>;
  close(): Promise<void>;
}

/** A FileSource of `size` bytes over an open file, counting its reads and the bytes they return. */
function countedSource(size: number, opened: FileStamp | undefined, file: OpenFile): FileSource {
  let reads = 0;
  let bytesRead = 0;
  return {
    size,
    opened,
    get reads() {
      return reads;
    },
    get bytesRead() {
      return bytesRead;
    },
    async read(offset, wanted) {
      // Never from Buffer's shared pool: a result may be transferred to a worker thread.
      const buffer = Buffer.allocUnsafeSlow(Math.max(0, Math.min(wanted, size - offset)));
      let filled = 0;
      while (filled < buffer.length) {
        reads++;
        const n = await file.read(buffer, filled, offset);
        if (n === 0) break;
        filled += n;
      }
      bytesRead += filled;
      return buffer.subarray(0, filled);
    },
    stamp: () => file.stamp(),
    close: () => file.close(),
  };
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
