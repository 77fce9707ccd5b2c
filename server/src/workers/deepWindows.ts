/**
 * Worker half of the deep check: inflates a `windows` member arriving in chunks on a port and
 * scans its values as they come out, so a worker holds a few chunks, never the member. Each
 * chunk is acknowledged once zlib has consumed it; the main thread then releases its bytes
 * from the budget and reads on.
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

/** Inflated bytes zlib hands over at a time. */
const INFLATE_OUTPUT_CHUNK = 1 << 20;

export function deepWindows(task: Extract<Task, { kind: 'deep-windows' }>): Promise<TaskResult<DeepWindowsValue>> {
  const { port } = task;
  let member: DeepMember | undefined;
  let inflater: zlib.InflateRaw | undefined;
  const scan = new WindowValueScan();
  let held = 0;
  let peakHeld = 0;
  let inflated = 0;
  let crc = 0;
  let settled = false;
  return new Promise((resolve) => {
    const settle = (result: TaskResult<DeepWindowsValue>) => {
      if (settled) return;
      settled = true;
      inflater?.destroy();
      port.close();
      resolve(result);
    };
    const fail = (error: unknown) => settle({ ok: false, ...taskFailure(error), bytesRead: 0 });
    const feed = (data: Uint8Array) => {
      // zipfile delivers at most the declared size, and checks the CRC of what it delivered.
      const delivered = data.subarray(0, Math.max(0, member!.uncompressedSize - inflated));
      crc = crc32(delivered, crc);
      inflated += data.length;
      try {
        scan.push(data);
      } catch (error) {
        fail(error instanceof NpyHeaderError ? new FormatError(error.message) : error);
      }
    };
    const finish = () => {
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
        settle({
          ok: true,
          value: { values: scan.finish(), inflatedBytes: inflated, peakHeldBytes: peakHeld },
          bytesRead: 0,
        });
      } catch (error) {
        fail(error);
      }
    };
    const consumed = (bytes: number) => {
      held -= bytes;
      if (!settled) port.postMessage({ consumed: bytes } satisfies DeepConsumedMessage);
    };
    const start = (found: DeepMember) => {
      member = found;
      if (found.method !== 8) return;
      inflater = zlib.createInflateRaw({ chunkSize: INFLATE_OUTPUT_CHUNK });
      inflater.on('data', feed);
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
