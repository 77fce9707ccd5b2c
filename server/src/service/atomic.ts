import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/**
 * Temp files are `.{name}.{16 hex}.tmp` next to their target: random, so concurrent writes of
 * one target never share a temp file (pid + milliseconds did). Older versions wrote
 * `.{name}.{pid}.{ms}.tmp`. The download removes an interrupted run's leftovers by this pattern.
 */
export const ATOMIC_TEMP = /^\.(.+)\.(?:[0-9a-f]{16}|\d+\.\d+)\.tmp$/;

/** Writes a file so readers see the old or the new content, never a half-written one. */
export async function writeFileAtomic(target: string, content: string | Uint8Array): Promise<void> {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(8).toString('hex')}.tmp`);
  const handle = await fs.open(temp, 'w');
  try {
    await handle.writeFile(content);
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
