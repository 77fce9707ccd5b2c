/**
 * The project file's name and how one folder's is read; which one applies (the nearest up the
 * tree) and what it configures is projectConfig.ts. Kept apart so out/cli.js can start the read
 * of a checked file's folder before it loads the rest (cli/earlyReads.ts).
 */
import * as path from 'node:path';
import { readRegularText } from './regularFile';

export const PROJECT_FILE = '.neurocache.json';
/** A project file is a few lines; anything larger is not one. */
const MAX_PROJECT_FILE_BYTES = 1 << 20;

/** The text of `directory`'s project file; rejects (ENOENT when there is none, the usual case: only opened, one lookup). */
export function readProjectFile(directory: string): Promise<string> {
  return readRegularText(path.join(directory, PROJECT_FILE), MAX_PROJECT_FILE_BYTES, 'often-missing');
}

/**
 * readProjectFile for a folder being listed anyway: a listing that names no project file answers
 * ENOENT without a lookup of the name. On a FUSE mount a missing name's lookup holds the folder's
 * lock, and the listing waited for it (a fresh mount's re-check one round trip longer, measured
 * on the libfuse 3 harness). Any name that could be it on a case-insensitive volume, or a failed
 * listing, is read as always.
 */
export async function readListedProjectFile(directory: string, listing: Promise<{ names: string[] }>): Promise<string> {
  const listed = await listing.then(
    ({ names }) => names,
    () => undefined,
  );
  if (listed && !listed.some((name) => name.toLowerCase() === PROJECT_FILE)) {
    const file = path.join(directory, PROJECT_FILE);
    throw Object.assign(new Error(`ENOENT: no such file or directory, open '${file}'`), { code: 'ENOENT', path: file });
  }
  return readProjectFile(directory);
}

/**
 * The project file of `folder` and of every folder above it, all read at once into `started`
 * (ProjectConfigs takes the nearest, and would otherwise ask one folder after the other: a round
 * trip each on network storage, so a cache folder five levels into a mount waited five). A
 * folder whose listing is under way (`listingOf`) is answered from it (readListedProjectFile).
 */
export function startProjectFileReads(
  folder: string,
  started: Map<string, Promise<string>>,
  listingOf: (directory: string) => Promise<{ names: string[] }> | undefined = () => undefined,
): Map<string, Promise<string>> {
  for (let directory = folder; !started.has(directory); directory = path.dirname(directory)) {
    const listing = listingOf(directory);
    const project = listing ? readListedProjectFile(directory, listing) : readProjectFile(directory);
    project.catch(() => undefined); // awaited by ProjectConfigs, which reports what failed
    started.set(directory, project);
    if (path.dirname(directory) === directory) break;
  }
  return started;
}
