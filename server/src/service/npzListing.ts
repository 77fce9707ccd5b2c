/** The cache directory as the Python builder lists it. */
import { promises as fs } from 'node:fs';
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
