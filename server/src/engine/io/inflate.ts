/**
 * Inflation helpers. We use node:zlib rather than fflate for the big streams: measured on this
 * class of machine, node:zlib inflates 2.5-3x faster (NOTES.md: 256^3 mask 49 ms vs 123 ms).
 */
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { FormatError } from './source';

/**
 * Inflates a stream of compressed chunks (raw deflate for ZIP members, gzip for .nii.gz).
 * `cutShort: 'ends'` ends quietly where the input is cut short (the caller checks it got what it
 * needs, as a reader that stops at the bytes it wants would) instead of failing there.
 */
export async function* inflateChunks(
  input: AsyncIterable<Uint8Array>,
  format: 'raw' | 'gzip',
  cutShort: 'fails' | 'ends' = 'fails',
): AsyncGenerator<Uint8Array> {
  const options = { chunkSize: 1 << 20, ...(cutShort === 'ends' ? { finishFlush: zlib.constants.Z_SYNC_FLUSH } : {}) };
  const inflater = format === 'raw' ? zlib.createInflateRaw(options) : zlib.createGunzip(options);
  const source = Readable.from(input, { objectMode: false });
  source.on('error', (error) => inflater.destroy(error));
  source.pipe(inflater);
  try {
    for await (const chunk of inflater) yield chunk as Buffer;
  } catch (error) {
    throw asFormatError(error);
  } finally {
    source.destroy();
    inflater.destroy();
  }
}

/**
 * Inflates only the start of a raw-deflate prefix (for `.npy` headers): a sync flush returns
 * whatever the truncated input already determines instead of failing on the missing end, up to
 * `limit` bytes when one is given.
 */
export function inflateRawPrefix(compressed: Uint8Array, limit?: number): Uint8Array {
  // With a limit, at most that much is inflated: a 256-byte prefix of zeros inflates to ~260 KB,
  // which a 6-byte magic or a 128-byte header never needs (it was 0.1 ms and 260 KB of garbage
  // per member read).
  const inflater = limit === undefined ? undefined : PieceInflater.open({ size: limit });
  try {
    if (!inflater) return zlib.inflateRawSync(compressed, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const first = inflater.write(compressed, false).next();
    return first.done ? new Uint8Array(0) : first.value;
  } catch (error) {
    throw asFormatError(error);
  } finally {
    inflater?.close();
  }
}

/**
 * Inflates a whole raw-deflate buffer, producing at most `limit` bytes: a stream that would
 * inflate further is cut there (the caller sees the overrun) instead of exhausting memory.
 */
export const INFLATE_CHUNK = 256 << 10;

export function inflateRawAll(compressed: Uint8Array, limit: number): Uint8Array {
  try {
    // 256 KiB output chunks: measured on 3.7 MB of labels, 1.3 ms against 5.0 ms with the 16 KiB
    // default (per-chunk round trips) and 3.5 ms with one chunk of the whole size (allocation).
    return zlib.inflateRawSync(compressed, { maxOutputLength: limit, chunkSize: INFLATE_CHUNK });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new FormatError(
        `member inflates beyond the ${limit - 1} bytes its .npy header declares (ZIP bomb or corrupt data)`,
      );
    }
    throw asFormatError(error);
  }
}

/** Bytes of output per piece of `inflateRawPieces`: stays in the core's cache while the caller reads it. */
export const PIECE_SIZE = 256 << 10;

/** The native handle behind a node:zlib stream, as lib/zlib.js drives it in its own synchronous calls. */
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOffset: number,
    inLength: number,
    output: Uint8Array,
    outOffset: number,
    outLength: number,
  ): void;
  onerror: (message: string, errno: number) => void;
  reset(): void;
}

/**
 * A raw-deflate inflater driven synchronously into one reused output buffer: each piece it
 * yields is valid only until the next one is asked for (the caller counts it and moves on;
 * nothing is concatenated and no fresh memory is touched, which cost more than the inflating
 * itself: inflating, checking and counting the bench's 8 label members of 3.7 MB in a fresh
 * process took 34 ms of CPU this way, 57 ms with `inflateRawSync`'s 256 KiB chunks concatenated;
 * a 256³ uint8 mask counted 9.9 ms through the zlib stream's 1 MiB chunks, ~1 ms this way).
 *
 * node:zlib has no public synchronous streaming call, so this drives the stream's native handle
 * the way `inflateRawSync` itself does; `open` returns undefined where a Node lacks it.
 */
/**
 * Output buffers of closed inflaters, for the next ones: a fresh 256 KiB of external memory per
 * file made V8 collect garbage on other threads during every count (a 256³ mask's count took
 * ~2 ms more CPU than wall time).
 */
const spareOutputs: Uint8Array[] = [];

/** zlib's error codes by name, as node:zlib's stream errors carry them (`code`). */
const ZLIB_ERROR_CODES = [
  'Z_NEED_DICT',
  'Z_ERRNO',
  'Z_STREAM_ERROR',
  'Z_DATA_ERROR',
  'Z_MEM_ERROR',
  'Z_BUF_ERROR',
  'Z_VERSION_ERROR',
] as const;
const MAX_SPARE_OUTPUTS = 4;

/**
 * Inflate streams of closed inflaters, reset, for the next ones: making a node:zlib stream (its
 * Transform, its native handle and zlib's state) cost ~0.08 ms warm and several times that cold,
 * twice per NPZ file (the `windows` header and `labels`), more than a small member's inflating.
 */
const spareStreams: zlib.InflateRaw[] = [];
const MAX_SPARE_STREAMS = 2;

class PieceInflater {
  private failure: Error | undefined;
  /** Output bytes so far. */
  produced = 0;
  /** Whether the deflate stream has reached its final block's end. */
  ended = false;

  private constructor(
    private readonly stream: zlib.InflateRaw,
    private readonly handle: ZlibHandle,
    private readonly state: Uint32Array,
    /** Where every piece is inflated: PIECE_SIZE bytes (kept for the next inflater), a smaller one of its own, or the caller's. */
    private readonly output: Uint8Array,
    /** Whether `output` goes to spareOutputs when closed (not when it is the caller's or smaller). */
    private readonly spare: boolean,
  ) {
    handle.onerror = (message, errno) => {
      const code = ZLIB_ERROR_CODES.find((name) => zlib.constants[name] === errno);
      this.failure = Object.assign(new Error(message), { errno, code });
    };
  }

  /**
   * An inflater whose pieces are at most `size` bytes, written `into` the caller's buffer when
   * given (e.g. one a counter reads in place; the caller keeps it).
   */
  static open(pieces: { size?: number; into?: Uint8Array } = {}): PieceInflater | undefined {
    const stream = spareStreams.pop() ?? zlib.createInflateRaw();
    const inner = stream as unknown as { _handle?: Partial<ZlibHandle>; _writeState?: Uint32Array };
    const { _handle: handle, _writeState: state } = inner;
    if (
      typeof handle?.writeSync !== 'function' ||
      typeof handle.reset !== 'function' ||
      !(state instanceof Uint32Array)
    ) {
      stream.close();
      return undefined;
    }
    const { size = PIECE_SIZE, into } = pieces;
    const spare = into === undefined && size === PIECE_SIZE;
    const output =
      into ?? (spare ? (spareOutputs.pop() ?? Buffer.allocUnsafeSlow(PIECE_SIZE)) : Buffer.allocUnsafe(size));
    return new PieceInflater(stream, handle as ZlibHandle, state, output, spare);
  }

  /**
   * Inflates `input` (the next compressed bytes), yielding the output piece by piece, and
   * returns how many input bytes the stream consumed: fewer than all once it has ended (the
   * rest is what follows the deflate data). `last` says no more input follows, so a stream
   * cut short there fails (Z_FINISH) instead of waiting for more (Z_SYNC_FLUSH).
   */
  *write(input: Uint8Array, last: boolean): Generator<Uint8Array, number> {
    const flush = last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH;
    const { output, state } = this;
    let inOffset = 0;
    while (!this.ended) {
      const inLength = input.length - inOffset;
      this.handle.writeSync(flush, input, inOffset, inLength, output, 0, output.length);
      if (this.failure) throw this.failure;
      const have = output.length - state[0];
      const consumed = inLength - state[1];
      inOffset += consumed;
      this.produced += have;
      if (have > 0) yield output.subarray(0, have);
      if (state[0] === 0) continue; // A full buffer: more output may follow.
      // Room left over: the stream has ended (input left, or none follows), or it needs more input.
      if (inOffset < input.length || last) this.ended = true;
      else break;
    }
    return inOffset;
  }

  close(): void {
    // A stream that did not fail is reset for the next inflater (inflateReset: its window and
    // state kept, nothing allocated); one that failed is closed.
    if (this.failure || spareStreams.length >= MAX_SPARE_STREAMS) this.stream.close();
    else {
      this.handle.reset();
      spareStreams.push(this.stream);
    }
    if (this.spare && spareOutputs.length < MAX_SPARE_OUTPUTS && !spareOutputs.includes(this.output))
      spareOutputs.push(this.output);
  }
}

/**
 * Inflates a whole raw-deflate buffer piece by piece (see PieceInflater: a piece is valid only
 * until the next is asked for). The generator's result is true only when the stream ended
 * exactly at the input's end within `limit` bytes of output; on anything else (invalid or
 * truncated data, bytes after the end, more output than `limit`) it stops early with false and
 * the caller reads the member the exact way to learn what went wrong. Where a Node lacks the
 * native handle the whole output is one piece. `output` as for `inflateRawPiecesOf`.
 */
export function* inflateRawPieces(
  compressed: Uint8Array,
  limit: number,
  output?: Uint8Array,
): Generator<Uint8Array, boolean> {
  const inflater = PieceInflater.open({ into: output });
  if (inflater === undefined) {
    let whole: Uint8Array;
    try {
      whole = zlib.inflateRawSync(compressed, { maxOutputLength: limit + 1, chunkSize: INFLATE_CHUNK });
    } catch {
      return false;
    }
    if (whole.length > limit) return false;
    yield whole;
    return true;
  }
  try {
    const pieces = inflater.write(compressed, true);
    for (let next = pieces.next(); ; next = pieces.next()) {
      if (inflater.produced > limit) return false;
      if (next.done) return next.value === compressed.length;
      yield next.value;
    }
  } catch {
    return false;
  } finally {
    inflater.close();
  }
}

/**
 * Inflates a stream of compressed chunks of one raw-deflate stream piece by piece (a piece is
 * valid only until the next is asked for), ending quietly where the deflate data ends (what
 * follows is ignored) or where the input is cut short (the caller checks it got what it needs,
 * as a reader that stops at the bytes it wants would), like `inflateChunks(input, 'raw', 'ends')`
 * which it falls back to where a Node lacks the native handle. `output`, when given, is the
 * buffer the pieces are written into (e.g. one a counter reads in place); the caller keeps it.
 */
export async function* inflateRawPiecesOf(
  input: AsyncIterable<Uint8Array>,
  output?: Uint8Array,
): AsyncGenerator<Uint8Array> {
  for await (const run of inflateRawPieceRunsOf(input, output)) yield* run;
}

/**
 * `inflateRawPiecesOf` a run at a time: for each compressed chunk, the pieces it inflates to, to
 * be taken synchronously (each valid until the next; a run must be taken whole before the next
 * is asked for). A reader that consumes pieces synchronously waits once per compressed chunk
 * instead of once per piece: a 256³ float32 mask is 256 pieces of one chunk, and the per-piece
 * hand-offs of an async generator cost ~5% of its inflating.
 */
export async function* inflateRawPieceRunsOf(
  input: AsyncIterable<Uint8Array>,
  output?: Uint8Array,
): AsyncGenerator<Iterable<Uint8Array>> {
  const inflater = PieceInflater.open({ into: output });
  if (inflater === undefined) {
    for await (const chunk of inflateChunks(input, 'raw', 'ends')) yield [chunk];
    return;
  }
  try {
    for await (const chunk of input) {
      yield formatErrorsOf(inflater.write(chunk, false));
      if (inflater.ended) return;
    }
  } catch (error) {
    throw asFormatError(error);
  } finally {
    inflater.close();
  }
}

function* formatErrorsOf(pieces: Iterable<Uint8Array>): Generator<Uint8Array> {
  try {
    yield* pieces;
  } catch (error) {
    throw asFormatError(error);
  }
}

export function crc32(data: Uint8Array, previous = 0): number {
  return zlib.crc32(data, previous);
}

/** A deflate stream that is invalid (`truncated` false) or ends before its final block (`truncated` true). */
export class InflateError extends FormatError {
  constructor(
    message: string,
    readonly truncated: boolean,
  ) {
    super(message);
  }
}

function asFormatError(error: unknown): Error {
  if (error instanceof FormatError) return error;
  const code = (error as { code?: string }).code ?? '';
  if (code.startsWith('Z_'))
    return new InflateError(`corrupt compressed data (${(error as Error).message})`, code === 'Z_BUF_ERROR');
  return error as Error;
}
