/**
 * HTTP for the Hub download: retries with exponential backoff and jitter on resets, timeouts,
 * 429 and 5xx; Range reads that insist on 206 (a server that ignores Range would make us
 * download whole shards); and a token that is only ever sent to the endpoint's own origin.
 */

export class HttpError extends Error {
  /** `message` without where: "HTTP 503 Service Unavailable". */
  readonly brief: string;
  constructor(readonly status: number, message: string, brief?: string) {
    super(message);
    this.brief = brief ?? message;
  }
}

/** A transient failure about to be retried. */
export interface RetryEvent {
  /** The request, e.g. "GET https://host/path" (never a query). */
  what: string;
  /** The attempt about to be made: 2 for the first retry. */
  attempt: number;
  /** Most attempts made. */
  attempts: number;
  /** Why the last attempt failed, in a few words (no URL). */
  reason: string;
  delayMs: number;
}

export interface NetOptions {
  /** Origin (scheme://host:port) of the Hub endpoint: the only place the token may go. */
  endpointOrigin: string;
  token?: string;
  signal?: AbortSignal;
  /** First retry delay; doubled each attempt, plus up to as much again of jitter. */
  retryBaseMs?: number;
  attempts?: number;
  timeoutMs?: number;
  /** Counts payload bytes received (for progress and for the benchmark). */
  onBytes?: (n: number) => void;
  onRetry?: (retry: RetryEvent) => void;
}

const RETRY_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Never print a signed URL's query (it is a credential) — only where it points. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

function headersFor(url: string, options: NetOptions, extra: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': 'neurocache', ...extra };
  if (options.token && new URL(url).origin === options.endpointOrigin) headers.authorization = `Bearer ${options.token}`;
  return headers;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });

/**
 * Runs `attempt` until it succeeds, retrying transient failures. `attempt` receives a signal
 * that also fires on the per-request timeout.
 */
export async function withRetries<T>(what: string, options: NetOptions, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const attempts = options.attempts ?? 6;
  const base = options.retryBaseMs ?? 500;
  for (let n = 1; ; n++) {
    options.signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(options.timeoutMs ?? 60_000);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    try {
      return await attempt(signal);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      const retryAfter = error instanceof RetryableStatus ? error.retryAfterMs : undefined;
      const transient = error instanceof RetryableStatus || !(error instanceof HttpError);
      if (!transient || n >= attempts) throw error instanceof RetryableStatus ? new HttpError(error.status, error.message, error.brief) : error;
      const delay = Math.min(retryAfter ?? base * 2 ** (n - 1) * (1 + Math.random()), 30_000);
      options.onRetry?.({ what, attempt: n + 1, attempts, reason: briefReason(error), delayMs: delay });
      await sleep(delay, options.signal);
    }
  }
}

/** "HTTP 503 Service Unavailable", "fetch failed (ECONNRESET)", "timed out": what went wrong, without where. */
function briefReason(error: unknown): string {
  if (error instanceof HttpError) return error.brief;
  if ((error as Error)?.name === 'TimeoutError') return 'timed out';
  const cause = (error as { cause?: { code?: unknown } })?.cause;
  const code = typeof cause?.code === 'string' ? ` (${cause.code})` : '';
  return `${(error as Error)?.message ?? String(error)}${code}`;
}

class RetryableStatus extends HttpError {
  constructor(status: number, message: string, brief: string, readonly retryAfterMs?: number) {
    super(status, message, brief);
  }
}

function statusError(response: Response, what: string): HttpError {
  const brief = `HTTP ${response.status} ${response.statusText}`.trim();
  const message = `${what}: ${brief}`;
  if (RETRY_STATUS.has(response.status)) {
    const seconds = Number(response.headers.get('retry-after'));
    return new RetryableStatus(response.status, message, brief, Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined);
  }
  return new HttpError(response.status, message, brief);
}

/** A fetch for @huggingface/hub's listing: same retries and token rule; non-transient answers are returned as they are. */
export function retryingFetch(options: NetOptions): typeof fetch {
  return (input, init) =>
    withRetries(`GET ${redactUrl(String(input))}`, options, async (signal) => {
      const url = String(input instanceof Request ? input.url : input);
      const headers = new Headers(init?.headers);
      // The library adds the token itself; drop it if the URL is not the endpoint's.
      if (new URL(url).origin !== options.endpointOrigin) headers.delete('authorization');
      const response = await fetch(url, { ...init, headers, signal });
      if (RETRY_STATUS.has(response.status)) throw statusError(response, `GET ${redactUrl(url)}`);
      return response;
    });
}

/**
 * Follows the Hub's `/resolve/` redirect once, without the token leaving the endpoint, and
 * returns the URL to range-read (the CDN's signed URL, or the resolve URL itself when the
 * endpoint serves the bytes).
 */
export async function resolveDataUrl(resolveUrl: string, options: NetOptions): Promise<string> {
  return withRetries(`resolve ${redactUrl(resolveUrl)}`, options, async (signal) => {
    const response = await fetch(resolveUrl, { method: 'HEAD', redirect: 'manual', headers: headersFor(resolveUrl, options), signal });
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get('location');
      if (!location) throw new HttpError(response.status, `resolve ${redactUrl(resolveUrl)}: redirect without Location`);
      return new URL(location, resolveUrl).href;
    }
    if (response.ok) return resolveUrl;
    throw statusError(response, `resolve ${redactUrl(resolveUrl)}`);
  });
}

/** Reads bytes [start, end) with one Range request; a 200 answer (Range ignored) is an error. */
export async function readRange(url: string, start: number, end: number, options: NetOptions): Promise<Uint8Array> {
  return withRetries(`GET ${redactUrl(url)} bytes ${start}-${end - 1}`, options, async (signal) => {
    const response = await fetch(url, { headers: headersFor(url, options, { range: `bytes=${start}-${end - 1}` }), signal });
    if (response.status === 200) {
      await response.body?.cancel();
      throw new HttpError(200, `${redactUrl(url)} ignored the Range header (HTTP 200 instead of 206): refusing to download whole shards; use a Hub endpoint or proxy that supports Range requests`);
    }
    if (response.status !== 206) {
      await response.body?.cancel();
      throw statusError(response, `GET ${redactUrl(url)}`);
    }
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length !== end - start) throw new Error(`short read: got ${bytes.length} of ${end - start} bytes`);
    options.onBytes?.(bytes.length);
    return bytes;
  });
}
