/**
 * The Hub's tree listing (`GET /api/datasets/{repo}/tree/{revision}/{path}?recursive=true`,
 * paged by `Link: <…>; rel="next"`), bounded: each page's body, the number of pages and the
 * number of entries have budgets, so a body that never ends or a `next` chain that never ends
 * fails, named as such, instead of filling memory (@huggingface/hub's `listFiles` follows
 * `next` without limit). The revision is URL-encoded (`refs/convert/parquet` is one segment).
 */
import { concatChunks, get, NetOptions, readCapped, redactUrl, ServerFault, statusError, withRetries } from './net';

export interface TreeEntry {
  type: 'file' | 'directory';
  path: string;
  size: number;
  /** The LFS sha256 when the file is in LFS/Xet, else the git blob id. */
  oid: string;
}

export interface ListingBudget {
  /** Bytes of one page's body. */
  pageBytes: number;
  pages: number;
  entries: number;
}

/** The Hub pages by 1,000 entries (~300 kB); ARC lists 902 shards. */
export const LISTING_BUDGET: ListingBudget = { pageBytes: 16 * 1024 * 1024, pages: 1000, entries: 200_000 };

/** Path segments encoded one by one ("data/a b.parquet" → "data/a%20b.parquet"). */
export const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

export function treeUrl(endpoint: string, repo: string, revision: string, dir: string): string {
  return `${endpoint.replace(/\/$/, '')}/api/datasets/${repo}/tree/${encodeURIComponent(revision)}/${encodePath(dir)}?recursive=true`;
}

export function resolveUrl(endpoint: string, repo: string, revision: string, file: string): string {
  return `${endpoint.replace(/\/$/, '')}/datasets/${repo}/resolve/${encodeURIComponent(revision)}/${encodePath(file)}`;
}

/** The `rel="next"` target of a Link header, resolved against the page's URL. */
function nextLink(link: string | null, base: string): string | undefined {
  for (const part of (link ?? '').split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /(^|;)\s*rel\s*=\s*"?next"?\s*(;|$)/i.test(m[2])) return new URL(m[1], base).href;
  }
  return undefined;
}

function toEntry(value: unknown, where: string): TreeEntry {
  const v = value as {
    type?: unknown;
    path?: unknown;
    size?: unknown;
    oid?: unknown;
    lfs?: { oid?: unknown; size?: unknown } | null;
  };
  const size = typeof v?.lfs?.size === 'number' ? v.lfs.size : v?.size;
  if (
    (v?.type !== 'file' && v?.type !== 'directory') ||
    typeof v.path !== 'string' ||
    typeof size !== 'number' ||
    !Number.isSafeInteger(size) ||
    size < 0
  ) {
    throw new ServerFault(
      `${where}: the listing holds an entry that is not a Hub tree entry: ${JSON.stringify(value)?.slice(0, 200)}`,
    );
  }
  const oid = typeof v.lfs?.oid === 'string' ? v.lfs.oid : typeof v.oid === 'string' ? v.oid : '';
  return { type: v.type, path: v.path, size, oid };
}

export async function* listTree(
  endpoint: string,
  repo: string,
  revision: string,
  dir: string,
  net: NetOptions,
  budget: ListingBudget = LISTING_BUDGET,
): AsyncGenerator<TreeEntry> {
  let url: string | undefined = treeUrl(endpoint, repo, revision, dir);
  const seen = new Set<string>();
  let entries = 0;
  for (let page = 1; url; page++) {
    if (page > budget.pages)
      throw new ServerFault(
        `the listing of ${repo} did not end after ${budget.pages} pages (${entries} entries): the Hub or a proxy keeps sending Link rel="next"`,
      );
    if (seen.has(url))
      throw new ServerFault(`the listing of ${repo} loops: page ${page} links back to ${redactUrl(url)}`);
    seen.add(url);
    const pageUrl: string = url;
    const { body, link } = await withRetries(`GET ${redactUrl(pageUrl)}`, net, async (attempt) => {
      const { response, url: landed } = await get(pageUrl, net, attempt.signal, { accept: 'application/json' });
      if (!response.ok) throw await statusError(response, `GET ${redactUrl(landed)}`);
      const chunks: Uint8Array[] = [];
      let length = 0;
      const budgetWords = `the ${budget.pageBytes}-byte budget of one listing page`;
      await readCapped(
        response,
        budget.pageBytes,
        `GET ${redactUrl(landed)} (page ${page} of the listing)`,
        attempt,
        (c) => {
          chunks.push(c);
          length += c.length;
        },
        budgetWords,
      );
      return { body: concatChunks(chunks, length), link: nextLink(response.headers.get('link'), landed) };
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(body));
    } catch {
      throw new ServerFault(`GET ${redactUrl(pageUrl)}: the listing page is not JSON`);
    }
    if (!Array.isArray(parsed))
      throw new ServerFault(`GET ${redactUrl(pageUrl)}: the listing page is not a JSON array`);
    entries += parsed.length;
    if (entries > budget.entries)
      throw new ServerFault(
        `the listing of ${repo} has more than ${budget.entries} entries: not a dataset this download reads`,
      );
    for (const value of parsed) yield toEntry(value, `GET ${redactUrl(pageUrl)}`);
    url = link;
  }
}
