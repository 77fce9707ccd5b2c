// A fake Hugging Face Hub for the ARC download tests: exactly the two endpoints the download
// uses, on 127.0.0.1, plus a second server playing the CDN the Hub redirects file downloads
// to. It serves a directory as the repo's tree and can inject the faults a real download
// meets (resets, 429/5xx, slow links, servers that ignore Range, forbidden repos).
//
//   hub  GET  /api/datasets/{owner}/{name}/tree/{rev}[/{path}][?recursive=true]   JSON, paged by Link
//   hub  GET|HEAD /datasets/{owner}/{name}/resolve/{rev}/{path}  -> 302 to the CDN (signed URL)
//   cdn  GET|HEAD /repos/{xx}/{sha256}?X-Amz-...&X-Amz-Signature=...     bytes, Range aware
//
// Every request on both servers is recorded so tests can check that the token never
// reaches the CDN and how many bytes a reader actually pulled.

import { createHash, createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export type Endpoint = 'tree' | 'resolve' | 'cdn' | 'other';

export interface RecordedRequest {
  server: 'hub' | 'cdn';
  endpoint: Endpoint;
  method: string;
  /** The Host header as sent (127.0.0.1:port). */
  host: string;
  /** Path and query as requested. */
  url: string;
  range: string | null;
  authorization: boolean;
  status: number;
  /** Body bytes written so far (partial when the connection was reset). */
  bytes: number;
  /** The injected fault that answered this request, if any. */
  fault?: string;
}

export interface Faults {
  /** Answer the next `count` requests on `on` (default any endpoint) with `status`, e.g. 429/500/503. */
  statuses?: { status: number; count: number; on?: Endpoint | 'any'; retryAfter?: number | string }[];
  /** Destroy the socket mid-body on the next `count` body-bearing answers on `on` (default cdn). */
  resets?: {
    count: number;
    on?: Endpoint;
    afterBytes?: number;
    /** Only bodies at least this long (default any). */ minBody?: number;
  };
  /** Delay before answering each request, on both servers. */
  latencyMs?: number;
  /** Per-response throughput cap for bodies, on both servers. */
  bytesPerSecond?: number;
  /** The CDN ignores Range and answers 200 with the whole file (as some proxies do). */
  ignoreRange?: boolean;
  /** The hub answers this for the repo (tree and resolve), e.g. 403 gated / 404 not found. */
  repoStatus?: 401 | 403 | 404;
  /** With repoStatus: the X-Error-Code sent (default RepoNotFound for 404, GatedRepo else; null: none). */
  repoErrorCode?: string | null;
  /**
   * The Hub's fixed-window rate limit on `on` (default resolve): `limit` requests per window of
   * `windowSeconds`; beyond, 429 with `RateLimit: "resolvers";r=0;t=<seconds left>` and no
   * Retry-After, as the real resolvers limit answers. `timeScale` shrinks the real window
   * (0.01: a 130 s window lasts 1.3 s) while `t` keeps the Hub's numbers.
   */
  rateLimit?: { limit: number; windowSeconds: number; timeScale?: number; on?: Endpoint };
  /** Signed CDN URLs expire this long after the resolve that made them (CDN answers 403 AccessDenied). */
  signatureTtlMs?: number;
  /**
   * Resolves are answered only once `count` of them have arrived (or `timeoutMs` after the first):
   * shows whether a client resolves shards side by side, whatever the machine's speed.
   */
  holdResolvesUntil?: { count: number; timeoutMs: number };
}

export interface FakeHubOptions {
  /** Directory served as the repo's root (read once at start). */
  root: string;
  repo?: string;
  /** Branch name accepted as revision; the derived commit sha is accepted too. */
  revision?: string;
  /** When set, the hub (never the CDN) requires `Authorization: Bearer <token>`. */
  token?: string;
  /** Tree entries per page; default 2 so that any listing pages. */
  pageSize?: number;
  faults?: Faults;
}

export interface FakeHub {
  hubUrl: string;
  cdnUrl: string;
  repo: string;
  revision: string;
  /** 40-hex "commit" of the served tree; accepted as a revision as well. */
  commit: string;
  /** Live log of both servers, in arrival order. */
  requests: RecordedRequest[];
  /** Mutable: change between phases of a test. Counted faults are consumed as they fire. */
  faults: Faults;
  /** Body bytes written by `server` (default the CDN), including partial bodies. */
  bytesServed(server?: 'hub' | 'cdn'): number;
  /** Clears the request log and, unless `keepFaults`, the faults. */
  reset(keepFaults?: boolean): void;
  /** Invalidates every CDN URL handed out so far (as an expired signature would). */
  rotateSigningKey(): void;
  resolveUrl(file: string, revision?: string): string;
  treeUrl(dir?: string, recursive?: boolean): string;
  close(): Promise<void>;
}

interface RepoFile {
  path: string;
  bytes: Buffer;
  sha256: string;
  /** Git blob id, the `oid` the Hub gives for every file. */
  blob: string;
  lfs: boolean;
}

const sha = (algo: string, b: Buffer | string) => createHash(algo).update(b).digest('hex');

function readTree(root: string, dir = ''): RepoFile[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((d) => {
    const rel = dir ? `${dir}/${d.name}` : d.name;
    if (d.isDirectory()) return readTree(root, rel);
    const bytes = readFileSync(path.join(root, rel));
    const blob = sha('sha1', Buffer.concat([Buffer.from(`blob ${bytes.length}\0`), bytes]));
    // The Hub stores binaries (and anything big) in LFS/Xet; only those redirect to the CDN.
    const lfs = /\.(parquet|gz|nii|npz|bin)$/.test(rel) || bytes.length > 10 * 1024 * 1024;
    return [{ path: rel, bytes, sha256: sha('sha256', bytes), blob, lfs }];
  });
}

/** Tree entries under `dir` like the Hub lists them: directories included, sorted by path. */
function listing(files: RepoFile[], dir: string, recursive: boolean): object[] {
  const prefix = dir ? `${dir}/` : '';
  const dirs = new Set<string>();
  const out: { path: string; entry: object }[] = [];
  for (const f of files) {
    if (!f.path.startsWith(prefix)) continue;
    const rest = f.path.slice(prefix.length).split('/');
    for (let i = 1; i < rest.length && (recursive || i === 1); i++) dirs.add(prefix + rest.slice(0, i).join('/'));
    if (!recursive && rest.length > 1) continue;
    const lfs = f.lfs ? { lfs: { oid: f.sha256, size: f.bytes.length, pointerSize: 134 } } : {};
    out.push({ path: f.path, entry: { type: 'file', oid: f.blob, size: f.bytes.length, path: f.path, ...lfs } });
  }
  for (const d of dirs) out.push({ path: d, entry: { type: 'directory', oid: sha('sha1', d), size: 0, path: d } });
  return out.sort((a, b) => (a.path < b.path ? -1 : 1)).map((e) => e.entry);
}

type Range = { start: number; end: number } | 'unsatisfiable' | null;

/** One `bytes=` range (a-b, a-, -n). Multiple or malformed ranges are ignored (200), as S3 does. */
function parseRange(header: string | undefined, size: number): Range {
  const m = header && /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const n = Number(m[2]);
    return n === 0 || size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return null; // syntactically invalid: ignore
  return start >= size ? 'unsatisfiable' : { start, end };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startFakeHub(opts: FakeHubOptions): Promise<FakeHub> {
  const repo = opts.repo ?? 'hugging-science/arc-aphasia-bids';
  const revision = opts.revision ?? 'main';
  const pageSize = opts.pageSize ?? 2;
  const files = readTree(opts.root);
  const byPath = new Map(files.map((f) => [f.path, f]));
  const bySha = new Map(files.map((f) => [f.sha256, f]));
  const commit = sha('sha1', files.map((f) => `${f.path}:${f.blob}`).join('\n'));
  const requests: RecordedRequest[] = [];
  let window: { start: number; count: number } | undefined;
  let signingKey = randomBytes(16);
  let hubUrl = '';
  let cdnUrl = '';
  const hub: FakeHub = {
    hubUrl,
    cdnUrl,
    repo,
    revision,
    commit,
    requests,
    faults: { ...opts.faults },
    bytesServed: (server = 'cdn') => requests.filter((r) => r.server === server).reduce((a, r) => a + r.bytes, 0),
    reset(keepFaults = false) {
      requests.length = 0;
      barrier = undefined;
      if (!keepFaults) hub.faults = {};
    },
    rotateSigningKey: () => void (signingKey = randomBytes(16)),
    resolveUrl: (file, rev = revision) => `${hubUrl}/datasets/${repo}/resolve/${encodeURIComponent(rev)}/${file}`,
    treeUrl: (dir = '', recursive = true) =>
      `${hubUrl}/api/datasets/${repo}/tree/${encodeURIComponent(revision)}${dir ? `/${dir}` : ''}${recursive ? '?recursive=true' : ''}`,
    close: async () => {
      for (const s of [hubServer, cdnServer]) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
    },
  };

  const sign = (sha256: string, expires: string) =>
    createHmac('sha256', signingKey).update(`${sha256}:${expires}`).digest('hex');

  let barrier: { arrived: number; open: Promise<void>; release: () => void; timer: NodeJS.Timeout } | undefined;
  function resolveBarrier(hold: { count: number; timeoutMs: number }): Promise<void> {
    if (!barrier) {
      let release!: () => void;
      const open = new Promise<void>((resolve) => (release = resolve));
      barrier = { arrived: 0, open, release, timer: setTimeout(() => release(), hold.timeoutMs) };
    }
    const current = barrier;
    if (++current.arrived >= hold.count) {
      clearTimeout(current.timer);
      current.release();
    }
    return current.open;
  }

  /** Applies latency and counted status faults; returns true when a fault already answered. */
  async function preamble(res: http.ServerResponse, rec: RecordedRequest): Promise<boolean> {
    if (hub.faults.latencyMs) await sleep(hub.faults.latencyMs);
    const hold = hub.faults.holdResolvesUntil;
    if (hold && rec.endpoint === 'resolve') await resolveBarrier(hold);
    const limit = hub.faults.rateLimit;
    if (limit && (limit.on ?? 'resolve') === rec.endpoint) {
      const scale = limit.timeScale ?? 1;
      const length = limit.windowSeconds * 1000 * scale;
      const now = Date.now();
      if (!window || now - window.start >= length) window = { start: now, count: 0 };
      if (++window.count > limit.limit) {
        const left = Math.max(1, Math.ceil((window.start + length - now) / scale / 1000));
        rec.fault = 'rate limit';
        json(
          res,
          rec,
          429,
          { error: 'You have been rate-limited; you can retry this action in about 5 minutes.' },
          {
            RateLimit: `"resolvers";r=0;t=${left}`,
            'RateLimit-Policy': `"fixed window";"resolvers";q=${limit.limit};w=${limit.windowSeconds}`,
          },
        );
        return true;
      }
    }
    const fault = hub.faults.statuses?.find((f) => f.count > 0 && (!f.on || f.on === 'any' || f.on === rec.endpoint));
    if (!fault) return false;
    fault.count--;
    rec.fault = `status ${fault.status}`;
    const headers: http.OutgoingHttpHeaders =
      fault.retryAfter !== undefined ? { 'Retry-After': String(fault.retryAfter) } : {};
    json(res, rec, fault.status, { error: `injected ${fault.status}` }, headers);
    return true;
  }

  function json(
    res: http.ServerResponse,
    rec: RecordedRequest,
    status: number,
    body: unknown,
    headers: http.OutgoingHttpHeaders = {},
  ): void {
    void send(
      res,
      rec,
      status,
      { 'Content-Type': 'application/json; charset=utf-8', ...headers },
      Buffer.from(JSON.stringify(body)),
    );
  }

  /** Writes status, headers and body, throttled and possibly reset as the faults say. */
  async function send(
    res: http.ServerResponse,
    rec: RecordedRequest,
    status: number,
    headers: http.OutgoingHttpHeaders,
    body: Buffer,
    method = 'GET',
  ): Promise<void> {
    rec.status = status;
    res.writeHead(status, { 'Content-Length': body.length, ...headers });
    if (method === 'HEAD' || body.length === 0) return void res.end();
    const reset = hub.faults.resets;
    let cut = Infinity;
    if (reset && reset.count > 0 && (reset.on ?? 'cdn') === rec.endpoint && body.length >= (reset.minBody ?? 0)) {
      reset.count--;
      rec.fault = 'reset';
      cut = Math.min(body.length - 1, reset.afterBytes ?? Math.floor(body.length / 2));
    }
    const bps = hub.faults.bytesPerSecond;
    const step = bps ? Math.max(1, Math.floor(bps / 20)) : 256 * 1024; // 50 ms slices when capped
    for (let at = 0; at < body.length && !res.destroyed;) {
      const end = Math.min(body.length, at + step, cut);
      const chunk = body.subarray(at, end);
      rec.bytes += chunk.length;
      at = end;
      if (at === cut) {
        // Let the partial body reach the client, then drop the connection (RST, no FIN).
        res.write(chunk, () => res.socket?.resetAndDestroy());
        return;
      }
      if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
      if (bps) await sleep((chunk.length / bps) * 1000);
    }
    res.end();
  }

  function record(server: 'hub' | 'cdn', req: http.IncomingMessage, endpoint: Endpoint): RecordedRequest {
    const rec: RecordedRequest = {
      server,
      endpoint,
      method: req.method ?? 'GET',
      host: req.headers.host ?? '',
      url: req.url ?? '',
      range: req.headers.range ?? null,
      authorization: req.headers.authorization !== undefined,
      status: 0,
      bytes: 0,
    };
    requests.push(rec);
    return rec;
  }

  const hubServer = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', hubUrl);
    const repoPath = repo.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // Raw segments: a revision such as refs%2Fconvert%2Fparquet stays one segment.
    const tree = new RegExp(`^/api/datasets/${repoPath}/tree/([^/]+)(?:/(.*))?$`).exec(url.pathname);
    const resolve = new RegExp(`^/datasets/${repoPath}/resolve/([^/]+)/(.+)$`).exec(url.pathname);
    const rec = record('hub', req, tree ? 'tree' : resolve ? 'resolve' : 'other');
    if (await preamble(res, rec)) return;
    const m = tree ?? resolve;
    if (!m || (resolve && req.method !== 'GET' && req.method !== 'HEAD') || (tree && req.method !== 'GET')) {
      return json(res, rec, 404, { error: 'Repository not found' }, { 'X-Error-Code': 'RepoNotFound' });
    }
    if (
      opts.token !== undefined &&
      req.headers.authorization !== undefined &&
      req.headers.authorization !== `Bearer ${opts.token}`
    ) {
      return json(
        res,
        rec,
        401,
        { error: 'Invalid credentials in Authorization header' },
        { 'X-Error-Message': 'Invalid credentials in Authorization header' },
      );
    }
    if (opts.token !== undefined && req.headers.authorization === undefined) {
      // The Hub's answer to an anonymous request for a private repo (the same as for a missing one).
      return json(
        res,
        rec,
        401,
        { error: 'Repository not found' },
        { 'X-Error-Code': 'RepoNotFound', 'X-Error-Message': 'Repository not found' },
      );
    }
    if (hub.faults.repoStatus) {
      const code =
        hub.faults.repoErrorCode !== undefined
          ? hub.faults.repoErrorCode
          : hub.faults.repoStatus === 404
            ? 'RepoNotFound'
            : 'GatedRepo';
      return json(res, rec, hub.faults.repoStatus, { error: `injected ${code}` }, code ? { 'X-Error-Code': code } : {});
    }
    const rev = decodeURIComponent(m[1]);
    if (rev !== revision && rev !== commit) {
      return json(res, rec, 404, { error: `Invalid rev id: ${rev}` }, { 'X-Error-Code': 'RevisionNotFound' });
    }
    const target = decodeURIComponent(m[2] ?? '').replace(/\/+$/, '');

    if (tree) {
      const recursive = url.searchParams.get('recursive') === 'true' || url.searchParams.get('recursive') === '1';
      const entries = listing(files, target, recursive);
      if (target && entries.length === 0)
        return json(res, rec, 404, { error: `Entry not found: ${target}` }, { 'X-Error-Code': 'EntryNotFound' });
      // Opaque cursor, as the Hub's: clients must follow Link, not compute offsets.
      const offset = Number(Buffer.from(url.searchParams.get('cursor') ?? '', 'base64url').toString() || 0);
      const headers: http.OutgoingHttpHeaders = {};
      if (offset + pageSize < entries.length) {
        const next = new URL(url.pathname + url.search, hubUrl);
        next.searchParams.set('cursor', Buffer.from(String(offset + pageSize)).toString('base64url'));
        headers.Link = `<${next.href}>; rel="next"`;
      }
      return json(res, rec, 200, entries.slice(offset, offset + pageSize), headers);
    }

    const file = byPath.get(target);
    if (!file) return json(res, rec, 404, { error: `Entry not found: ${target}` }, { 'X-Error-Code': 'EntryNotFound' });
    const common = { 'X-Repo-Commit': commit, ETag: `"${file.lfs ? file.sha256 : file.blob}"` };
    if (!file.lfs)
      return void send(
        res,
        rec,
        200,
        { ...common, 'Content-Type': 'application/octet-stream' },
        file.bytes,
        req.method,
      );
    // LFS file: redirect to a pre-signed CDN URL on another origin (another port here).
    // X-Amz-Date: when signed (ms here, so that tests can use short lifetimes).
    const expires = String(Date.now());
    const name = encodeURIComponent(path.posix.basename(file.path));
    const location =
      `${cdnUrl}/repos/${file.sha256.slice(0, 2)}/${file.sha256}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600` +
      `&X-Amz-Date=${expires}&X-Amz-Signature=${sign(file.sha256, expires)}&response-content-disposition=inline%3B%20filename%3D${name}`;
    return void send(
      res,
      rec,
      302,
      {
        ...common,
        Location: location,
        'X-Linked-Size': file.bytes.length,
        'X-Linked-Etag': `"${file.sha256}"`,
      },
      Buffer.alloc(0),
    );
  });

  const cdnServer = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', cdnUrl);
    const rec = record('cdn', req, 'cdn');
    if (await preamble(res, rec)) return;
    const m = /^\/repos\/[0-9a-f]{2}\/([0-9a-f]{64})$/.exec(url.pathname);
    const file = m ? bySha.get(m[1]) : undefined;
    if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) return json(res, rec, 404, { error: 'NoSuchKey' });
    // Pre-signed URLs carry their own auth; S3 refuses a second mechanism with 400.
    if (req.headers.authorization !== undefined)
      return json(res, rec, 400, { error: 'Only one auth mechanism allowed' });
    const expires = url.searchParams.get('X-Amz-Date') ?? '';
    if (url.searchParams.get('X-Amz-Signature') !== sign(file.sha256, expires))
      return json(res, rec, 403, { error: 'SignatureDoesNotMatch' });
    const ttl = hub.faults.signatureTtlMs;
    if (ttl !== undefined && Date.now() > Number(expires) + ttl) {
      rec.fault = 'expired';
      return json(res, rec, 403, { error: 'AccessDenied: Request has expired' });
    }

    const size = file.bytes.length;
    const common = { 'Accept-Ranges': 'bytes', ETag: `"${file.sha256}"`, 'Content-Type': 'application/octet-stream' };
    const range = hub.faults.ignoreRange ? null : parseRange(req.headers.range, size);
    if (range === 'unsatisfiable')
      return void send(res, rec, 416, { 'Content-Range': `bytes */${size}` }, Buffer.alloc(0));
    if (!range) return void send(res, rec, 200, common, file.bytes, req.method);
    const { start, end } = range;
    return void send(
      res,
      rec,
      206,
      { ...common, 'Content-Range': `bytes ${start}-${end}/${size}` },
      file.bytes.subarray(start, end + 1),
      req.method,
    );
  });

  for (const s of [hubServer, cdnServer]) {
    s.listen(0, '127.0.0.1');
    await once(s, 'listening');
  }
  hubUrl = hub.hubUrl = `http://127.0.0.1:${(hubServer.address() as AddressInfo).port}`;
  cdnUrl = hub.cdnUrl = `http://127.0.0.1:${(cdnServer.address() as AddressInfo).port}`;
  return hub;
}
