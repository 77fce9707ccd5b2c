/**
 * The deep check of a manifest's cache files (SPEC §1.2c): every listed file whose `windows`
 * header reads is inflated in the pool, answered from fingerprints when unchanged.
 */
import * as path from 'node:path';
import type { DeepResult } from '../engine/eeg/deepChecks';
import type { CacheFileFacts } from '../engine/eeg/manifestCheck';
import type { ParsedManifest } from '../engine/eeg/manifestParse';
import type { CacheInspector } from './inspector';

export async function deepCheck(
  parsed: ParsedManifest,
  facts: CacheFileFacts[],
  directory: string,
  inspector: CacheInspector,
  options: { signal?: AbortSignal; onDeepProgress?: (done: number, total: number) => void },
): Promise<(DeepResult | undefined)[]> {
  const wanted = facts.map((f) => !!f.summary && !f.summary.windowsError);
  const total = wanted.filter(Boolean).length;
  let done = 0;
  options.onDeepProgress?.(0, total);
  return Promise.all(
    parsed.files.map(async (name, i) => {
      if (!wanted[i]) return undefined;
      const result = await inspector.deepWindows(path.join(directory, name), options.signal);
      options.onDeepProgress?.(++done, total);
      return result;
    }),
  );
}
