/**
 * A file as a ByteSource: positional reads on an open handle, counted (reads and bytes) for the
 * I/O figures the CLI and the benchmarks report. Used by the pool's readers on the main thread
 * and by the workers.
 */
import { promises as fs } from 'node:fs';
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

/** Opens `file`; a known `size` (from a stat just made) saves the fstat round trip. */
export async function openFileSource(file: string, size?: number): Promise<FileSource> {
  const handle = await fs.open(file, 'r');
  try {
    const length = size ?? (await handle.stat()).size;
    let reads = 0;
    let bytesRead = 0;
    return {
      size: length,
      get reads() {
        return reads;
      },
      get bytesRead() {
        return bytesRead;
      },
      async read(offset, wanted) {
        // Never from Buffer's shared pool: a result may be transferred to a worker thread.
        const buffer = Buffer.allocUnsafeSlow(Math.max(0, Math.min(wanted, length - offset)));
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

/** The message users see for a file that could not be read. */
export function describeError(error: unknown): string {
  if (error instanceof FormatError) return error.message;
  const e = error as NodeJS.ErrnoException;
  if (e.code === 'EISDIR') return 'is a directory';
  if (e.code === 'EACCES' || e.code === 'EPERM') return 'permission denied';
  if (e.code === 'ENOENT') return 'file vanished while reading';
  return e.message ?? String(error);
}

// Reads of a whole file: chunks no larger than a FUSE request (128 KiB), several in flight.
const WHOLE_FILE_CHUNK = 128 << 10;
const WHOLE_FILE_READS_IN_FLIGHT = 16;

/**
 * A whole file (a manifest to check) by positional reads side by side: `readFile` reads its
 * chunks one after another, which on network storage costs a round trip per chunk (a 2 MB
 * manifest: 15 in a row). The size comes from the open file itself, so a manifest replaced
 * (renamed over) meanwhile is read whole, old or new.
 */
export async function readWholeFile(file: string): Promise<Buffer> {
  const handle = await fs.open(file, 'r');
  try {
    const length = (await handle.stat()).size;
    const buffer = Buffer.allocUnsafe(length);
    let end = length;
    let next = 0;
    const worker = async () => {
      while (next < length) {
        const at = next;
        next += WHOLE_FILE_CHUNK;
        const want = Math.min(WHOLE_FILE_CHUNK, length - at);
        let filled = 0;
        while (filled < want) {
          const { bytesRead } = await handle.read(buffer, at + filled, want - filled, at + filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        if (filled < want) end = Math.min(end, at + filled); // the file shrank since the stat
      }
    };
    await Promise.all(Array.from({ length: Math.min(WHOLE_FILE_READS_IN_FLIGHT, Math.ceil(length / WHOLE_FILE_CHUNK)) }, worker));
    return buffer.subarray(0, end);
  } finally {
    await handle.close();
  }
}
