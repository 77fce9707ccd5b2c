/** The dataset's Parquet shards as the Hub lists them (through the bounded lister), and the Hub's refusals in words. */
import { DownloadError } from './errors';
import { describeFailure } from './hubErrors';
import { listTree } from './lister';
import type { NetOptions } from './net';

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

export const CLI_TOKEN_HINT =
  '--token, HF_TOKEN, HUGGING_FACE_HUB_TOKEN or the token file at HF_TOKEN_PATH (default $HF_HOME/token)';

/** What failure messages need to know about the Hub and the token. */
export function hubContext(options: ListingOptions) {
  return {
    repo: options.repo,
    revision: options.revision,
    endpoint: options.endpoint,
    token: !!options.token,
    tokenHint: options.tokenHint ?? CLI_TOKEN_HINT,
  };
}

/** The `.parquet` files under data/, sorted by path; the caller's abort wins over any listing error. */
export async function listShards(
  options: ListingOptions,
  net: NetOptions,
  callerSignal?: AbortSignal,
): Promise<Shard[]> {
  const shards: Shard[] = [];
  try {
    for await (const entry of listTree(options.endpoint, options.repo, options.revision, 'data', net)) {
      if (entry.type === 'file' && entry.path.endsWith('.parquet'))
        shards.push({ path: entry.path, size: entry.size, oid: entry.oid });
    }
  } catch (error) {
    if (callerSignal?.aborted) throw callerSignal.reason;
    throw describeFailure(error, hubContext(options));
  }
  if (shards.length === 0)
    throw new DownloadError(`${options.repo} has no Parquet shards under data/ at revision ${options.revision}`);
  return shards.sort((a, b) => (a.path < b.path ? -1 : 1));
}
