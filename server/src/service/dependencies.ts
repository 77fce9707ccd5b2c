/**
 * Which file changes can change a document's analysis: the watchers re-check only those
 * documents. Kept as a small value of its own, so that a closed file whose analysis has been let
 * go (handlers/closedAnalyses.ts) is still re-checked when something it depends on changes.
 */
import * as path from 'node:path';
import { pathCandidates } from '../engine/arc/datasetInfo';
import type { Analysis } from './analyze';

export interface Dependencies {
  /** The document's folder: deleting it, or a folder above it, changes the analysis. */
  directory: string;
  /** A manifest: every .npz file directly in `directory` (listed or not, the check reads the folder). */
  npzInDirectory: boolean;
  /** Exact paths read or looked for: a dataset index's cache files, every place a dataset_info path may resolve to. */
  paths: Set<string>;
  /** Files found at some path: a change at or above them counts (a folder of resolved images deleted). */
  resolved: string[];
}

/** What `analysis` depends on; `cwd` is where a dataset_info's relative paths may also resolve. */
export function dependenciesOf(analysis: Exclude<Analysis, { kind: 'unrelated' }>, cwd: string): Dependencies {
  const { directory } = analysis;
  const dependencies: Dependencies = {
    directory,
    npzInDirectory: analysis.kind === 'seizure-manifest',
    paths: new Set(),
    resolved: [],
  };
  if (analysis.kind === 'eeg-dataset-index') {
    for (const f of analysis.parsed.files) dependencies.paths.add(path.join(directory, f.cacheFile));
  } else if (analysis.kind === 'arc-dataset-info') {
    for (const s of analysis.parsed.samples) {
      for (const value of [s.image?.value, s.mask?.value]) {
        if (typeof value === 'string')
          for (const c of pathCandidates(value, directory, cwd)) dependencies.paths.add(c.path);
      }
    }
    for (const facts of [...analysis.facts.images, ...analysis.facts.masks])
      if (facts?.resolved) dependencies.resolved.push(facts.resolved);
  }
  return dependencies;
}

/** Whether a change to any of `changed` (absolute paths of files, or of deleted folders) can change the analysis. */
export function dependsOn(dependencies: Dependencies, changed: ReadonlySet<string>): boolean {
  for (const file of changed) {
    if (dependencies.paths.has(file)) return true;
    if (dependencies.npzInDirectory && file.endsWith('.npz') && path.dirname(file) === dependencies.directory)
      return true;
  }
  return underAny(dependencies.directory, changed) || dependencies.resolved.some((file) => underAny(file, changed));
}

/** Whether `file` or a folder above it is among `changed` (a walk up, not a scan of `changed`). */
function underAny(file: string, changed: ReadonlySet<string>): boolean {
  for (let at = file; ; at = path.dirname(at)) {
    if (changed.has(at)) return true;
    if (path.dirname(at) === at) return false;
  }
}
