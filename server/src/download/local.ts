/**
 * The download's own state in DIR: a lock (one download per folder, so an interrupted run's
 * temp files can be removed safely), leftover temp files, and the SHA-256 checksums that let a
 * resumed run trust a file written earlier.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ATOMIC_TEMP } from '../service/atomic';

export const STATE_DIR = '.neurocache';
export const NIFTI_DIR = path.join('cache', 'nifti_cache');
export const JOURNAL_NAME = 'download-journal.json';
const LOCK_NAME = 'download.lock';

export class LockedError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes `DIR/.neurocache/download.lock` and returns its release. A lock left by a process of
 * this host that no longer runs is taken over; one from another host (a shared network volume)
 * cannot be checked, so the message says how to remove it.
 */
export async function acquireLock(out: string): Promise<() => Promise<void>> {
  const lock = path.join(out, STATE_DIR, LOCK_NAME);
  await fs.mkdir(path.dirname(lock), { recursive: true });
  const me = { pid: process.pid, host: os.hostname() };
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.writeFile(lock, JSON.stringify(me), { flag: 'wx' });
      return () => fs.rm(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await fs.readFile(lock, 'utf8').then(
      (t) => JSON.parse(t) as typeof me,
      () => undefined,
    );
    const stale = !holder || typeof holder.pid !== 'number' || (holder.host === me.host && !alive(holder.pid));
    if (!stale || attempt > 0) {
      throw new LockedError(
        `another download into ${out} is running (process ${holder?.pid} on ${holder?.host}); if it is not, delete ${lock}`,
      );
    }
    await fs.rm(lock, { force: true });
  }
}

/** Temp files of atomic writes (see ATOMIC_TEMP) for the files a download writes, per folder. */
function leftoverTemps(out: string): Promise<string[]> {
  const targets: [string, (name: string) => boolean][] = [
    [out, (name) => name === 'dataset_info.json'],
    [path.join(out, NIFTI_DIR), (name) => name.endsWith('.nii.gz')],
    [path.join(out, STATE_DIR), (name) => name === JOURNAL_NAME],
  ];
  return Promise.all(
    targets.map(async ([dir, ours]) => {
      const names = await fs.readdir(dir).catch(() => [] as string[]);
      return names.filter((name) => ours(ATOMIC_TEMP.exec(name)?.[1] ?? '')).map((name) => path.join(dir, name));
    }),
  ).then((lists) => lists.flat());
}

/** Removes the temp files an interrupted download left (call it holding the lock); returns how many. */
export async function removeLeftoverTemps(out: string): Promise<number> {
  const temps = await leftoverTemps(out);
  await Promise.all(temps.map((file) => fs.rm(file, { force: true })));
  return temps.length;
}

/**
 * The same for a download that has nothing to fetch: only when there is something to remove
 * (so a complete folder, maybe read-only, is not touched) and no other download holds the lock.
 */
export async function removeLeftoverTempsIfIdle(out: string): Promise<number> {
  if ((await leftoverTemps(out)).length === 0) return 0;
  try {
    const release = await acquireLock(out);
    try {
      return await removeLeftoverTemps(out);
    } finally {
      await release();
    }
  } catch {
    return 0;
  }
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Whether `file` still holds what was written: its size first (cheap), then its SHA-256. */
export async function fileMatches(file: string, size: number, checksum: string): Promise<boolean> {
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat?.isFile() || stat.size !== size) return false;
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch {
    return false;
  }
  return hash.digest('hex') === checksum;
}
