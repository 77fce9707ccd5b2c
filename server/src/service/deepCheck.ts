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
  options.onDeepProgress?.(0, total);
  return Promise.all(
    parsed.files.map(async (name, i) => {
      const known = await facts[i];
      const result =
        known.summary && !known.summary.windowsError
          ? await inspector.deepWindows(path.join(directory, name), options.signal)
          : undefined;
      options.onDeepProgress?.(++done, total);
      return result;
    }),
  );
}
