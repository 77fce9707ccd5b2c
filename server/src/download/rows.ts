/**
 * Checks on one Hub row before anything of it is written: subject and session ids usable as
 * file names, and NIfTI bytes nibabel can open as `.nii.gz`. Cheap on purpose (902 sessions):
 * only the header prefix is inflated, and the gzip trailer's size is compared with what the
 * header declares; the whole stream is read only when they disagree.
 */
import * as zlib from 'node:zlib';
import { NiftiSummary, summarizeNifti } from '../engine/arc/nifti';
import { FormatError, memorySource } from '../engine/io/source';
import { niftiElementType } from '../engine/numpy/elements';

/** Longest subject or session id accepted: `{subject}_{session}_lesion.nii.gz` stays far below 255 bytes. */
export const MAX_ID_LENGTH = 100;
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Why an id cannot name files (null, too long, or characters outside [A-Za-z0-9._-]), or undefined. */
export function idProblem(column: 'subject_id' | 'session_id', value: string | null): string | undefined {
  if (value === null) return `${column} is null`;
  if (value.length > MAX_ID_LENGTH) return `${column} is ${value.length} characters long (at most ${MAX_ID_LENGTH})`;
  if (!SAFE_ID.test(value)) return `${column} ${JSON.stringify(value)} is not a safe file name (letters, digits, '.', '_' and '-', starting with a letter or digit)`;
  return undefined;
}

/**
 * The key two rows collide on: the joined file-name stem, case-folded because the same
 * folder on a case-insensitive file system (macOS, Windows) holds only one of `A` and `a`.
 */
export function collisionKey(subject: string, session: string): string {
  return `${subject}_${session}`.toLowerCase();
}

/** What is wrong with bytes meant to become a `.nii.gz` file, or undefined when nibabel can load them. */
export async function niftiGzProblem(bytes: Uint8Array): Promise<string | undefined> {
  if (bytes.length < 18 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    return 'not gzip data (a .nii.gz starts with the bytes 1f 8b; nibabel cannot open it)';
  }
  try {
    const header = await headerOf(bytes);
    if (header?.summary.compressed) return 'gzip data inside gzip data, not a NIfTI image';
    if (header && trailerAgrees(bytes, header.prefix, header.summary)) return undefined;
    // Truncated, trailing bytes, several gzip members, or huge extensions: only reading it all tells.
    await summarizeNifti(memorySource(bytes), { countVoxels: true });
    return undefined;
  } catch (error) {
    if (error instanceof FormatError) return `not a readable NIfTI image: ${error.message}`;
    throw error;
  }
}

/** ISIZE, the last 4 bytes of a gzip member, is the uncompressed length modulo 2^32: header + extensions + voxels. */
function trailerAgrees(bytes: Uint8Array, prefix: Uint8Array, summary: NiftiSummary): boolean {
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  const voxOffset = summary.version === 1 ? view.getFloat32(108, summary.littleEndian) : Number(view.getBigInt64(168, summary.littleEndian));
  const dataOffset = Math.max(summary.version === 1 ? 352 : 544, Math.floor(voxOffset));
  const expected = dataOffset + summary.totalVoxels * niftiElementType(summary.datatypeCode, summary.littleEndian).size;
  const isize = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 4, 4).getUint32(0, true);
  return isize === expected % 2 ** 32;
}

// Header plus extensions beyond this are not plausible: bounds what a prefix may inflate to.
const MAX_HEADER_INFLATE = 16 << 20;

/**
 * Inflates growing prefixes (1 KiB, 16 KiB, ... of compressed bytes) until the header and its
 * extensions parse; undefined when a prefix inflates beyond the bound first (left to the full read).
 */
async function headerOf(bytes: Uint8Array): Promise<{ prefix: Uint8Array; summary: NiftiSummary } | undefined> {
  for (let take = 1024; ; take *= 16) {
    const compressed = bytes.subarray(0, Math.min(take, bytes.length));
    let prefix: Uint8Array;
    try {
      prefix = zlib.gunzipSync(compressed, { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: MAX_HEADER_INFLATE });
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return undefined;
      throw new FormatError(`corrupt gzip data (${(error as Error).message})`);
    }
    try {
      return { prefix, summary: await summarizeNifti(memorySource(prefix), { countVoxels: false }) };
    } catch (error) {
      if (!(error instanceof FormatError) || compressed.length === bytes.length) throw error;
    }
  }
}
