/**
 * HTTP for the Hub download, for links that are slow, flaky, rate-limited or hostile:
 * - an idle timeout, not a total one: an attempt fails when fewer than MIN_BYTES_PER_SECOND
 *   arrive in an idle window (no answer, no bytes, or a drip), however long the body is;
 * - retries with exponential backoff and jitter on resets, timeouts, 408/425/5xx; the Hub's
 *   429 waits what its `RateLimit` header says (`t` + 1 s, as huggingface_hub does) or what
 *   `Retry-After` says, with its own budget;
 * - every body capped at what was asked: the request fails the moment more arrives (a
 *   `Content-Length` larger than asked fails before the first byte), and no buffer is sized
 *   from a header, only from bytes received;
 * - redirects followed here, so that the token only ever goes to the endpoint's origin and a
 *   loop or a redirect to `file:` is reported with the real URL.
 */

import { formatWait } from '../protocol';

export { formatWait };

export class HttpError extends Error {
  /** `message` without where: "HTTP 503 Service Unavailable". */
  readonly brief: string;
  constructor(
    readonly status: number,
    message: string,
    brief?: string,
    readonly hub: HubErrorHeaders = {},
  ) {
    super(message);
    this.brief = brief ?? message;
  }
}

/** What the Hub says about a refusal besides its status (huggingface_hub reads the same headers). */
export interface HubErrorHeaders {
  /** `X-Error-Code`: RepoNotFound, GatedRepo, RevisionNotFound, EntryNotFound … */
  errorCode?: string;
  /** `X-Error-Message`, e.g. "Invalid credentials in Authorization header". */
  errorMessage?: string;
  /** The Hub's rate limit was hit (429). */
  rateLimited?: boolean;
}

/**
 * The server broke HTTP in a way a retry will not mend: more bytes than asked, another range
 * than asked, a redirect loop, a redirect to something other than http(s). A network or server
 * fault, never a property of the data.
 */
export class ServerFault extends Error {}

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
  /** The Hub's rate limit: the wait is the Hub's, not a backoff. */
  rateLimited?: boolean;
}

export interface NetOptions {
  /** Origin (scheme://host:port) of the Hub endpoint: the only place the token may go. */
  endpointOrigin: string;
  token?: string;
  signal?: AbortSignal;
  /** First retry delay; doubled each attempt, plus up to as much again of jitter. */
  retryBaseMs?: number;
  attempts?: number;
  /** The idle window (default IDLE_TIMEOUT_MS): an attempt fails when it brings less than MIN_BYTES_PER_SECOND over one. */
  idleTimeoutMs?: number;
  /** Multiplies every wait (backoff and the Hub's); tests make waits short this way, messages keep the Hub's numbers. */
  waitScale?: number;
  /** Counts payload bytes as they arrive (for progress and for the benchmark). */
  onBytes?: (n: number) => void;
  onRetry?: (retry: RetryEvent) => void;
}

/** Default idle window. */
export const IDLE_TIMEOUT_MS = 30_000;
/**
 * The slowest body accepted, averaged over each idle window: a 1-byte/s drip fails after one
 * window (twice: see STALL_ATTEMPTS), while a 1.8 KB/s link keeps going.
 */
export const MIN_BYTES_PER_SECOND = 100;
/** Attempts of one request that may stall (no or too few bytes for a window) before it fails. */
export const STALL_ATTEMPTS = 2;
/** The longest wait accepted from a 429 or Retry-After; a longer one fails at once, saying so. */
export const MAX_SERVER_WAIT_MS = 3_600_000;
/** Rate-limit waits per request, beyond the ordinary attempts. */
export const RATE_LIMIT_WAITS = 12;
/** An attempt that brought this much resets the attempt count: a long body on a flaky link needs many. */
const PROGRESS_RESETS_ATTEMPTS = 256 * 1024;
const MAX_BACKOFF_MS = 30_000;
const MAX_REDIRECTS = 10;
const RETRY_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/** Never print a signed URL's query (it is a credential) — only where it points (any scheme). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return JSON.stringify(url.split('?')[0]);
  }
}

function headersFor(url: string, options: NetOptions, extra: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': 'neurocache', ...extra };
  if (options.token && new URL(url).origin === options.endpointOrigin)
    headers.authorization = `Bearer ${options.token}`;
  return headers;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

/** An attempt that got no bytes, or too few, for an idle window. */
class StallError extends Error {
  constructor(
    readonly received: number,
    readonly windowMs: number,
  ) {
    const window = windowMs < 60_000 ? `${Number((windowMs / 1000).toFixed(1))} s` : formatWait(windowMs);
    super(
      received
        ? `too slow: ${received} bytes in ${window} (at least ${MIN_BYTES_PER_SECOND} B/s needed)`
        : `no data for ${window}`,
    );
  }
}

class RetryableStatus extends HttpError {
  constructor(
    status: number,
    message: string,
    brief: string,
    hub: HubErrorHeaders,
    readonly waitMs?: number,
  ) {
    super(status, message, brief, hub);
  }
}

/** What an attempt tells the watchdog, and the signal that ends it. */
export interface Attempt {
  signal: AbortSignal;
  received(n: number): void;
}

/**
 * Runs `attempt` until it succeeds, retrying transient failures. Each attempt gets a signal
 * that fires when it idles (the watchdog) or the run is cancelled. `progress` (bytes kept so
 * far) lets an attempt that moved the body forward start the attempt count again.
 */
export async function withRetries<T>(
  what: string,
  options: NetOptions,
  attempt: (a: Attempt) => Promise<T>,
  progress?: () => number,
): Promise<T> {
  const attempts = options.attempts ?? 6;
  const base = options.retryBaseMs ?? 500;
  const idle = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  const floor = Math.max(1, Math.ceil((idle / 1000) * MIN_BYTES_PER_SECOND));
  const scale = options.waitScale ?? 1;
  let failures = 0;
  let stalls = 0;
  let rateWaits = 0;
  let kept = progress?.() ?? 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const controller = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    let window = 0;
    const watchdog = setInterval(() => {
      if (window < floor) controller.abort(new StallError(window, idle));
      window = 0;
    }, idle);
    try {
      return await attempt({ signal, received: (n) => (window += n) });
    } catch (caught) {
      if (options.signal?.aborted) throw options.signal.reason;
      const error = controller.signal.aborted ? (controller.signal.reason as Error) : caught;
      if (error instanceof ServerFault || (error instanceof HttpError && !(error instanceof RetryableStatus)))
        throw error;
      const now = progress?.() ?? 0;
      if (now - kept >= PROGRESS_RESETS_ATTEMPTS) failures = 0;
      kept = now;
      let delay: number;
      let rateLimited = false;
      if (error instanceof RetryableStatus && error.hub.rateLimited) {
        rateLimited = true;
        const wait = error.waitMs ?? base * 2 ** Math.min(rateWaits, 10) * (1 + Math.random());
        if (++rateWaits > RATE_LIMIT_WAITS || wait > MAX_SERVER_WAIT_MS) throw finalError(error, wait);
        delay = wait;
      } else {
        if (error instanceof StallError && ++stalls >= STALL_ATTEMPTS)
          throw new Error(`${what}: ${error.message}, ${STALL_ATTEMPTS} times`);
        if (++failures >= attempts)
          throw error instanceof RetryableStatus
            ? new HttpError(error.status, error.message, error.brief, error.hub)
            : error;
        const asked = error instanceof RetryableStatus ? error.waitMs : undefined;
        if (asked !== undefined && asked > MAX_SERVER_WAIT_MS) throw finalError(error as RetryableStatus, asked);
        delay = asked ?? Math.min(base * 2 ** (failures - 1) * (1 + Math.random()), MAX_BACKOFF_MS);
      }
      options.onRetry?.({
        what,
        attempt: failures + rateWaits + stalls + 1,
        attempts: attempts + (rateLimited ? RATE_LIMIT_WAITS : 0),
        reason: briefReason(error),
        delayMs: delay,
        rateLimited,
      });
      await sleep(delay * scale, options.signal);
    } finally {
      clearInterval(watchdog);
    }
  }
}

/** The error a request ends with when the server asks for a wait too long to make (or too many). */
function finalError(error: RetryableStatus, waitMs: number): HttpError {
  const what = error.hub.rateLimited ? 'rate limited by the Hub' : error.brief;
  return new HttpError(
    error.status,
    `${error.message.replace(error.brief, what)}: the server asks to wait ${formatWait(waitMs)}; try again later`,
    what,
    error.hub,
  );
}

/** "HTTP 503 Service Unavailable", "fetch failed (ECONNRESET)", "no data for 30 s": what went wrong, without where. */
function briefReason(error: unknown): string {
  if (error instanceof HttpError) return error.hub.rateLimited ? 'rate limited by the Hub' : error.brief;
  if (error instanceof StallError) return error.message;
  if ((error as Error)?.name === 'TimeoutError') return 'timed out';
  const cause = (error as { cause?: { code?: unknown } })?.cause;
  const code = typeof cause?.code === 'string' ? ` (${cause.code})` : '';
  return `${(error as Error)?.message ?? String(error)}${code}`;
}

/** Seconds from `RateLimit: "resolvers";r=0;t=55` when nothing remains (the IETF draft the Hub follows). */
function rateLimitResetMs(headers: Headers): number | undefined {
  const m = /"\w+"\s*;\s*r\s*=\s*(\d+)\s*;\s*t\s*=\s*(\d+)/.exec(headers.get('ratelimit') ?? '');
  return m && Number(m[1]) === 0 ? (Number(m[2]) + 1) * 1000 : undefined; // +1 s, as huggingface_hub
}

/** `Retry-After` as seconds or an HTTP date. */
function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

/** The error for a status that is not the answer we wanted; the body is discarded unread. */
export async function statusError(response: Response, what: string): Promise<HttpError> {
  await response.body?.cancel().catch(() => undefined);
  const brief = `HTTP ${response.status} ${response.statusText}`.trim();
  const hub: HubErrorHeaders = {
    errorCode: response.headers.get('x-error-code') ?? undefined,
    errorMessage: response.headers.get('x-error-message') ?? undefined,
    rateLimited: response.status === 429 || undefined,
  };
  const message = `${what}: ${hub.rateLimited ? `rate limited by the Hub (${brief})` : brief}`;
  if (!RETRY_STATUS.has(response.status)) return new HttpError(response.status, message, brief, hub);
  const wait =
    (response.status === 429 ? rateLimitResetMs(response.headers) : undefined) ?? retryAfterMs(response.headers);
  return new RetryableStatus(response.status, message, brief, hub, wait);
}

/**
 * One GET, following redirects here: the token goes only to the endpoint's origin; a loop, a
 * redirect without Location, or to anything but http(s) is a ServerFault naming the URLs.
 */
export async function get(
  url: string,
  options: NetOptions,
  signal: AbortSignal,
  extra: Record<string, string> = {},
): Promise<{ response: Response; url: string }> {
  const seen = [url];
  for (;;) {
    const response = await fetch(url, { headers: headersFor(url, options, extra), redirect: 'manual', signal });
    if (![301, 302, 303, 307, 308].includes(response.status)) return { response, url };
    await response.body?.cancel().catch(() => undefined);
    const location = response.headers.get('location');
    if (!location)
      throw new ServerFault(`${redactUrl(url)} answered HTTP ${response.status} (a redirect) without a Location`);
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new ServerFault(`${redactUrl(url)} redirected to an invalid URL ${JSON.stringify(location.split('?')[0])}`);
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new ServerFault(
        `${redactUrl(url)} redirected to ${redactUrl(next.href)}: only http and https redirects are followed`,
      );
    }
    if (seen.includes(next.href))
      throw new ServerFault(`redirect loop: ${[...seen, next.href].map(redactUrl).join(' → ')}`);
    if (seen.length > MAX_REDIRECTS)
      throw new ServerFault(`more than ${MAX_REDIRECTS} redirects from ${redactUrl(seen[0])}`);
    seen.push(next.href);
    url = next.href;
  }
}

/**
 * Streams a body of at most `limit` bytes into `sink`, chunk by chunk as it arrives. More than
 * `limit` (announced by Content-Length, or arriving) ends the request with a ServerFault at
 * once; nothing is ever allocated from what a header announces.
 */
export async function readCapped(
  response: Response,
  limit: number,
  what: string,
  attempt: Attempt,
  sink: (chunk: Uint8Array) => void,
  limitWords = `the ${limit} bytes asked for`,
): Promise<number> {
  const announced = response.headers.get('content-length');
  if (announced !== null && !response.headers.get('content-encoding') && Number(announced) > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw new ServerFault(`${what}: the server announced ${announced} bytes, more than ${limitWords}`);
  }
  if (!response.body) return 0;
  const reader = response.body.getReader();
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return total;
      total += value.length;
      if (total > limit) throw new ServerFault(`${what}: the server sent more than ${limitWords}`);
      attempt.received(value.length);
      sink(value);
    }
  } finally {
    // Stops the transfer (and frees the socket) on overflow, a stall or a cancel.
    await reader.cancel().catch(() => undefined);
  }
}

/** Joins what `readCapped` received. */
export function concatChunks(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1 && chunks[0].length === length) return chunks[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
