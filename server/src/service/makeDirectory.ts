/**
 * `mkdir -p` that reports the real reason it failed. Node's recursive mkdir answers ENOENT when
 * a folder cannot be created on a read-only file system (EROFS) or without permission: it tries
 * the parent after the first failure and reports that lookup's error instead. Here the first
 * folder that does not exist is created on its own once, and its error is the one raised.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export async function makeDirectory(directory: string): Promise<void> {
  try {
    await fs.mkdir(directory, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    let missing = path.resolve(directory);
    while (
      path.dirname(missing) !== missing &&
      !(await fs.lstat(path.dirname(missing)).then(
        () => true,
        () => false,
      ))
    )
      missing = path.dirname(missing);
    await fs.mkdir(missing).catch((real: NodeJS.ErrnoException) => {
      // EEXIST: created meanwhile by someone else; anything else is the real reason (EROFS, EACCES, ENOTDIR, ...).
      if (real.code !== 'EEXIST') throw real;
    });
    await fs.mkdir(directory, { recursive: true });
  }
}
