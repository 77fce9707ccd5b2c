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
 * whatever the truncated input already determines instead of failing on the missing end.
 */
export function inflateRawPrefix(compressed: Uint8Array): Uint8Array {
  try {
    return zlib.inflateRawSync(compressed, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  } catch (error) {
    throw asFormatError(error);
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
}

/**
 * Inflates a whole raw-deflate buffer into one reused output buffer, piece by piece: each
 * yielded piece is valid only until the next one is asked for (the caller counts it and moves
 * on; nothing is concatenated and no fresh memory is touched, which cost more than the
 * inflating itself: inflating, checking and counting the bench's 8 label members of 3.7 MB in
 * a fresh process took 34 ms of CPU this way, 57 ms with `inflateRawSync`'s 256 KiB chunks
 * concatenated). The generator's result is true only when
 * the stream ended exactly at the input's end within `limit` bytes of output; on anything else
 * (invalid or truncated data, bytes after the end, more output than `limit`) it stops early
 * with false and the caller reads the member the exact way to learn what went wrong.
 *
 * node:zlib has no public synchronous streaming call, so this drives the stream's native handle
 * the way `inflateRawSync` itself does; where a Node lacks it the whole output is one piece.
 */
export function* inflateRawPieces(compressed: Uint8Array, limit: number): Generator<Uint8Array, boolean> {
  const stream = zlib.createInflateRaw() as unknown as { _handle?: Partial<ZlibHandle>; _writeState?: Uint32Array };
  const handle = stream._handle;
  const state = stream._writeState;
  if (typeof handle?.writeSync !== 'function' || !(state instanceof Uint32Array)) {
    (stream as unknown as zlib.InflateRaw).close();
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
  let failed = false;
  handle.onerror = () => (failed = true);
  const output = Buffer.allocUnsafeSlow(PIECE_SIZE);
  let inOffset = 0;
  let produced = 0;
  try {
    for (;;) {
      const inLength = compressed.length - inOffset;
      handle.writeSync(zlib.constants.Z_FINISH, compressed, inOffset, inLength, output, 0, output.length);
      if (failed) return false;
      const have = output.length - state[0];
      inOffset += inLength - state[1];
      produced += have;
      if (produced > limit) return false;
      if (have > 0) yield output.subarray(0, have);
      // A full buffer: more output may follow. Otherwise the stream has ended (Z_FINISH reports a cut stream as an error).
      if (state[0] !== 0) return inOffset === compressed.length;
    }
  } finally {
    (stream as unknown as zlib.InflateRaw).close();
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
