/**
 * Random-access bytes handed to the engine. The engine never opens files itself: workers pass
 * a file-backed source (positional reads), tests pass in-memory ones. Offsets are plain numbers,
 * exact up to 2^53, so caches far beyond 2 GiB work.
 */
export interface ByteSource {
  readonly size: number;
  /** Reads exactly `length` bytes at `offset`, or fewer only at the end of the source. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A failure that describes bad input (as opposed to a bug); its message is shown to users. */
export class FormatError extends Error {
  override name = 'FormatError';
}

export function memorySource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    async read(offset, length) {
      return bytes.subarray(offset, Math.min(bytes.length, offset + length));
    },
  };
}

/** Reads exactly `length` bytes or throws a FormatError naming what was being read. */
export async function readExact(source: ByteSource, offset: number, length: number, what: string): Promise<Uint8Array> {
  if (offset < 0 || offset + length > source.size) {
    throw new FormatError(`truncated file: ${what} lies outside the file (bytes ${offset}..${offset + length} of ${source.size})`);
  }
  const bytes = await source.read(offset, length);
  if (bytes.length !== length) throw new FormatError(`truncated file: short read of ${what}`);
  return bytes;
}

/**
 * A source whose last `length` bytes are fetched in one read up front. On network storage every
 * read is a round trip, and an NPZ keeps its end records, central directory and (numpy writes
 * it last) usually its whole `labels` member in the final few KiB: reads inside the tail are
 * then answered from memory, and a read that ends inside it fetches only the bytes before it.
 */
export async function prefetchTail(source: ByteSource, length: number): Promise<ByteSource> {
  const start = Math.max(0, source.size - length);
  const tail = await source.read(start, source.size - start);
  const end = start + tail.length;
  return {
    size: source.size,
    async read(offset, length) {
      if (offset >= start && offset + length <= end) return tail.subarray(offset - start, offset - start + length);
      if (offset < start && offset + length > start && offset + length <= end) {
        const before = await source.read(offset, start - offset);
        if (before.length < start - offset) return before;
        return Buffer.concat([before, tail.subarray(0, offset + length - start)]);
      }
      return source.read(offset, length);
    },
  };
}

/** Yields the range [offset, offset+length) in chunks, for streaming inflates. */
export async function* readChunks(source: ByteSource, offset: number, length: number, chunkSize = 1 << 20): AsyncGenerator<Uint8Array> {
  const end = offset + length;
  for (let at = offset; at < end; ) {
    const chunk = await source.read(at, Math.min(chunkSize, end - at));
    if (chunk.length === 0) throw new FormatError('truncated file: unexpected end of data');
    at += chunk.length;
    yield chunk;
  }
}
