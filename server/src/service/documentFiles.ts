/**
 * The JSON documents the language server reads and writes on disk, and the workspace folders
 * that bound what it may touch: reads open only regular files (never blocking on a FIFO),
 * writes stay inside a workspace folder even through symbolic links, and relative paths
 * resolve against the folder that contains the document (not the first one).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isInside, RefusedWrite } from './atomic';

export { isInside };
import { readRegularText } from './regularFile';

/** The text of a regular file (never blocking on a FIFO, bounded), or undefined when it cannot be read. */
export function readDocumentFile(file: string): Promise<string | undefined> {
  return readRegularText(file).catch(() => undefined);
}

/** The innermost workspace folder containing `file` (lexically), if any. */
export function containingFolder(file: string, folders: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const folder of folders) if (isInside(file, folder) && (!best || folder.length > best.length)) best = folder;
  return best;
}

/** Where a document's relative paths resolve when the trainer runs from its workspace folder. */
export function workingDirectoryFor(file: string, folders: readonly string[]): string {
  return containingFolder(file, folders) ?? path.dirname(file);
}

/** The real path of `target`, or of its deepest existing ancestor joined with the rest. */
async function realPathOfPrefix(target: string): Promise<string> {
  let existing = target;
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(await fs.realpath(existing), ...rest.reverse());
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return target;
      rest.push(path.basename(existing));
      existing = parent;
    }
  }
}

/**
 * Refuses unless `target`, with every symbolic link on its way resolved, lies inside one of
 * the workspace folders (also resolved). Returns those real folders: a later write is confined
 * to them (writeFileAtomic's `confine`), so that a link put on the way meanwhile cannot lead it out.
 */
export async function assertInsideWorkspace(
  target: string,
  folders: readonly string[],
  what: string,
): Promise<string[]> {
  if (folders.length === 0)
    throw new RefusedWrite(
      `NeuroCache changes files only inside a workspace folder, and none is open (${what} ${target})`,
    );
  const real = await realPathOfPrefix(path.resolve(target));
  const roots = await Promise.all(folders.map((f) => realPathOfPrefix(f)));
  if (!roots.some((root) => isInside(real, root))) {
    throw new RefusedWrite(
      `${what} ${target} is outside the workspace folders${real !== path.resolve(target) ? ` (it resolves to ${real})` : ''}; NeuroCache changes files only inside them`,
    );
  }
  return roots;
}

/** An absolute folder as given, or a relative one inside the first workspace folder. */
export async function resolveFolderArgument(folder: string, folders: readonly string[], what: string): Promise<string> {
  if (path.isAbsolute(folder)) return path.normalize(folder);
  const root = folders[0];
  if (!root)
    throw new RefusedWrite(`${what} "${folder}" is relative, and no workspace folder is open to resolve it against`);
  const resolved = path.resolve(root, folder);
  await assertInsideWorkspace(resolved, [root], what);
  return resolved;
}
