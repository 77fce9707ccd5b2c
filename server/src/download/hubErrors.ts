/**
 * What a failed download tells the user: the real cause, read from the Hub's answer the way
 * huggingface_hub's `hf_raise_for_status` reads it (`X-Error-Code`, `X-Error-Message`, and a
 * 401 for an anonymous request meaning "no such repo, or private"), and network or server
 * faults named as such, never as a property of the data.
 */
import { DownloadError } from './errors';
import { HttpError, ServerFault } from './net';

export interface HubContext {
  repo: string;
  revision: string;
  endpoint: string;
  /** A token was sent. */
  token: boolean;
  /** Where this front end takes a token from. */
  tokenHint: string;
}

/** huggingface_hub's marker of a token the Hub does not accept (as opposed to a repo it will not show). */
const INVALID_CREDENTIALS = 'Invalid credentials in Authorization header';

/** Library and server messages may quote a token or a signed URL: keep neither. */
export function scrubbed(message: string): string {
  return message.replace(/hf_[A-Za-z0-9]+/g, 'hf_***').replace(/\?[^\s"']*/g, '');
}

/** The error the download stops with, for a failure of the listing or of a shard. */
export function describeFailure(error: unknown, hub: HubContext): Error {
  if (error instanceof DownloadError) return error;
  const where = `${hub.repo} (revision ${hub.revision}) on ${new URL(hub.endpoint).origin}`;
  const page = `${new URL(hub.endpoint).origin}/datasets/${hub.repo}`;
  if (error instanceof ServerFault) return new DownloadError(`network or server fault: ${scrubbed(error.message)}`);
  if (!(error instanceof HttpError)) {
    const cause = (error as { cause?: { code?: unknown } })?.cause;
    const code = typeof cause?.code === 'string' ? ` (${cause.code})` : '';
    return new DownloadError(
      `network fault while downloading ${where}: ${scrubbed((error as Error)?.message ?? String(error))}${code}`,
    );
  }
  const { status, hub: said } = error;
  if (said.rateLimited)
    return new DownloadError(
      `${scrubbed(error.message)} (the Hub limits requests per IP address; a token raises the limit: ${hub.tokenHint})`,
      status,
    );
  if (said.errorCode === 'GatedRepo') {
    return new DownloadError(
      `${hub.repo} is gated (HTTP ${status}): accept its terms at ${page} with your Hugging Face account, then ${hub.token ? 'use a token of that account' : 'give a token'} (${hub.tokenHint})`,
      status,
    );
  }
  if (said.errorCode === 'RevisionNotFound')
    return new DownloadError(
      `${where}: revision "${hub.revision}" was not found (HTTP ${status}): check --revision`,
      status,
    );
  if (said.errorCode === 'EntryNotFound')
    return new DownloadError(`${where} has no data/ folder (HTTP ${status}): is it the ARC dataset?`, status);
  if (status === 401 && said.errorMessage === INVALID_CREDENTIALS) {
    return new DownloadError(
      `the Hub rejected the token (HTTP 401: invalid or expired) for ${where}: give a valid token (${hub.tokenHint})`,
      status,
    );
  }
  if (said.errorCode === 'RepoNotFound' || status === 404 || (status === 401 && !hub.token)) {
    const anonymous =
      status === 401 && !hub.token
        ? '; the Hub answers 401 to anonymous requests for a repo that does not exist or is private'
        : '';
    return new DownloadError(
      `${where} was not found (HTTP ${status}): check --repo and --revision${anonymous}; a private repo needs a token with access (${hub.tokenHint})`,
      status,
    );
  }
  if (status === 401 || status === 403) {
    return new DownloadError(
      `access to ${where} was refused (HTTP ${status}): the token was not accepted for it, or the dataset is gated or private — accept its terms at ${page} and give a token with access (${hub.tokenHint})`,
      status,
    );
  }
  return new DownloadError(`${where}: ${scrubbed(error.message)}`, status >= 400 ? status : undefined);
}
