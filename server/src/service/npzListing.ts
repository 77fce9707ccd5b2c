/** The cache directory as the Python builder lists it. */
import { promises as fs, Stats } from 'node:fs';
import * as path from 'node:path';
import { compareCodePoints } from '../engine/eeg/manifestBuild';

/** `*.npz` entries directly in a directory, sorted like Python's `sorted(dir.glob("*.npz"))`. */
export async function listNpz(directory: string): Promise<string[]> {
  return (await listFolder(directory)).npz;
}

/** A directory's names (one listing), and its `*.npz` as `listNpz` gives them. */
export interface FolderListing {
  names: string[];
  npz: string[];
}

/** One listing for both: a build's cache files and the leftovers of interrupted writes it tidies (no second listing). */
export async function listFolder(directory: string): Promise<FolderListing> {
  const names = await fs.readdir(directory);
  return { names, npz: npzNames(names) };
}

function npzNames(names: string[]): string[] {
  return names.filter((n) => n.endsWith('.npz')).sort(compareCodePoints);
}

/** A folder's `*.npz` (as `listNpz` gives them) and a stat of each, asked for as soon as the listing is in. */
export interface ListedStats {
  /** The whole listing (rejects when the folder could not be listed). */
  listing: Promise<FolderListing>;
  names: Promise<string[]>;
  /** Empty when the folder could not be listed; a stat that failed is undefined. */
  stats: Promise<Map<string, Promise<Stats | undefined>>>;
}

export function listAndStatNpz(folder: string): ListedStats {
  const listing = listFolder(folder);
  const names = listing.then((listed) => listed.npz);
  const stats = names.then(
    (listed) =>
      new Map(
        listed.map((name) => [
          name,
          fs.stat(path.join(folder, name)).then(
            (stat) => stat,
            () => undefined,
          ),
        ]),
      ),
    () => new Map<string, Promise<Stats | undefined>>(),
  );
  return { listing, names, stats };
}
