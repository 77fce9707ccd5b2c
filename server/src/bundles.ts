/**
 * Finds another of the build's bundles at run time: next to the running one (out/), or above it
 * (test bundles run from out/test/<folder>/). Parts a process may not need (the pool's worker,
 * the CLI's language server and Hub client) are separate bundles loaded from here on demand.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

export function bundleBeside(name: string): string {
  const candidates = ['.', '..', '../..'].map((up) => path.join(__dirname, up, name));
  const found = candidates.find((c) => existsSync(c));
  if (!found)
    throw new Error(`NeuroCache bundle ${name} not found (looked in ${candidates.join(', ')}); run npm run build`);
  return found;
}
