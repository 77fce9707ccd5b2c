/** The NIfTI files one run writes: each name at most once (case-folded), and taken back when its row is dropped. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../service/atomic';
import { NIFTI_DIR } from './local';

export class RunFiles {
  /** Files written by this run (case-folded): a second write to one of them is a bug, never done silently. */
  private readonly written = new Set<string>();

  /** `confine`: the real folders the files must land in (writeFileAtomic). */
  constructor(
    private readonly out: string,
    private readonly confine: readonly string[],
  ) {}

  /** Writes `name` under the NIfTI folder atomically; returns its path relative to `out`, with `/`. */
  async write(name: string, data: Uint8Array): Promise<string> {
    const relative = path.join(NIFTI_DIR, name);
    const claim = relative.toLowerCase();
    if (this.written.has(claim)) throw new Error(`internal error: ${relative} would be written twice in one run`);
    this.written.add(claim);
    await writeFileAtomic(path.join(this.out, relative), data, { confine: this.confine });
    return relative.split(path.sep).join('/');
  }

  /** Removes a file `write` returned. */
  async remove(relative: string): Promise<void> {
    this.written.delete(path.normalize(relative).toLowerCase());
    await fs.rm(path.join(this.out, relative), { force: true });
  }
}
