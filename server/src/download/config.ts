/**
 * Hugging Face Hub conventions (SPEC 1.4): endpoint from the option, else HF_ENDPOINT, else
 * huggingface.co; token from the option, else HF_TOKEN, else the token file under HF_HOME;
 * HF_HUB_OFFLINE=1 forbids the network.
 */
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export function hubEndpoint(option?: string, env = process.env): string {
  const endpoint = option || env.HF_ENDPOINT || 'https://huggingface.co';
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  // "htp:/host" parses as a URL of scheme htp: refuse it now rather than after 30 s of retries.
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || !url.hostname) {
    throw new Error(`invalid Hub endpoint "${endpoint}" (expected an http:// or https:// URL such as https://huggingface.co)`);
  }
  return url.href.replace(/\/$/, '');
}

export function hubToken(option?: string, env = process.env): string | undefined {
  return hubTokenWithSource(option, env)?.token;
}

/** The token and where it came from (for the log, which names the source and never the token). */
export function hubTokenWithSource(option?: string, env = process.env): { token: string; source: 'option' | 'HF_TOKEN' | 'token file' } | undefined {
  if (option?.trim()) return { token: option.trim(), source: 'option' };
  if (env.HF_TOKEN?.trim()) return { token: env.HF_TOKEN.trim(), source: 'HF_TOKEN' };
  const home = env.HF_HOME || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'huggingface');
  try {
    const token = readFileSync(path.join(home, 'token'), 'utf8').trim();
    return token ? { token, source: 'token file' } : undefined;
  } catch {
    return undefined;
  }
}

export function hubOffline(env = process.env): boolean {
  return ['1', 'true', 'yes', 'on'].includes((env.HF_HUB_OFFLINE ?? '').toLowerCase());
}

/** NEUROCACHE_RETRY_BASE_MS: the first retry's delay (tests shorten it); unset: the default. */
export function retryBaseFromEnv(env = process.env): number | undefined {
  const ms = Number(env.NEUROCACHE_RETRY_BASE_MS);
  return env.NEUROCACHE_RETRY_BASE_MS && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}
