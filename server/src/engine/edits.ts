/**
 * Fixes as text edits, for the editor (applied as workspace edits to an open buffer) and for
 * files on disk (applied to the text, then written atomically).
 */
import * as path from 'node:path';
import type { ParsedDatasetInfo, PathFacts } from './datasetInfo';
import { CATEGORIES } from './npz';

export interface TextEdit {
  offset: number;
  length: number;
  newText: string;
}

export function applyEdits(text: string, edits: TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => b.offset - a.offset);
  let out = text;
  for (const e of sorted) out = out.slice(0, e.offset) + e.newText + out.slice(e.offset + e.length);
  return out;
}

/** Python's `json.dumps(value, indent=2)` (ensure_ascii): what the pipeline itself writes. */
export function pythonJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

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

/** Replaces each recorded lesion volume with the counted one, where they differ. */
export function lesionVolumeEdits(parsed: ParsedDatasetInfo, counted: (number | undefined)[]): TextEdit[] {
  const edits: TextEdit[] = [];
  for (const sample of parsed.samples) {
    const count = counted[sample.index];
    if (sample.volume && count !== undefined && count !== sample.volume.value) {
      edits.push({ offset: sample.volume.offset, length: sample.volume.length, newText: String(count) });
    }
  }
  return edits;
}

/** Rewrites paths found only via a parent folder or the working directory, relative to dataset_info.json. */
export function legacyPathEdits(parsed: ParsedDatasetInfo, images: (PathFacts | undefined)[], masks: (PathFacts | undefined)[], infoDir: string): TextEdit[] {
  const edits: TextEdit[] = [];
  const rewrite = (item: { offset: number; length: number } | undefined, facts: PathFacts | undefined) => {
    if (!item || !facts?.resolved || (facts.how !== 'parent' && facts.how !== 'cwd')) return;
    const relative = path.relative(infoDir, facts.resolved).split(path.sep).join('/');
    edits.push({ offset: item.offset, length: item.length, newText: JSON.stringify(relative) });
  };
  for (const sample of parsed.samples) {
    rewrite(sample.image, images[sample.index]);
    if (sample.mask?.value) rewrite(sample.mask, masks[sample.index]);
  }
  return edits;
}
