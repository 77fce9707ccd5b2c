/** The dataset's Parquet shards as the Hub lists them, and the Hub's refusals in words. */
import { listFiles } from '@huggingface/hub';
import { DownloadError } from './errors';
import { HttpError, NetOptions, retryingFetch } from './net';

/** A shard as listed: its content id (the LFS sha256, else the git blob id) tells a re-uploaded shard of the same size. */
export interface Shard {
  path: string;
  size: number;
  oid: string;
}

/** Which dataset, where, and (for the refusal message) where this front end takes a token from. */
export interface ListingOptions {
  repo: string;
  revision: string;
  endpoint: string;
  token?: string;
  /** Where this front end takes a token from, for the message when the Hub refuses (default: the CLI's). */
  tokenHint?: string;
}

export const CLI_TOKEN_HINT = '--token, HF_TOKEN or the token file under HF_HOME';

/** The `.parquet` files under data/, sorted by path; the caller's abort wins over any listing error. */
export async function listShards(options: ListingOptions, net: NetOptions, callerSignal?: AbortSignal): Promise<Shard[]> {
  const shards: Shard[] = [];
  try {
    for await (const entry of listFiles({
      repo: { type: 'dataset', name: options.repo },
      revision: options.revision,
      recursive: true,
      path: 'data',
      hubUrl: options.endpoint,
      accessToken: options.token,
      fetch: retryingFetch(net),
    })) {
      if (entry.type === 'file' && entry.path.endsWith('.parquet')) shards.push({ path: entry.path, size: entry.lfs?.size ?? entry.size, oid: entry.lfs?.oid ?? entry.oid ?? '' });
    }
  } catch (error) {
    if (callerSignal?.aborted) throw callerSignal.reason;
    throw describeHubError(error, options);
  }
  if (shards.length === 0) throw new DownloadError(`${options.repo} has no Parquet shards under data/ at revision ${options.revision}`);
  return shards.sort((a, b) => (a.path < b.path ? -1 : 1));
}

function describeHubError(error: unknown, options: ListingOptions): Error {
  const status = (error as { statusCode?: number; status?: number }).statusCode ?? (error as HttpError).status;
  const where = `${options.repo} (revision ${options.revision}) on ${new URL(options.endpoint).origin}`;
  if (status === 401 || status === 403) {
    return new DownloadError(`access to ${where} was refused (HTTP ${status}): the dataset may be gated or private, or the token was not accepted — accept its terms on the Hub and give a token (${options.tokenHint ?? CLI_TOKEN_HINT})`, status);
  }
  if (status === 404) return new DownloadError(`${where} was not found (HTTP 404): check --repo and --revision`, status);
  const message = (error as Error).message ?? String(error);
  // Library messages may quote a token-bearing header or a signed URL: keep only our words.
  return new DownloadError(`listing ${where} failed: ${message.replace(/hf_[A-Za-z0-9]+/g, 'hf_***').replace(/\?[^\s"']*/g, '')}`);
}
