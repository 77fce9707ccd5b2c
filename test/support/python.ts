/** Finds a Python that can import the given modules, for reference comparisons (numpy, nibabel). */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const found = new Map<string, string | undefined>();

export function pythonWith(...modules: string[]): string | undefined {
  const key = modules.join(',');
  if (!found.has(key)) {
    const candidate = ['python3', '/usr/bin/python3'].find(
      (exe) => spawnSync(exe, ['-c', `import ${key}`], { stdio: 'ignore' }).status === 0,
    );
    found.set(key, candidate);
  }
  return found.get(key);
}

/** Runs a Python script and parses the JSON it prints. */
export function runPython<T>(python: string, script: string, args: string[] = []): T {
  const out = execFileSync(python, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return JSON.parse(out) as T;
}

export function tempDir(prefix = 'neurocache-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The checkout's root, found upward from the running (bundled) test file. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!require('node:fs').existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the tests');
    dir = parent;
  }
  return dir;
}

/** The built CLI (out/cli.js). */
export function cliPath(): string {
  return path.join(repoRoot(), 'out', 'cli.js');
}
