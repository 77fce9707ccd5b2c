/** Fixes for seizure manifests. */
import { pythonJson } from '../json/edits';
import { CATEGORIES } from './category';

/**
 * The manifest without the entries `keep` rejects, in the pipeline's own format (other root
 * keys and their order are preserved). Undefined when the text is not valid JSON.
 */
export function dropEntries(text: string, keep: (cacheFile: unknown) => boolean): { text: string; dropped: number } | undefined {
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(text);
  } catch {
    return undefined;
  }
  let dropped = 0;
  for (const category of CATEGORIES) {
    const entries = manifest[category];
    if (!Array.isArray(entries)) continue;
    manifest[category] = entries.filter((entry) => {
      const kept = keep((entry as { cache_file?: unknown } | null)?.cache_file);
      if (!kept) dropped++;
      return kept;
    });
  }
  return { text: pythonJson(manifest), dropped };
}

