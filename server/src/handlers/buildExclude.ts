/**
 * The cache files the manifest build leaves out for a document: the nearest `.neurocache.json`'s
 * `build.exclude` (relative to that file's folder) and the setting `neurocache.build.exclude`
 * (relative to the workspace folder). Checks and builds of one manifest use the same list.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ExcludeRule } from '../engine/eeg/buildExclude';
import { BUILD_EXCLUDE } from '../protocol';
import { settingsFor } from './settings';
import type { ServerState } from './state';

export async function buildExcludeFor(state: ServerState, file: string): Promise<ExcludeRule[]> {
  const folder = state.workspace.folderOf(file);
  const [project, settings] = await Promise.all([
    state.settings.projects.for(file, folder),
    settingsFor(state, pathToFileURL(file).href),
  ]);
  const base = folder ?? path.dirname(file);
  return [
    ...(project.error ? [] : project.exclude),
    ...settings.build.exclude.map((pattern) => ({ pattern, base, source: BUILD_EXCLUDE.setting })),
  ];
}
