/**
 * Checks on one Hub row before anything of it is written: subject and session ids usable as
 * file names, and NIfTI bytes nibabel can open as `.nii.gz`. Cheap on purpose (902 sessions):
 * only the header prefix is inflated, and the gzip trailer's size is compared with what the
 * header declares; the whole stream is read only when they disagree.
 */
import { summarizeNifti } from '../engine/arc/nifti';
import { FormatError, memorySource } from '../engine/io/source';

/** Longest subject or session id accepted: `{subject}_{session}_lesion.nii.gz` stays far below 255 bytes. */
export const MAX_ID_LENGTH = 100;
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Why an id cannot name files (null, too long, or characters outside [A-Za-z0-9._-]), or undefined. */
export function idProblem(column: 'subject_id' | 'session_id', value: string | null): string | undefined {
  if (value === null) return `${column} is null`;
  if (value.length > MAX_ID_LENGTH) return `${column} is ${value.length} characters long (at most ${MAX_ID_LENGTH})`;
  if (!SAFE_ID.test(value))
    return `${column} ${JSON.stringify(value)} is not a safe file name (letters, digits, '.', '_' and '-', starting with a letter or digit)`;
  return undefined;
}

/**
 * The key two rows collide on: the joined file-name stem, case-folded because the same
 * folder on a case-insensitive file system (macOS, Windows) holds only one of `A` and `a`.
 */
export function collisionKey(subject: string, session: string): string {
  return `${subject}_${session}`.toLowerCase();
}

/**
 * What is wrong with bytes meant to become a `.nii.gz` file, or undefined when nibabel can load
 * them: the engine's image check (header fields nibabel refuses, gzip under a .gz name, and the
 * gzip trailer's length against the header, the whole stream read only when they disagree).
 */
export async function niftiGzProblem(bytes: Uint8Array): Promise<string | undefined> {
  if (bytes.length < 18 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    return 'not gzip data (a .nii.gz starts with the bytes 1f 8b; nibabel cannot open it)';
  }
  try {
    await summarizeNifti(memorySource(bytes), { countVoxels: false, name: 'row.nii.gz' });
    return undefined;
  } catch (error) {
    if (error instanceof FormatError) return `not a readable NIfTI image: ${error.message}`;
    throw error;
  }
}
