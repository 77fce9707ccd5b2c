/** Fixes for ARC dataset_info.json files, as text edits. */
import type { TextEdit } from '../json/edits';
import { isLegacyResolution, Item, ParsedDatasetInfo, PathFacts, relativeToInfo } from './datasetInfo';

/** Sets a recorded lesion volume to the counted one; undefined when there is nothing to change. */
export function lesionVolumeEdit(volume: Item<number> | undefined, counted: number | undefined): TextEdit | undefined {
  if (!volume || counted === undefined || counted === volume.value) return undefined;
  return { offset: volume.offset, length: volume.length, newText: String(counted) };
}

/** Replaces each recorded lesion volume with the counted one, where they differ. */
export function lesionVolumeEdits(parsed: ParsedDatasetInfo, counted: (number | undefined)[]): TextEdit[] {
  return parsed.samples.flatMap((sample) => lesionVolumeEdit(sample.volume, counted[sample.index]) ?? []);
}

/**
 * Rewrites a path found only via a parent folder or the working directory relative to
 * dataset_info.json (the same file, found first from there); undefined for any other path.
 */
export function legacyPathEdit(
  item: Item<string | null> | undefined,
  facts: PathFacts | undefined,
  infoDir: string,
): TextEdit | undefined {
  if (!item || typeof item.value !== 'string' || !facts?.resolved || !isLegacyResolution(facts.how)) return undefined;
  return { offset: item.offset, length: item.length, newText: JSON.stringify(relativeToInfo(infoDir, facts.resolved)) };
}

/** Rewrites every legacy path relative to dataset_info.json. */
export function legacyPathEdits(
  parsed: ParsedDatasetInfo,
  images: (PathFacts | undefined)[],
  masks: (PathFacts | undefined)[],
  infoDir: string,
): TextEdit[] {
  return parsed.samples.flatMap((sample) =>
    [
      legacyPathEdit(sample.image, images[sample.index], infoDir),
      legacyPathEdit(sample.mask, masks[sample.index], infoDir),
    ].filter((e) => e !== undefined),
  );
}

/** Points each missing path at the file found again by name (`moved`: file name → absolute path), relative to dataset_info.json. */
export function movedPathEdits(
  missing: Item<string>[],
  moved: ReadonlyMap<string, string>,
  infoDir: string,
): TextEdit[] {
  return missing.flatMap((item) => {
    const found = moved.get(baseName(item.value));
    return found
      ? [{ offset: item.offset, length: item.length, newText: JSON.stringify(relativeToInfo(infoDir, found)) }]
      : [];
  });
}

/** The file name of a path as written in dataset_info.json (either separator). */
export const baseName = (written: string) =>
  written.slice(Math.max(written.lastIndexOf('/'), written.lastIndexOf('\\')) + 1);
