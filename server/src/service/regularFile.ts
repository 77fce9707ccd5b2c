/**
 * Reading files the user names (JSON documents, the fingerprint store) safely: only regular
 * files, never more than a bound. O_NONBLOCK makes open() of a FIFO return at once instead of
 * waiting for a writer; fstat on the open handle then refuses it, with no window for a swap.
 */
import { constants, promises as fs } from 'node:fs';
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

/** Reads a regular file of at most `maxBytes` as UTF-8 (one that grows past the bound while read is refused too). */
export async function readRegularText(file: string, maxBytes = MAX_JSON_BYTES): Promise<string> {
  return (await readRegularBytes(file, maxBytes)).toString('utf8');
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

/** The bytes of a regular file of at most `maxBytes`. */
export async function readRegularBytes(file: string, maxBytes = MAX_JSON_BYTES): Promise<Buffer> {
  const { handle, size } = await openRegularFile(file);
  try {
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
  } finally {
    await handle.close();
  }
}
