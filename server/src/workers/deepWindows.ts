/**
 * Worker half of the deep check: inflates a `windows` member arriving in chunks on a port and
 * scans its values as they come out, so a worker holds a few chunks, never the member. Each
 * chunk is acknowledged once zlib has consumed it; the main thread then releases its bytes
 * from the budget and reads on.
 *
 * Everything here but zlib is overhead on the inflate bound, so it is kept small: zlib hands
 * over few, large output chunks (each scanned in place through a typed-array view, never
 * copied together), the CRC is zlib's native one, and the time this thread spends on each part
 * is measured for the benchmark's account of where the time goes.
 */
import * as zlib from 'node:zlib';
import { crc32 } from '../engine/io/inflate';
import { FormatError } from '../engine/io/source';
import { NpyHeaderError } from '../engine/numpy/npy';
import { WindowValueScan } from '../engine/eeg/windowValues';
import { taskFailure } from './fileSource';
import type {
  DeepChunkMessage,
  DeepConsumedMessage,
  DeepMember,
  DeepWindowsValue,
  DeepWorkerMessage,
  Task,
  TaskResult,
} from './tasks';

/**
 * Inflated bytes zlib hands over at a time. Large, because each chunk costs a round trip
 * through libuv's thread pool, a fresh buffer and a callback; not larger, so a chunk is still in
 * the cache when the CRC and the scan read it right after zlib wrote it. Also the most inflated
 * bytes a worker holds at once (zlib's buffer being filled aside).
 */
export const INFLATE_OUTPUT_CHUNK = 2 << 20;

export function deepWindows(task: Extract<Task, { kind: 'deep-windows' }>): Promise<TaskResult<DeepWindowsValue>> {
  const { port } = task;
  let member: DeepMember | undefined;
  let inflater: zlib.InflateRaw | undefined;
  const scan = new WindowValueScan();
  let held = 0;
  let peakHeld = 0;
  let largestOutput = 0;
  let inflated = 0;
  let crc = 0;
  let settled = false;
  // Where this task's time goes, from its first chunk to its end (milliseconds).
  let firstChunkAt = 0;
  let checkMs = 0;
  let crcMs = 0;
  let starvedMs = 0;
  let starvedSince = 0;
  return new Promise((resolve) => {
    const settle = (result: TaskResult<DeepWindowsValue>) => {
      if (settled) return;
      settled = true;
      inflater?.destroy();
      port.close();
      resolve(result);
    };
    const fail = (error: unknown) => settle({ ok: false, ...taskFailure(error), bytesRead: 0 });
    // zlib's 'data' comes before it queues the next piece of inflating: scanning a chunk right
    // away would leave zlib idle meanwhile, so chunks are scanned just after, while it inflates.
    const queued: Uint8Array[] = [];
    const drain = () => {
      for (let chunk = queued.shift(); chunk && !settled; chunk = queued.shift()) feed(chunk);
    };
    const later = (data: Uint8Array) => {
      if (queued.push(data) === 1) queueMicrotask(drain);
    };
    const feed = (data: Uint8Array) => {
      const started = performance.now();
      // zipfile delivers at most the declared size, and checks the CRC of what it delivered.
      const delivered =
        inflated + data.length <= member!.uncompressedSize
          ? data
          : data.subarray(0, Math.max(0, member!.uncompressedSize - inflated));
      crc = crc32(delivered, crc);
      const crcDone = performance.now();
      inflated += data.length;
      largestOutput = Math.max(largestOutput, data.length);
      try {
        scan.push(data);
      } catch (error) {
        fail(error instanceof NpyHeaderError ? new FormatError(error.message) : error);
      }
      crcMs += crcDone - started;
      checkMs += performance.now() - crcDone;
    };
    const finish = () => {
      drain();
      if (settled) return;
      // np.load reads the whole member, so zipfile reaches its end and checks the CRC.
      if (inflated >= member!.uncompressedSize && crc >>> 0 !== member!.crc32) {
        return fail(
          new FormatError(
            'windows fails its CRC-32 check (corrupt data): np.load raises zipfile.BadZipFile on every window',
          ),
        );
      }
      try {
        const values = scan.finish();
        const busyMs = firstChunkAt ? performance.now() - firstChunkAt : 0;
        settle({
          ok: true,
          value: {
            values,
            inflatedBytes: inflated,
            peakHeldBytes: peakHeld,
            largestOutputBytes: largestOutput,
            time: {
              inflateMs: Math.max(0, busyMs - starvedMs),
              checkMs,
              crcMs,
              starvedMs,
            },
          },
          bytesRead: 0,
        });
      } catch (error) {
        fail(error);
      }
    };
    const consumed = (bytes: number) => {
      held -= bytes;
      // Nothing left to inflate until the next chunk arrives: the reader is behind.
      if (held === 0) starvedSince = performance.now();
      if (!settled) port.postMessage({ consumed: bytes } satisfies DeepConsumedMessage);
    };
    const start = (found: DeepMember) => {
      member = found;
      if (found.method !== 8) return;
      inflater = zlib.createInflateRaw({ chunkSize: INFLATE_OUTPUT_CHUNK });
      inflater.on('data', later);
      inflater.on('end', finish);
      inflater.on('error', (error: NodeJS.ErrnoException) => {
        const truncated = error.code === 'Z_BUF_ERROR';
        // zipfile raises EOFError on a deflate stream cut short, zlib.error on an invalid one.
        fail(
          new FormatError(
            truncated
              ? "windows' compressed data ends early (truncated): np.load raises EOFError"
              : `windows' compressed data is corrupt (${error.message}): np.load raises zlib.error`,
          ),
        );
      });
    };
    port.on('message', (message: DeepChunkMessage) => {
      if (settled) return;
      if ('member' in message) start(message.member);
      else if (!member)
        fail(new FormatError('no windows member to check')); // the reader gave up before it began
      else if ('chunk' in message) {
        const now = performance.now();
        if (!firstChunkAt) firstChunkAt = now;
        else if (held === 0) starvedMs += now - starvedSince;
        const length = message.chunk.length;
        held += length;
        peakHeld = Math.max(peakHeld, held);
        if (inflater) inflater.write(message.chunk, () => consumed(length));
        else {
          feed(message.chunk);
          consumed(length);
        }
      } else if (inflater) inflater.end();
      else finish();
    });
    // Now running on a thread: the reader may start drawing on the byte budget.
    port.postMessage({ started: true } satisfies DeepWorkerMessage);
  });
}
