/**
 * The project file `.neurocache.json`, read by the CLI and the language server alike so CI and
 * the editor show the same findings:
 *
 *   { "diagnostics": { "severity": { "no-labels": "off", "legacy-path": "error" } } }
 *
 * The nearest one wins, found by walking up from the checked file's folder (as ESLint and ruff
 * find theirs), no higher than `stopAt` (the workspace folder in the editor) when given. Lookups
 * are remembered per folder: on network storage every stat is a round trip.
 */
import * as path from 'node:path';
import { parseSeverityOverrides, SeverityOverrides } from '../engine/severity';
import { readRegularText } from './regularFile';

export const PROJECT_FILE = '.neurocache.json';
/** A project file is a few lines; anything larger is not one. */
const MAX_PROJECT_FILE_BYTES = 1 << 20;

export interface ProjectConfig {
  /** The file the settings came from; undefined when none was found. */
  file?: string;
  severity: SeverityOverrides;
  /** Entries not used, each naming what is wrong (unknown codes, levels, keys). */
  problems: string[];
  /** Set when the file exists but cannot be used at all (not JSON, wrong shape): nothing of it applies. */
  error?: string;
}

const NONE: ProjectConfig = { severity: {}, problems: [] };

/** What a project file's text configures (pure: the text in, settings and problems out). */
export function parseProjectConfig(file: string, text: string): ProjectConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { file, severity: {}, problems: [], error: `${file} is not valid JSON (${(error as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { file, severity: {}, problems: [], error: `${file} must hold a JSON object` };
  const problems: string[] = [];
  for (const key of Object.keys(value))
    if (key !== 'diagnostics') problems.push(`unknown key "${key}" (known: diagnostics)`);
  const diagnostics = (value as { diagnostics?: unknown }).diagnostics;
  if (
    diagnostics !== undefined &&
    (typeof diagnostics !== 'object' || diagnostics === null || Array.isArray(diagnostics))
  ) {
    return { file, severity: {}, problems, error: `${file}: "diagnostics" must be an object` };
  }
  for (const key of Object.keys(diagnostics ?? {}))
    if (key !== 'severity') problems.push(`unknown key "diagnostics.${key}" (known: diagnostics.severity)`);
  const parsed = parseSeverityOverrides((diagnostics as { severity?: unknown } | undefined)?.severity);
  return { file, severity: parsed.overrides, problems: [...problems, ...parsed.problems] };
}

/** Finds and reads project files, remembering each folder's answer until `forget()`. */
export class ProjectConfigs {
  private readonly byDirectory = new Map<string, Promise<ProjectConfig>>();

  /** The project settings that apply to `file`. */
  for(file: string, stopAt?: string): Promise<ProjectConfig> {
    return this.inDirectory(path.dirname(path.resolve(file)), stopAt && path.resolve(stopAt));
  }

  /** Drops what was read: a project file was created, changed or deleted. */
  forget(): void {
    this.byDirectory.clear();
  }

  private inDirectory(directory: string, stopAt: string | undefined): Promise<ProjectConfig> {
    const key = `${directory}\0${stopAt ?? ''}`;
    let found = this.byDirectory.get(key);
    if (!found) {
      found = this.lookUp(directory, stopAt);
      this.byDirectory.set(key, found);
    }
    return found;
  }

  private async lookUp(directory: string, stopAt: string | undefined): Promise<ProjectConfig> {
    const candidate = path.join(directory, PROJECT_FILE);
    const text = await readRegularText(candidate, MAX_PROJECT_FILE_BYTES).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      return { unreadable: (error as Error).message };
    });
    if (typeof text === 'string') return parseProjectConfig(candidate, text);
    if (text)
      return { file: candidate, severity: {}, problems: [], error: `cannot read ${candidate}: ${text.unreadable}` };
    const parent = path.dirname(directory);
    if (parent === directory || directory === stopAt || (stopAt && !isInside(parent, stopAt))) return NONE;
    return this.inDirectory(parent, stopAt);
  }
}

const isInside = (child: string, parent: string) => {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
};

/** Whether `name` is the project file (for watchers). */
export const isProjectFile = (file: string) => path.basename(file) === PROJECT_FILE;
