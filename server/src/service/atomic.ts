import { constants, promises as fs, Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';

/**
 * Temp files are `.{name}.{16 hex}.tmp` next to their target: random, so concurrent writes of
 * one target never share a temp file (pid + milliseconds did). Older versions wrote
 * `.{name}.{pid}.{ms}.tmp`. The download removes an interrupted run's leftovers by this pattern.
 */
export const ATOMIC_TEMP = /^\.(.+)\.(?:[0-9a-f]{16}|\d+\.\d+)\.tmp$/;

/**
 * A temp file of ours left this long unchanged is a leftover (a write killed between create and
 * rename), never a write under way: a writer fills and renames its temp file in one go, seconds
 * even for the largest manifest on network storage, and each write updates its mtime.
 */
export const STALE_TEMP_MS = 60 * 60 * 1000;

/**
 * Removes leftover temp files of writes of `target` (named `.{its name}.{16 hex}.tmp` or the
 * older pattern, regular files, unchanged for STALE_TEMP_MS): a build or fix killed mid-write
 * leaves one, and nothing else would ever remove it. Another file's temp files, anything not
 * named by the pattern, links and fresh temp files (a concurrent writer's) are left alone.
 * Returns how many were removed. `listed`: the folder's names from a listing just made (a build's),
 * so the folder is not listed again.
 */
export async function removeStaleTemps(target: string, now = Date.now(), listed?: string[]): Promise<number> {
  const folder = path.dirname(path.resolve(target));
  const name = path.basename(target);
  const prefix = `.${name}.`;
  let removed = 0;
  try {
    // Names only: fs.opendir's entries lstat each name whose type the listing leaves out (as FUSE
    // and some network file systems do), one round trip after another for every file in a cache
    // folder of thousands; only names with the target's prefix are looked at, side by side.
    const names = (listed ?? (await fs.readdir(folder))).filter(
      (entry) => entry.startsWith(prefix) && ATOMIC_TEMP.exec(entry)?.[1] === name,
    );
    await Promise.all(
      names.map(async (entry) => {
        const file = path.join(folder, entry);
        const stat = await fs.lstat(file).catch(() => undefined);
        if (!stat?.isFile() || now - stat.mtimeMs < STALE_TEMP_MS) return;
        await fs.rm(file, { force: true });
        removed++;
      }),
    );
  } catch {
    // An unreadable folder: nothing to tidy.
  }
  return removed;
}

/** A write that was refused because it would replace something it must not. */
export class RefusedWrite extends Error {}

/** Whether `child` is `parent` or lies inside it (lexically; both absolute and normalised). */
export const isInside = (child: string, parent: string) => {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative));
};

export interface AtomicWriteOptions {
  /** The target is NeuroCache's own (the fingerprint store): whatever stands in its place (a FIFO, a link) is replaced. */
  ownFile?: boolean;
  /**
   * Real paths (links resolved when the caller checked where it may write: the workspace
   * folders, the folder a build or download was given). The write lands inside one of them,
   * judged again at the moment of writing, or not at all.
   */
  confine?: readonly string[];
}

/**
 * For tests only: runs at each stage of a write, so that a test can change the file system
 * exactly there (swap a folder for a link) instead of racing the write with sleeps.
 */
export const atomicWriteHooks: { stage?: (stage: 'start' | 'before-rename', target: string) => void | Promise<void> } =
  {};

// O_EXCL never follows or reuses an existing path; O_NOFOLLOW says so for the last component on every platform.
/**
 * 16 random hex digits (ATOMIC_TEMP's form), as many random bits as before; O_EXCL refuses a
 * name taken anyway. From Math.random, not node:crypto: loading that compiles ~20 internal
 * modules, a few ms of every short CLI run that writes a manifest.
 */
function uniqueSuffix(): string {
  const word = () =>
    Math.floor(Math.random() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return word() + word();
}

const TEMP_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/** What a write puts in the file: its text or bytes, or its text in pieces (written one after the other, never joined). */
export type FileContent = string | Uint8Array | Iterable<string>;

/**
 * Writes a file so readers see the old or the new content, never a half-written one (a temp
 * file in the same folder, synced, then renamed over the target).
 *
 * Where it lands is decided when it is written, not when the caller looked: the target's folder
 * is resolved to its real path at the start (and must lie inside `confine`), the temp file is
 * created and renamed through that real path only, and right before the rename the folder must
 * still be that real path (no component swapped for a link meanwhile) holding the very temp file
 * written. A folder swapped for a link while a rebuild ran therefore makes the write fail instead
 * of replacing a file elsewhere. (Node has no renameat: between the last check and the rename a
 * few system calls remain, not the seconds or hours a rebuild or a download takes.)
 *
 * Replacing must not do more than writing in place would: a symbolic link is refused (a
 * rename would turn the link into a regular file and leave its target unchanged), so is a
 * file nobody may write and anything that is not a regular file; the new file gets the old
 * one's mode (never wider, never narrower) and, where permitted, its owner.
 */
export async function writeFileAtomic(
  target: string,
  content: FileContent,
  options: AtomicWriteOptions = {},
): Promise<void> {
  await (await prepareAtomicWrite(target, options)).commit(content);
}

/** A write made ready before its content is known: `commit` writes and renames, `abandon` removes the temp file. */
export interface PreparedWrite {
  commit(content: FileContent): Promise<void>;
  abandon(): Promise<void>;
}

/**
 * `writeFileAtomic` in two steps: the folder resolved, the target looked at and the temp file
 * created now, the content written and renamed into place by `commit`. A caller that computes
 * the content (a build reading a cache) prepares while it computes: on network storage the
 * preparing is two round trips in a row, then off the way. Everything judged when preparing is
 * judged again right before the rename (side by side with the checks that were there already),
 * so a target replaced by a link meanwhile is refused as before.
 */
export async function prepareAtomicWrite(target: string, options: AtomicWriteOptions = {}): Promise<PreparedWrite> {
  await atomicWriteHooks.stage?.('start', target);
  const folder = await fs.realpath(path.dirname(path.resolve(target)));
  if (options.confine && !options.confine.some((root) => isInside(folder, root))) {
    throw new RefusedWrite(
      `${target} now lies in ${folder}, outside ${options.confine.join(', ')} (a folder on its way was replaced by a link); nothing was written`,
    );
  }
  const real = path.join(folder, path.basename(target));
  // Random, so concurrent writers (or a stale temp file) never share a name.
  const temp = path.join(folder, `.${path.basename(target)}.${uniqueSuffix()}.tmp`);
  // The target is looked at while the temp file is created (on network storage each is a round
  // trip): the temp file starts with the default mode and, before a byte is written, gets the
  // old file's; a target that must not be replaced removes the still-empty temp file again. The
  // temp file's identity is taken at the end, with the checks before the rename (an open
  // handle's inode never changes).
  const lookAtTarget = () =>
    fs.lstat(real).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
  const [looked, opened] = await Promise.allSettled([lookAtTarget(), fs.open(temp, TEMP_FLAGS, 0o666)]);
  if (opened.status === 'rejected') throw opened.reason;
  const handle = opened.value;
  /** Refuses a target that must not be replaced; gives the temp file its mode and owner. */
  const takeOver = async (existing: Stats | undefined) => {
    if (existing && options.ownFile && !existing.isFile()) existing = undefined;
    if (existing && !options.ownFile) refuseUnlessReplaceable(target, existing);
    if (!existing) return;
    // Exactly the old mode (the umask may have narrowed it, and 0o666 may be wider).
    await handle.chmod(existing.mode & 0o7777);
    if (existing.uid !== process.getuid?.() || existing.gid !== process.getgid?.())
      await handle.chown(existing.uid, existing.gid).catch(() => undefined);
  };
  /** Closes and removes the temp file (unless its path now names another file: the folder was swapped). */
  const discard = async (written?: Stats) => {
    const ours = written ?? (await handle.stat().catch(() => undefined));
    await handle.close();
    await removeIfOurs(temp, ours);
  };
  const fail = async (error: unknown, written?: Stats): Promise<never> => {
    await discard(written);
    throw error;
  };
  let before: Stats | undefined;
  try {
    if (looked.status === 'rejected') throw looked.reason;
    before = looked.value;
    // Set before any content.
    await takeOver(before);
  } catch (error) {
    await fail(error);
  }
  let settled = false;
  return {
    async commit(content) {
      if (settled) throw new Error('an atomic write commits once');
      settled = true;
      let written: Stats | undefined;
      try {
        if (typeof content === 'string' || content instanceof Uint8Array) await handle.writeFile(content);
        // A handle's writeFile writes from where the last write ended: the pieces follow each other.
        else for (const piece of content) await handle.writeFile(piece);
        await handle.sync();
        await atomicWriteHooks.stage?.('before-rename', target);
        let now: Stats | undefined;
        [written, now] = await Promise.all([assertStillThere(target, folder, temp, handle), lookAtTarget()]);
        // Changed since the write was prepared (replaced by a link, made read-only, its mode changed): judged as it is now.
        if (!sameTarget(before, now)) await takeOver(now);
      } catch (error) {
        await fail(error, written);
      }
      await handle.close();
      try {
        await fs.rename(temp, real);
      } catch (error) {
        await removeIfOurs(temp, written);
        throw error;
      }
    },
    async abandon() {
      if (settled) return;
      settled = true;
      await discard().catch(() => undefined);
    },
  };
}

/** Whether what stands at the target is still what was there when the write was prepared (or still nothing). */
function sameTarget(a: Stats | undefined, b: Stats | undefined): boolean {
  if (!a || !b) return a === b;
  return sameFile(a, b) && a.mode === b.mode && a.uid === b.uid && a.gid === b.gid;
}

const sameFile = (a: Stats | undefined, b: Stats) => !!a && a.ino === b.ino && a.dev === b.dev;

/** Removes the temp file unless what is at its path now is not the one this write created (its folder was swapped). */
async function removeIfOurs(temp: string, written: Stats | undefined): Promise<void> {
  if (written && sameFile(await fs.lstat(temp).catch(() => undefined), written)) await fs.rm(temp, { force: true });
}

/**
 * The folder still resolves to itself and holds the temp file this write created (same device
 * and inode as the open handle's, which always names the file created). Returns the handle's stat.
 */
async function assertStillThere(target: string, folder: string, temp: string, handle: FileHandle): Promise<Stats> {
  // Side by side: each is a round trip (or several) on network storage.
  const [written, now, there] = await Promise.all([
    handle.stat(),
    fs.realpath(folder).catch(() => undefined),
    fs.lstat(temp).catch(() => undefined),
  ]);
  if (now !== folder || !sameFile(there, written)) {
    throw new RefusedWrite(
      `the folder of ${target} (${folder}) was moved or replaced while it was written${now && now !== folder ? ` (it now resolves to ${now})` : ''}; nothing was written`,
    );
  }
  return written;
}

function refuseUnlessReplaceable(target: string, stat: Stats): void {
  if (stat.isSymbolicLink())
    throw new RefusedWrite(
      `${target} is a symbolic link; NeuroCache does not replace links (change the file it points to instead)`,
    );
  if (!stat.isFile()) throw new RefusedWrite(`${target} is not a regular file; NeuroCache does not replace it`);
  if ((stat.mode & 0o222) === 0)
    throw new RefusedWrite(`${target} is read-only; NeuroCache does not replace it (make it writable first)`);
}
