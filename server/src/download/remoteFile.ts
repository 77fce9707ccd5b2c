/**
 * One shard on the Hub, read by byte ranges. The first read goes to the `/resolve/` URL and
 * follows its redirect (a GET with the Range: no separate HEAD), and the signed CDN URL it
 * lands on is kept for every later range of the shard: one resolve per shard. When the CDN
 * refuses the signed URL (HTTP 403: it expired, 3600 s on the real Hub), the shard is resolved
 * again and the read goes on. A range that breaks off midway resumes from the bytes already
 * received. Ranges must be answered with 206 and exactly the bytes asked for.
 */
import {
  concatChunks,
  get,
  HttpError,
  NetOptions,
  readCapped,
  redactUrl,
  ServerFault,
  statusError,
  withRetries,
} from './net';

/** Fresh signed URLs the CDN may refuse in a row before the read fails. */
export const RESOLVES_PER_READ = 3;

export class RemoteFile {
  /** Where ranges go: the signed URL the last resolve led to (undefined: resolve first). */
  private dataUrl: string | undefined;
  /** Requests to `/resolve/` so far (the Hub's rate limit counts these). */
  resolves = 0;

  constructor(
    readonly name: string,
    readonly resolveUrl: string,
    readonly size: number,
    private readonly net: NetOptions,
  ) {}

  /** Bytes [start, end). */
  async read(start: number, end: number): Promise<Uint8Array> {
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && 0 <= start && start < end && end <= this.size)) {
      throw new ServerFault(
        `${this.name}: bytes ${start}-${end - 1} are outside the shard's ${this.size} bytes (its footer is inconsistent)`,
      );
    }
    const chunks: Uint8Array[] = [];
    let got = 0;
    await withRetries(
      `GET ${this.name} bytes ${start}-${end - 1}`,
      this.net,
      async (attempt) => {
        for (let refused = 0; ;) {
          const from = start + got;
          const url = this.dataUrl ?? this.resolveUrl;
          if (!this.dataUrl) this.resolves++;
          const { response, url: landed } = await get(url, this.net, attempt.signal, {
            range: `bytes=${from}-${end - 1}`,
          });
          const where = redactUrl(landed);
          if (response.status === 403 && new URL(landed).origin !== this.net.endpointOrigin) {
            // The CDN refused the signed URL: resolve again (a few times in a row at most).
            await response.body?.cancel().catch(() => undefined);
            this.dataUrl = undefined;
            if (++refused >= RESOLVES_PER_READ)
              throw new ServerFault(
                `GET ${where}: the CDN refused ${RESOLVES_PER_READ} freshly signed URLs in a row (HTTP 403)`,
              );
            continue;
          }
          if (response.status === 200) {
            await response.body?.cancel().catch(() => undefined);
            throw new HttpError(
              200,
              `${where} ignored the Range header (HTTP 200 instead of 206): refusing to download whole shards; use a Hub endpoint or proxy that supports Range requests`,
            );
          }
          if (response.status !== 206) throw await statusError(response, `GET ${where}`);
          this.dataUrl = landed;
          const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
          if (!range || Number(range[1]) !== from || Number(range[2]) > end - 1) {
            await response.body?.cancel().catch(() => undefined);
            throw new ServerFault(
              `GET ${where}: asked for bytes ${from}-${end - 1}, answered ${JSON.stringify(response.headers.get('content-range'))}`,
            );
          }
          if (range[3] !== '*' && Number(range[3]) !== this.size) {
            await response.body?.cancel().catch(() => undefined);
            throw new ServerFault(
              `GET ${where}: the file is ${range[3]} bytes there but ${this.size} in the Hub's listing`,
            );
          }
          await readCapped(response, end - from, `GET ${where} bytes ${from}-${end - 1}`, attempt, (chunk) => {
            chunks.push(chunk);
            got += chunk.length;
            this.net.onBytes?.(chunk.length);
          });
          if (start + got !== end) throw new Error(`short read: ${got} of ${end - start} bytes`);
          return;
        }
      },
      () => got,
    );
    return concatChunks(chunks, got);
  }
}
