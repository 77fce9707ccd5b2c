/**
 * Fewer I/O threads for a build on a local file system. threadpool.ts asks libuv for 128, for
 * network storage, where each read holds a thread for a round trip; on a local disk a read holds
 * one for microseconds, and starting and ending 128 threads is a cost in a short process
 * (measured: `node -e` with one fs call, 16 threads against 128 on 2 loaded cores, medians of
 * 25 pairs: 0.92× the CPU time, 0.89× the wall time; 16 cost about what libuv's default 4 does). libuv reads UV_THREADPOOL_SIZE when the first asynchronous fs call starts its pool,
 * so this runs before the build's first one, with a synchronous statfs (which does not use the
 * pool). Linux only (its statfs types are these magic numbers); any other file system (NFS, SMB,
 * FUSE, unknown ones) keeps 128, and a size the user set is never changed.
 */
import { statfsSync } from 'node:fs';
import { IO_THREADS_CHOSEN_BY_USER } from '../threadpool';

/** statfs f_type of file systems on local devices or memory (linux/magic.h). */
const LOCAL_FILE_SYSTEMS = new Map<number, string>([
  [0xef53, 'ext2/3/4'],
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
  [0xf2f52010, 'f2fs'],
  [0x2fc12fc1, 'zfs'],
  [0x01021994, 'tmpfs'],
  [0x858458f6, 'ramfs'],
  [0x794c7630, 'overlayfs'],
]);

/** I/O threads for a build whose caches are on a local file system. */
export const LOCAL_IO_THREADS = 16;

/**
 * Whether `directory` is on one of the local file systems above (Linux only): the build then
 * also reads each cache file where it counts it, with synchronous calls (pool.ts `localReads`).
 * False for anything else, so network storage (and whatever is not known) keeps the reads
 * that overlap many round trips. A missing folder is false (the build says it is missing).
 */
export function onLocalFileSystem(directory: string, platform = process.platform): boolean {
  if (platform !== 'linux') return false;
  try {
    return LOCAL_FILE_SYSTEMS.has(statfsSync(directory).type);
  } catch {
    return false;
  }
}

/** Sizes libuv's pool for a build whose caches are (`local`) or are not on a local file system; call before its first fs call. */
export function sizeIoThreads(local: boolean): void {
  if (!IO_THREADS_CHOSEN_BY_USER && local) process.env.UV_THREADPOOL_SIZE = String(LOCAL_IO_THREADS);
}
