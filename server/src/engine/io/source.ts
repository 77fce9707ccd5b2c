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
    throw new FormatError(
      `truncated file: ${what} lies outside the file (bytes ${offset}..${offset + length} of ${source.size})`,
    );
  }
  const bytes = await source.read(offset, length);
  if (bytes.length !== length) throw new FormatError(`truncated file: short read of ${what}`);
  return bytes;
}

/** A byte range of a source already read. */
export interface ByteSpan {
  offset: number;
  bytes: Uint8Array;
}

/**
 * A source whose planned ranges are fetched side by side (`prefetch`: on network storage one
 * round trip for all) and then answered from memory; a read that ends inside a fetched range
 * reads only the bytes before it, and any other read goes to the underlying source (without
 * being kept, so streaming a large member does not accumulate it). The spans are plain data:
 * they can cross to a worker thread and back a cache there.
 */
export class SpanCache implements ByteSource {
  readonly spans: ByteSpan[];

  constructor(
    readonly size: number,
    private readonly source: ByteSource | undefined,
    spans: ByteSpan[] = [],
  ) {
    this.spans = [...spans];
  }

  /** `source` itself when it already is a cache, else a new cache over it. */
  static over(source: ByteSource): SpanCache {
    return source instanceof SpanCache ? source : new SpanCache(source.size, source);
  }

  /** Fetches the parts of `ranges` ([start, end) pairs) not held yet, all at once. */
  async prefetch(ranges: [number, number][]): Promise<void> {
    const wanted = ranges
      .map(([start, end]) => this.missing(Math.max(0, start), Math.min(this.size, end)))
      .filter(([start, end]) => end > start)
      .sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const range of wanted) {
      const last = merged[merged.length - 1];
      if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
      else merged.push([...range]);
    }
    const fetched = await Promise.all(merged.map(([start, end]) => this.from(start, end - start)));
    merged.forEach(([start], i) => this.spans.push({ offset: start, bytes: fetched[i] }));
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = Math.min(this.size, offset + length);
    // At or past the end (a header field pointing beyond the file): nothing, as a file read returns.
    if (end <= offset) return new Uint8Array(0);
    const [gapStart, gapEnd] = this.missing(offset, end);
    if (gapEnd <= gapStart) return this.assemble(offset, end);
    // Only a front is missing (a member that starts before the tail): read just that.
    if (gapStart === offset && gapEnd < end) {
      const front = await this.from(offset, gapEnd - offset);
      if (front.length < gapEnd - offset) return front;
      const out = new Uint8Array(end - offset);
      out.set(front);
      out.set(this.assemble(gapEnd, end), front.length);
      return out;
    }
    return this.from(offset, length);
  }

  /** [start, end) shrunk by the held bytes at both ends: what is still to read. */
  private missing(start: number, end: number): [number, number] {
    for (let moved = true; moved && start < end;) {
      moved = false;
      for (const s of this.spans) {
        const spanEnd = s.offset + s.bytes.length;
        if (s.offset <= start && start < spanEnd) {
          start = spanEnd;
          moved = true;
        } else if (s.offset < end && end <= spanEnd) {
          end = s.offset;
          moved = true;
        }
      }
    }
    return [start, Math.max(start, end)];
  }

  /** The bytes of [start, end), all held (in one span or several adjacent ones). */
  private assemble(start: number, end: number): Uint8Array {
    const parts: Uint8Array[] = [];
    for (let at = start; at < end;) {
      const span = this.spans.find((s) => s.offset <= at && at < s.offset + s.bytes.length)!;
      const piece = span.bytes.subarray(at - span.offset, Math.min(end, span.offset + span.bytes.length) - span.offset);
      if (piece.length === end - start) return piece;
      parts.push(piece);
      at += piece.length;
    }
    const out = new Uint8Array(end - start);
    let filled = 0;
    for (const piece of parts) {
      out.set(piece, filled);
      filled += piece.length;
    }
    return out;
  }

  private from(offset: number, length: number): Promise<Uint8Array> {
    if (!this.source)
      throw new Error(`bytes ${offset}..${offset + length} were not fetched and there is no source to read them from`);
    return this.source.read(offset, length);
  }
}

/** Chunk sizes of a streamed read: the first (e.g. the rest of a span already fetched), then the size of every other. */
export interface ChunkPlan {
  first?: number;
  size?: number;
}

/** Yields the range [offset, offset+length) in chunks, for streaming inflates. */
export async function* readChunks(
  source: ByteSource,
  offset: number,
  length: number,
  plan: ChunkPlan = {},
): AsyncGenerator<Uint8Array> {
  const end = offset + length;
  const chunkSize = plan.size ?? 1 << 20;
  for (let at = offset, wanted = plan.first || chunkSize; at < end; wanted = chunkSize) {
    const chunk = await source.read(at, Math.min(wanted, end - at));
    if (chunk.length === 0) throw new FormatError('truncated file: unexpected end of data');
    at += chunk.length;
    yield chunk;
  }
}
