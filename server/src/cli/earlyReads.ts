/**
 * The first reads of `neurocache check`, started by the executable (out/cli.js) before it loads
 * the CLI proper: compiling out/cli-main.js takes longer than a round trip to network storage
 * (about 60 ms measured on a loaded 2-core machine), and these reads need nothing from it. Per
 * argument that names a `.json` file: its stat, its bytes (that stat serving as the one beside
 * the open) and, unless --no-content, its folder's listing and the stats of the `*.npz` in it
 * (CacheInspector.prefetchNpzStats); and the project files that could apply to it. `check` takes
 * them instead of asking again. An argument that is an option's value, not a file to check, costs
 * an unused read of it (never a write; a FIFO or device is refused as any JSON file is).
 *
 * On the bench's libfuse 3 harness (every request 50 ms, entry and attribute timeouts 0) a 40-file
 * re-check's requests are a chain of 4, fresh mount or warm, as its request log shows, and no order
 * of these calls shortens it: the listing is glibc's opendir, an fstat of the folder (GETATTR)
 * before the READDIRPLUS, and each cache file's stat after it is a LOOKUP, then a GETATTR (the
 * attributes the lookup brought expire at once). On a fresh mount the manifest's stat and open
 * look its name up one after the other (the second waits for the first's lookup, then revalidates
 * it), so its reads are in the fourth round too, warm in the third: a round sooner would mean
 * reading before anything said the file is a regular one. The rest is CPU: that re-check takes
 * 0.12 s at 0 ms per access and 0.33 s at 50.
 */
import '../threadpool'; // first: sizes libuv's pool before these calls start it
import { promises as fs, Stats } from 'node:fs';
import * as path from 'node:path';
import { listAndStatNpz, ListedStats } from '../service/npzListing';
import { startProjectFileReads } from '../service/projectFile';
import { readRegularBytes } from '../service/regularFile';

export interface StartedFile {
  stat: Promise<Stats>;
  bytes: Promise<Buffer>;
}

export interface EarlyReads {
  /** By the argument as given. */
  files: Map<string, StartedFile>;
  /** By absolute folder. */
  folders: Map<string, ListedStats>;
  /** The read of each such folder's project file, by absolute folder (ProjectConfigs). */
  projectFiles: Map<string, Promise<string>>;
}

const ignore = () => undefined;

/** Starts the reads for `check`'s arguments (everything after `check`). */
export function startCheckReads(args: string[]): EarlyReads {
  const reads: EarlyReads = { files: new Map(), folders: new Map(), projectFiles: new Map() };
  const content = !args.includes('--no-content');
  for (const arg of args) {
    if (arg.startsWith('-') || !arg.endsWith('.json') || reads.files.has(arg)) continue;
    const stat = fs.stat(arg);
    const bytes = readRegularBytes(arg, undefined, { statted: stat });
    // Awaited by `check` (a failure is reported there, as for a read it starts itself).
    stat.catch(ignore);
    bytes.catch(ignore);
    reads.files.set(arg, { stat, bytes });
    const folder = path.dirname(path.resolve(arg));
    if (content && !reads.folders.has(folder)) {
      reads.folders.set(folder, listAndStatNpz(folder)); // a failed listing is handled there
    }
    startProjectFileReads(folder, reads.projectFiles, (directory) => reads.folders.get(directory)?.listing);
  }
  return reads;
}
