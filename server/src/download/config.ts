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
  try {
    return new URL(endpoint).href.replace(/\/$/, '');
  } catch {
    throw new Error(`invalid Hub endpoint "${endpoint}" (expected a URL such as https://huggingface.co)`);
  }
}

export function hubToken(option?: string, env = process.env): string | undefined {
  if (option) return option.trim();
  if (env.HF_TOKEN) return env.HF_TOKEN.trim();
  const home = env.HF_HOME || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'huggingface');
  try {
    return readFileSync(path.join(home, 'token'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export function hubOffline(env = process.env): boolean {
  return ['1', 'true', 'yes', 'on'].includes((env.HF_HUB_OFFLINE ?? '').toLowerCase());
}
