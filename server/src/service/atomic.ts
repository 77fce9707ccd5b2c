import { randomBytes } from 'node:crypto';
import { promises as fs, Stats } from 'node:fs';
import * as path from 'node:path';

/**
 * Temp files are `.{name}.{16 hex}.tmp` next to their target: random, so concurrent writes of
 * one target never share a temp file (pid + milliseconds did). Older versions wrote
 * `.{name}.{pid}.{ms}.tmp`. The download removes an interrupted run's leftovers by this pattern.
 */
export const ATOMIC_TEMP = /^\.(.+)\.(?:[0-9a-f]{16}|\d+\.\d+)\.tmp$/;

/** A write that was refused because it would replace something it must not. */
export class RefusedWrite extends Error {}

/**
 * Writes a file so readers see the old or the new content, never a half-written one (a temp
 * file in the same folder, synced, then renamed over the target).
 *
 * Replacing must not do more than writing in place would: a symbolic link is refused (a
 * rename would turn the link into a regular file and leave its target unchanged), so is a
 * file nobody may write and anything that is not a regular file; the new file gets the old
 * one's mode (never wider, never narrower) and, where permitted, its owner.
 *
 * `ownFile`: the target is NeuroCache's own (the fingerprint store), so whatever stands in its
 * place (a FIFO, a link) is simply replaced by a regular file.
 */
export async function writeFileAtomic(target: string, content: string | Uint8Array, options: { ownFile?: boolean } = {}): Promise<void> {
  let existing = await fs.lstat(target).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing && options.ownFile && !existing.isFile()) existing = undefined;
  if (existing && !options.ownFile) refuseUnlessReplaceable(target, existing);
  // Random, so concurrent writers (or a stale temp file) never share a name; 'wx' never follows or reuses an existing path.
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(8).toString('hex')}.tmp`);
  const handle = await fs.open(temp, 'wx', existing ? existing.mode & 0o7777 : 0o666);
  try {
    await handle.writeFile(content);
    if (existing) {
      // The umask may have narrowed the mode given to open: set exactly the old one.
      await handle.chmod(existing.mode & 0o7777);
      if (existing.uid !== process.getuid?.() || existing.gid !== process.getgid?.()) await handle.chown(existing.uid, existing.gid).catch(() => undefined);
    }
    await handle.sync();
  } catch (error) {
    await handle.close();
    await fs.rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await fs.rename(temp, target);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}

function refuseUnlessReplaceable(target: string, stat: Stats): void {
  if (stat.isSymbolicLink()) throw new RefusedWrite(`${target} is a symbolic link; NeuroCache does not replace links (change the file it points to instead)`);
  if (!stat.isFile()) throw new RefusedWrite(`${target} is not a regular file; NeuroCache does not replace it`);
  if ((stat.mode & 0o222) === 0) throw new RefusedWrite(`${target} is read-only; NeuroCache does not replace it (make it writable first)`);
}
