/**
 * Finding files that moved: when most of a dataset_info.json's paths fail at once, the images
 * and masks are usually still in the workspace under another folder. Each missing path's file
 * name is looked for under the search root; the fix is offered only when every one of them is
 * found exactly once (a name found twice could be either, and a guess would point training at
 * the wrong scan).
 *
 * Bounded like the workspace scan (a data folder can hold millions of entries) and run only
 * for a mass failure, never for a handful of missing files.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { MAX_ENTRIES_VISITED } from './workspace';

// As the workspace scan: hidden folders and dependency folders are not where datasets live.
const SKIPPED = new Set(['node_modules', '__pycache__', 'venv', 'site-packages']);
/** Folders listed at once: on network storage each listing is a round trip. */
const LISTINGS_IN_FLIGHT = 16;

/** For each wanted file name, the one path under `root` that has it; undefined unless every name is found exactly once. */
export async function findMovedFiles(
  root: string,
  names: readonly string[],
  signal?: AbortSignal,
): Promise<Map<string, string> | undefined> {
  const wanted = new Set(names);
  const found = new Map<string, string[]>();
  let visited = 0;
  let queue = [root];
  while (queue.length && !signal?.aborted && visited < MAX_ENTRIES_VISITED) {
    const next: string[] = [];
    for (let i = 0; i < queue.length; i += LISTINGS_IN_FLIGHT) {
      const batch = queue.slice(i, i + LISTINGS_IN_FLIGHT);
      const listings = await Promise.all(batch.map((d) => fs.readdir(d, { withFileTypes: true }).catch(() => [])));
      listings.forEach((entries, k) => {
        for (const entry of entries) {
          visited++;
          const full = path.join(batch[k], entry.name);
          if (entry.isDirectory()) {
            if (!entry.name.startsWith('.') && !SKIPPED.has(entry.name)) next.push(full);
          } else if (entry.isFile() && wanted.has(entry.name)) {
            found.set(entry.name, [...(found.get(entry.name) ?? []), full]);
          }
        }
      });
    }
    queue = next;
  }
  if (signal?.aborted || visited >= MAX_ENTRIES_VISITED) return undefined;
  const unique = new Map<string, string>();
  for (const name of wanted) {
    const paths = found.get(name);
    if (paths?.length !== 1) return undefined;
    unique.set(name, paths[0]);
  }
  return unique;
}

/** The deepest folder holding all of `files` (for the message: "they are all under …"). */
export function commonFolder(files: Iterable<string>): string | undefined {
  let common: string[] | undefined;
  for (const file of files) {
    const parts = path.dirname(file).split(path.sep);
    if (!common) common = parts;
    else {
      let n = 0;
      while (n < common.length && n < parts.length && common[n] === parts[n]) n++;
      common = common.slice(0, n);
    }
  }
  return common && (common.join(path.sep) || path.sep);
}
