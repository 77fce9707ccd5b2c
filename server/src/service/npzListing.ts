/** The cache directory as the Python builder lists it. */
import { promises as fs } from 'node:fs';
import { compareCodePoints } from '../engine/eeg/manifestBuild';

/** `*.npz` entries directly in a directory, sorted like Python's `sorted(dir.glob("*.npz"))`. */
export async function listNpz(directory: string): Promise<string[]> {
  const names = await fs.readdir(directory);
  return names.filter((n) => n.endsWith('.npz')).sort(compareCodePoints);
}
