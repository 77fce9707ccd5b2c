/**
 * Temporary folders for tests, each removed when the test process ends (node --test runs every
 * test file in a process of its own), pass or fail: `npm test` leaves the temp folder as it
 * found it. Every test makes its scratch folders here rather than with mkdtemp directly.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const made: string[] = [];
let registered = false;

function removeAll(): void {
  // A folder a test made read-only (chmod 000 fixtures) is still removable: rm needs the parent's permission only.
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A new empty folder under `parent` (default: the temp folder), removed when the process exits. */
export function tempDir(prefix = 'neurocache-test-', parent = os.tmpdir()): string {
  if (!registered) {
    registered = true;
    process.once('exit', removeAll);
  }
  const dir = mkdtempSync(path.join(parent, prefix));
  made.push(dir);
  return dir;
}

/** Removes a folder made by `tempDir` now (a test that makes many big ones), rather than at exit. */
export function removeTempDir(dir: string): void {
  const i = made.indexOf(dir);
  if (i >= 0) made.splice(i, 1);
  rmSync(dir, { recursive: true, force: true });
}

/** The unprivileged user a root test runs a command as, to test permissions (root reads any file). */
export const NOBODY = { uid: 65534, gid: 65534 };

/** Whether `nobody` can enter `dir` (and every folder above it). */
function nobodyCanEnter(dir: string): boolean {
  return (
    spawnSync(process.execPath, ['-e', 'require("fs").readdirSync(process.argv[1])', dir], {
      ...NOBODY,
      stdio: 'ignore',
    }).status === 0
  );
}

/**
 * A folder for a test that needs a reader without permission to some file, with copies of
 * `files` (name → path under the checkout) in it, and the user to run that reader as. Root
 * reads any file, so as root the reader is `nobody`, and the folder is one nobody owns and can
 * reach: the checkout and the temp folder may be private (a clone under a mode-0700 folder),
 * and then the folder is made under /tmp instead, removed all the same. Undefined when root
 * cannot switch to nobody.
 */
export function otherReaderDir(
  files: Record<string, string> = {},
): { dir: string; user: { uid?: number; gid?: number } } | undefined {
  const root = process.getuid?.() === 0;
  let dir: string;
  if (root) {
    if (!nobodyCanEnter('/')) return undefined;
    const parent = [os.tmpdir(), '/tmp'].find((p) => existsSync(p) && nobodyCanEnter(p));
    if (!parent) return undefined;
    dir = tempDir('neurocache-nobody-', parent);
  } else dir = tempDir();
  for (const [name, from] of Object.entries(files)) cpSync(from, path.join(dir, name), { recursive: true });
  if (root) {
    chmodSync(dir, 0o755);
    chownSync(dir, NOBODY.uid, NOBODY.gid);
  }
  return { dir, user: root ? NOBODY : {} };
}
