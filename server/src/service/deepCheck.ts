/**
 * The deep check of a manifest's cache files (SPEC §1.2c): every listed file whose `windows`
 * header reads is inflated in the pool, answered from fingerprints when unchanged. Each starts
 * when its own header facts arrive, so inflating overlaps the reading of other files' headers.
 */
import * as path from 'node:path';
import type { DeepResult } from '../engine/eeg/deepChecks';
import type { CacheFileFacts } from '../engine/eeg/manifestCheck';
import type { ParsedManifest } from '../engine/eeg/manifestParse';
import type { CacheInspector } from './inspector';

/**
 * For end-to-end tests of cancelling, which must not race the machine's speed:
 * `NEUROCACHE_TEST_DEEP_HOLD=N:DIRECTORY` makes the deep check of the manifest in DIRECTORY
 * start N files and then hold, before inflating any other, until it is cancelled.
 */
export const DEEP_HOLD_VARIABLE = 'NEUROCACHE_TEST_DEEP_HOLD';

function heldAfter(directory: string): number | undefined {
  const setting = process.env[DEEP_HOLD_VARIABLE];
  const colon = setting?.indexOf(':') ?? -1;
  if (!setting || colon < 0 || path.resolve(setting.slice(colon + 1)) !== path.resolve(directory)) return undefined;
  const files = Number(setting.slice(0, colon));
  return Number.isInteger(files) && files >= 0 ? files : undefined;
}

/** Settles only by rejecting, when `signal` aborts (never, without one). */
function untilAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

export async function deepCheck(
  parsed: ParsedManifest,
  facts: Promise<CacheFileFacts>[],
  directory: string,
  inspector: CacheInspector,
  options: { signal?: AbortSignal; onDeepProgress?: (done: number, total: number) => void },
): Promise<(DeepResult | undefined)[]> {
  // Files whose header shows nothing to inflate (missing, unreadable) count as done at once.
  const total = parsed.files.length;
  let done = 0;
  let started = 0;
  const hold = heldAfter(directory);
  options.onDeepProgress?.(0, total);
  return Promise.all(
    parsed.files.map(async (name, i) => {
      const known = await facts[i];
      let result: DeepResult | undefined;
      if (known.summary && !known.summary.windowsError) {
        if (hold !== undefined && started++ >= hold) await untilAborted(options.signal);
        result = await inspector.deepWindows(path.join(directory, name), options.signal);
      }
      options.onDeepProgress?.(++done, total);
      return result;
    }),
  );
}
