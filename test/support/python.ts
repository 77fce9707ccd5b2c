/** Finds a Python that can import the given modules, for reference comparisons (numpy, nibabel). */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

// Scratch folders come from the one temp helper (removed when the test process ends).
export { tempDir } from './temp';

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

/**
 * Every Python here that imports `module`, one per distinct version of it (this machine has a
 * pyenv python3 with numpy 2.x and Debian's /usr/bin/python3 with numpy 1.24): claims about numpy
 * are checked against each.
 */
export function pythonsWith(module: string): { python: string; version: string }[] {
  const seen = new Map<string, string>();
  for (const exe of ['python3', '/usr/bin/python3']) {
    const run = spawnSync(exe, ['-c', `import ${module}; print(${module}.__version__)`], { encoding: 'utf8' });
    const version = run.status === 0 ? run.stdout.trim() : '';
    if (version && !seen.has(version)) seen.set(version, exe);
  }
  return [...seen].map(([version, python]) => ({ python, version }));
}

/** Runs a Python script and parses the JSON it prints. */
export function runPython<T>(python: string, script: string, args: string[] = []): T {
  const out = execFileSync(python, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
  return JSON.parse(out) as T;
}

/** The checkout's root, found upward from the running (bundled) test file. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
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
