/** Fixes for ARC dataset_info.json files, as text edits. */
import type { TextEdit } from '../json/edits';
import { isLegacyResolution, ParsedDatasetInfo, PathFacts, relativeToInfo } from './datasetInfo';

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
    if (!item || !facts?.resolved || !isLegacyResolution(facts.how)) return;
    edits.push({ offset: item.offset, length: item.length, newText: JSON.stringify(relativeToInfo(infoDir, facts.resolved)) });
  };
  for (const sample of parsed.samples) {
    rewrite(sample.image, images[sample.index]);
    if (sample.mask?.value) rewrite(sample.mask, masks[sample.index]);
  }
  return edits;
}
