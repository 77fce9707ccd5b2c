/**
 * Finding the files to check in a workspace: every manifest.json / _dataset_index.json / dataset_info.json (and
 * files matching extra globs), without descending into dependency, VCS or hidden folders.
 * Bounded (a data folder can hold millions of entries) and cancellable. FIFOs and devices are
 * never listed (a read of one blocks forever); a symbolic link is, and its target is refused
 * when read if it is not a regular file.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { CHECKED_FILE_NAMES } from '../protocol';

const NAMES = new Set<string>(Object.values(CHECKED_FILE_NAMES));
const SKIPPED_DIRECTORIES = new Set(['node_modules', '__pycache__', 'venv', '.venv', 'site-packages']);
export const MAX_ENTRIES_VISITED = 200_000;

export function isTrackedName(name: string): boolean {
  return NAMES.has(name);
}

/** path.matchesGlob exists from Node 20.17 / 22.5; without it extra globs match by basename suffix. */
function globMatcher(globs: string[]): (relative: string) => boolean {
  const matchesGlob = (path as unknown as { matchesGlob?: (p: string, g: string) => boolean }).matchesGlob;
  if (!globs.length) return () => false;
  return (relative) =>
    globs.some((g) => (matchesGlob ? matchesGlob(relative, g) : relative.endsWith(g.replace(/^\*\*\/(\*)?/, ''))));
}

export async function findWorkspaceFiles(
  roots: string[],
  extraGlobs: string[],
  signal?: AbortSignal,
): Promise<string[]> {
  const found: string[] = [];
  const matches = globMatcher(extraGlobs);
  let visited = 0;
  for (const root of roots) {
    const queue = [root];
    while (queue.length && !signal?.aborted && visited < MAX_ENTRIES_VISITED) {
      const directory = queue.shift()!;
      const entries = await fs.readdir(directory, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        visited++;
        const full = path.join(directory, entry.name);
        if (entry.isDirectory()) {
          if (!entry.name.startsWith('.') && !SKIPPED_DIRECTORIES.has(entry.name)) queue.push(full);
        } else if (
          (entry.isFile() || entry.isSymbolicLink()) &&
          entry.name.endsWith('.json') &&
          (NAMES.has(entry.name) || matches(path.relative(root, full).split(path.sep).join('/')))
        ) {
          found.push(full);
        }
      }
    }
  }
  return found.sort();
}
