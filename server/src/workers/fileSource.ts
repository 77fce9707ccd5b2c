/**
 * A file as a ByteSource: positional reads on an open handle, counted (reads and bytes) for the
 * I/O figures the CLI and the benchmarks report. Used by the pool's readers on the main thread
 * and by the workers.
 */
import { promises as fs } from 'node:fs';
import { ByteSource, FormatError } from '../engine/io/source';

export interface FileSource extends ByteSource {
  /** Read requests made and bytes they returned. */
  readonly reads: number;
  readonly bytesRead: number;
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
