/**
 * Reading files the user names (JSON documents, the fingerprint store) safely: only regular
 * files, never more than a bound. O_NONBLOCK makes open() of a FIFO return at once instead of
 * waiting for a writer; fstat on the open handle then refuses it, with no window for a swap.
 */
import { constants, promises as fs, Stats } from 'node:fs';
import { fileTypeName } from '../engine/io/fileType';

/** Largest JSON document read (a 150,000-entry manifest is 13 MB; V8 strings end near 512 MiB). */
export const MAX_JSON_BYTES = 256 << 20;

/** A file that exists but is not read: not a regular file, or over the size bound. */
export class NotReadableFile extends Error {
  override name = 'NotReadableFile';
}

const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** Opens `file` for reading if it is a regular file; the handle's stat comes with it. */
export async function openRegularFile(file: string): Promise<{ handle: fs.FileHandle; size: number }> {
  const handle = await fs.open(file, READ_FLAGS);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new NotReadableFile(`${file} is ${fileTypeName(stat)}, not a regular file`);
    return { handle, size: stat.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * How a file is looked for. `often-missing`: the name is usually absent (a project file looked
 * for in every folder up the tree), so it is only opened, never stat-ed beside the open. A
 * missing name then costs one lookup instead of two; on FUSE mounts the first lookups of names
 * in one directory wait for each other and for a listing of it (measured on the libfuse 3
 * harness: a re-check one round trip faster). A file that is there costs one round trip more
 * (the fstat before the reads). `{ statted }`: the caller stat-ed the path itself (it wanted the
 * stat too: is it a directory?); that stat is the one beside the open, not a second lookup of the
 * same name (on a fresh FUSE mount first lookups of one name wait for each other).
 */
export type Expectation = 'present' | 'often-missing' | { statted: Promise<Stats> };

/** Reads a regular file of at most `maxBytes` as UTF-8 (one that grows past the bound while read is refused too). */
export async function readRegularText(
  file: string,
  maxBytes = MAX_JSON_BYTES,
  expectation: Expectation = 'present',
): Promise<string> {
  return (await readRegularBytes(file, maxBytes, expectation)).toString('utf8');
}

/** The first `length` bytes of a regular file (fewer if it is shorter). */
export async function readRegularHead(file: string, length: number): Promise<Buffer> {
  const { handle } = await openRegularFile(file);
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

// The size the stat gave is read in chunks side by side (no larger than a FUSE request, 128 KiB),
// together with a read just past it: on network storage each read is a round trip, and one large
// read is split into requests that go one after another (a 2 MB manifest: 15 in a row).
const CHUNK = 128 << 10;
const CHUNKS_IN_FLIGHT = 16;

/**
 * The bytes of a regular file of at most `maxBytes`. The path is stat-ed alongside the open (one
 * round trip for both on network storage): when that finds a regular file within the bound, the
 * reads start at once, side by side with the fstat that makes sure the file opened is the one
 * stat-ed (an fstat first and the reads after it are two round trips in a row). Anything else
 * (not a regular file, too large, or swapped or changed between the stat and the open) goes the
 * careful way: the fstat first, nothing read from a file that is not regular.
 */
export async function readRegularBytes(
  file: string,
  maxBytes = MAX_JSON_BYTES,
  expectation: Expectation = 'present',
): Promise<Buffer> {
  const statting =
    expectation === 'often-missing'
      ? Promise.resolve(undefined)
      : (expectation === 'present' ? fs.stat(file) : expectation.statted).then(
          (stat) => (stat.isFile() ? stat : undefined),
          () => undefined,
        );
  // A failed open says why at once (a missing file is common: project files are looked for).
  const handle = await fs.open(file, READ_FLAGS);
  try {
    const seen = await statting;
    if (seen && seen.size <= maxBytes) {
      const [opened, bytes] = await Promise.allSettled([handle.stat(), readHandle(handle, file, seen.size, maxBytes)]);
      if (opened.status === 'fulfilled' && bytes.status === 'fulfilled' && sameVersion(opened.value, seen))
        return bytes.value;
    }
    const stat = await handle.stat();
    if (!stat.isFile()) throw new NotReadableFile(`${file} is ${fileTypeName(stat)}, not a regular file`);
    return await readHandle(handle, file, stat.size, maxBytes);
  } finally {
    await handle.close();
  }
}

/** The same file, unchanged: what a path stat saw is what the open handle holds. */
function sameVersion(a: Stats, b: Stats): boolean {
  return a.isFile() && a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** The bytes of an open regular file the stat found `size` bytes long, within `maxBytes` (also if it grows while read). */
async function readHandle(handle: fs.FileHandle, file: string, size: number, maxBytes: number): Promise<Buffer> {
  const tooLarge = () =>
    new NotReadableFile(`${file} is over ${maxBytes} bytes, more than NeuroCache reads for a JSON file`);
  if (size > maxBytes) throw tooLarge();
  let buffer = Buffer.allocUnsafe(size + 1);
  let next = 0;
  let end = size; // lower if the file shrank since the stat
  const fillChunks = async () => {
    while (next < size) {
      const at = next;
      next += CHUNK;
      const want = Math.min(CHUNK, size - at);
      let got = 0;
      for (let n = -1; got < want && n !== 0; got += n)
        n = (await handle.read(buffer, at + got, want - got, at + got)).bytesRead;
      if (got < want) end = Math.min(end, at + got);
    }
  };
  const [, past] = await Promise.all([
    Promise.all(Array.from({ length: Math.min(CHUNKS_IN_FLIGHT, Math.ceil(size / CHUNK)) }, fillChunks)),
    handle.read(buffer, size, 1, size),
  ]);
  if (end < size) return buffer.subarray(0, end);
  if (past.bytesRead === 0) return buffer.subarray(0, size);
  // It grew while read: go on one read at a time, within the bound.
  let filled = size + 1;
  for (;;) {
    if (filled === buffer.length) {
      if (filled > maxBytes) throw tooLarge();
      buffer = Buffer.concat([buffer, Buffer.allocUnsafe(Math.min(buffer.length, maxBytes + 1 - filled))]);
    }
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}
