// A hostile "Hub" on 127.0.0.1 for the bounded-memory tests (issue 21.1): it lists one shard
// and answers the download's requests the way a broken or malicious server or proxy would.
// Sizes are faked by headers and by streaming one small buffer again and again: nothing here
// allocates what it claims to send.

import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export type HostileMode =
  /** 206 to the footer range with `Content-Length: 10 GB`, streamed. */
  | 'huge-content-length'
  /** 206 to the footer range with an endless chunked body. */
  | 'endless-chunked'
  /** A footer claiming 4 GB of metadata in a shard listed at 10 GB. */
  | 'huge-footer'
  /** A tree listing whose body never ends. */
  | 'endless-listing'
  /** A tree listing whose `Link: rel="next"` never ends (empty pages). */
  | 'endless-next'
  /** `/resolve/` redirects to file:///etc/passwd. */
  | 'file-redirect'
  /** `/resolve/` redirects to a URL that redirects back. */
  | 'redirect-loop'
  /** 206 with the right length, one byte every `dripMs`. */
  | 'drip';

export interface HostileHub {
  url: string;
  /** Requests answered, by path (no query). */
  requests: string[];
  /** Body bytes written. */
  bytesSent(): number;
  close(): Promise<void>;
}

const REPO = 'hugging-science/arc-aphasia-bids';
const SHARD = 'data/train-00000-of-00001.parquet';
const TEN_GB = 10 * 1024 ** 3;
const FILLER = Buffer.alloc(64 * 1024, 0x41);

/** Resolves when `res` can take more, or is gone. */
const drained = (res: http.ServerResponse) =>
  new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });

export async function startHostileHub(mode: HostileMode, options: { dripMs?: number } = {}): Promise<HostileHub> {
  const requests: string[] = [];
  let sent = 0;
  let closing = false;
  /** Writes FILLER until the client goes or `limit` bytes are out. */
  const stream = async (res: http.ServerResponse, limit = Infinity) => {
    while (!closing && !res.destroyed && limit > 0) {
      const chunk = limit < FILLER.length ? FILLER.subarray(0, limit) : FILLER;
      limit -= chunk.length;
      sent += chunk.length;
      if (!res.write(chunk)) await drained(res);
    }
    res.end();
  };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(url.pathname);
    res.on('error', () => undefined);
    if (url.pathname.startsWith(`/api/datasets/${REPO}/tree/`)) {
      if (mode === 'endless-listing') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write('[');
        const entry = Buffer.from(
          JSON.stringify({ type: 'file', oid: 'a'.repeat(40), size: 1, path: 'data/x.parquet' }) + ',',
        );
        while (!closing && !res.destroyed) {
          sent += entry.length;
          if (!res.write(entry)) await drained(res);
        }
        return void res.end();
      }
      if (mode === 'endless-next') {
        const page = Number(url.searchParams.get('cursor') ?? 0);
        res.writeHead(200, {
          'Content-Type': 'application/json',
          Link: `<http://${req.headers.host}${url.pathname}?recursive=true&cursor=${page + 1}>; rel="next"`,
        });
        return void res.end('[]');
      }
      const size =
        mode === 'huge-footer' || mode === 'huge-content-length' || mode === 'endless-chunked' ? TEN_GB : 8192;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return void res.end(
        JSON.stringify([
          {
            type: 'file',
            oid: 'b'.repeat(40),
            size,
            path: SHARD,
            lfs: { oid: 'c'.repeat(64), size, pointerSize: 134 },
          },
        ]),
      );
    }
    if (url.pathname === `/datasets/${REPO}/resolve/main/${SHARD}` || url.pathname === '/elsewhere') {
      if (mode === 'file-redirect') {
        res.writeHead(302, { Location: 'file:///etc/passwd' });
        return void res.end();
      }
      if (mode === 'redirect-loop') {
        res.writeHead(302, {
          Location: url.pathname === '/elsewhere' ? `/datasets/${REPO}/resolve/main/${SHARD}` : '/elsewhere',
        });
        return void res.end();
      }
      if (req.method === 'HEAD') {
        // An endpoint that serves the bytes itself (no CDN), for clients that ask first.
        res.writeHead(200, { 'Content-Length': String(mode === 'drip' ? 8192 : TEN_GB), 'Accept-Ranges': 'bytes' });
        return void res.end();
      }
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (!m) {
        res.writeHead(416);
        return void res.end();
      }
      const [start, end] = [Number(m[1]), Number(m[2])];
      const size = mode === 'drip' ? 8192 : TEN_GB;
      if (mode === 'huge-content-length') {
        res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': String(TEN_GB) });
        return void stream(res, TEN_GB);
      }
      if (mode === 'endless-chunked') {
        res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${size}` });
        return void stream(res);
      }
      if (mode === 'huge-footer') {
        // The tail of a "10 GB" file: zeros, then a 4 GB metadata length and PAR1.
        const body = Buffer.alloc(end - start + 1);
        body.writeUInt32LE(0xfffffff0, body.length - 8);
        body.write('PAR1', body.length - 4, 'latin1');
        res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': String(body.length) });
        sent += body.length;
        return void res.end(body);
      }
      // drip
      res.writeHead(206, {
        'Content-Range': `bytes ${start}-${end}/${size}`,
        'Content-Length': String(end - start + 1),
      });
      for (let i = start; i <= end && !closing && !res.destroyed; i++) {
        res.write(FILLER.subarray(0, 1));
        sent++;
        await new Promise((r) => setTimeout(r, options.dripMs ?? 100));
      }
      return void res.end();
    }
    res.writeHead(404, { 'X-Error-Code': 'EntryNotFound' });
    res.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    bytesSent: () => sent,
    close: async () => {
      closing = true;
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
