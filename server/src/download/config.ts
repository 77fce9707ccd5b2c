/**
 * Hugging Face Hub conventions (docs/cli.md, `arc download`), read as huggingface_hub reads them
 * (`constants.py`, `utils/_auth.py`): endpoint from the option, else HF_ENDPOINT, else
 * huggingface.co; token from the option, else HF_TOKEN, else HUGGING_FACE_HUB_TOKEN, else the
 * file at HF_TOKEN_PATH (default `$HF_HOME/token`, HF_HOME defaulting to
 * `$XDG_CACHE_HOME/huggingface` or `~/.cache/huggingface`, both with `~` and `$VAR` expanded);
 * HF_HUB_OFFLINE, else TRANSFORMERS_OFFLINE, true for 1/ON/YES/TRUE forbids the network.
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
    throw new Error(
      `invalid Hub endpoint "${endpoint}" (expected an http:// or https:// URL such as https://huggingface.co)`,
    );
  }
  return url.href.replace(/\/$/, '');
}

/** Python's `os.path.expanduser`: a leading `~` (alone or before a separator) is the home folder ($HOME first). */
function expandUser(value: string, env: NodeJS.ProcessEnv): string {
  if (value !== '~' && !value.startsWith('~/')) return value;
  return (env.HOME || os.homedir()) + value.slice(1);
}

/** Python's `os.path.expandvars`: `$NAME` and `${NAME}` of variables that are set; others stay as written. */
function expandVars(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/\$(\w+|\{[^}]*\})/g, (whole, name: string) => {
    const key = name.startsWith('{') ? name.slice(1, -1) : name;
    return env[key] !== undefined ? env[key]! : whole;
  });
}

const expand = (value: string, env: NodeJS.ProcessEnv) => expandVars(expandUser(value, env), env);

/** `os.getenv(name, fallback)`: a variable set to "" is used as "", as Python does. */
const getenv = (env: NodeJS.ProcessEnv, name: string, fallback: string) => env[name] ?? fallback;

/** HF_HOME as huggingface_hub computes it. */
export function hfHome(env = process.env): string {
  const cache = getenv(env, 'XDG_CACHE_HOME', path.join(expandUser('~', env), '.cache'));
  return expand(getenv(env, 'HF_HOME', path.join(cache, 'huggingface')), env);
}

/** HF_TOKEN_PATH as huggingface_hub computes it: the token file. */
export function hfTokenPath(env = process.env): string {
  return expand(getenv(env, 'HF_TOKEN_PATH', path.join(hfHome(env), 'token')), env);
}

export type TokenSource = 'option' | 'HF_TOKEN' | 'HUGGING_FACE_HUB_TOKEN' | 'token file';

/** `_clean_token`: CR and LF removed anywhere, then surrounding white space; "" is no token. */
function cleanToken(token: string | undefined): string | undefined {
  return token?.replace(/[\r\n]/g, '').trim() || undefined;
}

export function hubToken(option?: string, env = process.env): string | undefined {
  return hubTokenWithSource(option, env)?.token;
}

/**
 * The token and where it came from (for the log, which names the source and never the token).
 * A token file that exists but cannot be read is an error, as in huggingface_hub (only a
 * missing file means "no token").
 */
export function hubTokenWithSource(
  option?: string,
  env = process.env,
): { token: string; source: TokenSource; path?: string } | undefined {
  const given = cleanToken(option);
  if (given) return { token: given, source: 'option' };
  // `HF_TOKEN or HUGGING_FACE_HUB_TOKEN`, then cleaned: an empty HF_TOKEN defers to the other,
  // a blank one (only spaces) to the token file.
  const fromEnv = cleanToken(env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN);
  if (fromEnv) return { token: fromEnv, source: env.HF_TOKEN ? 'HF_TOKEN' : 'HUGGING_FACE_HUB_TOKEN' };
  const file = hfTokenPath(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(
      `cannot read the Hub token file ${file} (HF_TOKEN_PATH, default under HF_HOME): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  const token = cleanToken(text);
  return token ? { token, source: 'token file', path: file } : undefined;
}

const TRUE_VALUES = new Set(['1', 'ON', 'YES', 'TRUE']);

/**
 * The variable that forbids the network, or undefined: `HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE`
 * (a non-empty HF_HUB_OFFLINE decides alone, as Python's `or` does), true for 1/ON/YES/TRUE in
 * any case.
 */
export function hubOfflineVariable(env = process.env): string | undefined {
  const name = env.HF_HUB_OFFLINE ? 'HF_HUB_OFFLINE' : env.TRANSFORMERS_OFFLINE ? 'TRANSFORMERS_OFFLINE' : undefined;
  return name && TRUE_VALUES.has(env[name]!.toUpperCase()) ? `${name}=${env[name]}` : undefined;
}

export function hubOffline(env = process.env): boolean {
  return hubOfflineVariable(env) !== undefined;
}

function nonNegativeNumber(value: string | undefined): number | undefined {
  const n = Number(value);
  return value && Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** NEUROCACHE_RETRY_BASE_MS: the first retry's delay (tests shorten it); unset: the default. */
export function retryBaseFromEnv(env = process.env): number | undefined {
  return nonNegativeNumber(env.NEUROCACHE_RETRY_BASE_MS);
}

/**
 * The network's clock knobs, for tests (never long sleeps): NEUROCACHE_HTTP_IDLE_MS, the idle
 * timeout; NEUROCACHE_WAIT_SCALE, a factor on every wait the Hub asks for (429 / Retry-After)
 * and every backoff, so that "wait 130 s" takes 130 ms at 0.001 while the messages still say
 * 130 s. Unset: the defaults.
 */
export function netTimingFromEnv(env = process.env): { idleTimeoutMs?: number; waitScale?: number } {
  return {
    idleTimeoutMs: nonNegativeNumber(env.NEUROCACHE_HTTP_IDLE_MS),
    waitScale: nonNegativeNumber(env.NEUROCACHE_WAIT_SCALE),
  };
}
