/**
 * The project file `.neurocache.json`, read by the CLI and the language server alike so CI and
 * the editor show the same findings:
 *
 *   { "diagnostics": { "severity": { "no-labels": "off", "legacy-path": "error" } },
 *     "build": { "exclude": ["eeg/bad_windows.npz"] } }
 *
 * (`build.exclude`: cache files the manifest build leaves out, patterns relative to this file's
 * folder; engine/eeg/buildExclude.ts.)
 * The nearest one wins, found by walking up from the checked file's folder (as ESLint and ruff
 * find theirs), no higher than `stopAt` (the workspace folder in the editor) when given. Lookups
 * are remembered per folder: on network storage every stat is a round trip.
 */
import * as path from 'node:path';
import { ExcludeRule, parseExcludePatterns } from '../engine/eeg/buildExclude';
import { parseSeverityOverrides, SeverityOverrides } from '../engine/severity';
import { BUILD_EXCLUDE } from '../protocol';
import { PROJECT_FILE, readProjectFile } from './projectFile';

export interface ProjectConfig {
  /** The file the settings came from; undefined when none was found. */
  file?: string;
  severity: SeverityOverrides;
  /** `build.exclude`, relative to the project file's folder. */
  exclude: ExcludeRule[];
  /** Entries not used, each naming what is wrong (unknown codes, levels, keys). */
  problems: string[];
  /** Set when the file exists but cannot be used at all (not JSON, wrong shape): nothing of it applies. */
  error?: string;
}

const NONE: ProjectConfig = { severity: {}, exclude: [], problems: [] };

const KNOWN_KEYS: Record<string, string[]> = { diagnostics: ['severity'], build: ['exclude'] };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** What a project file's text configures (pure: the text in, settings and problems out). */
export function parseProjectConfig(file: string, text: string): ProjectConfig {
  const unusable = (error: string): ProjectConfig => ({ file, severity: {}, exclude: [], problems: [], error });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return unusable(`${file} is not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(value)) return unusable(`${file} must hold a JSON object`);
  const problems: string[] = [];
  for (const key of Object.keys(value))
    if (!Object.hasOwn(KNOWN_KEYS, key))
      problems.push(`unknown key "${key}" (known: ${Object.keys(KNOWN_KEYS).join(', ')})`);
  for (const [section, keys] of Object.entries(KNOWN_KEYS)) {
    const given = value[section];
    if (given === undefined) continue;
    if (!isObject(given)) return unusable(`${file}: "${section}" must be an object`);
    for (const key of Object.keys(given))
      if (!keys.includes(key))
        problems.push(`unknown key "${section}.${key}" (known: ${keys.map((k) => `${section}.${k}`).join(', ')})`);
  }
  const severity = parseSeverityOverrides((value.diagnostics as { severity?: unknown } | undefined)?.severity);
  const exclude = parseExcludePatterns(
    (value.build as { exclude?: unknown } | undefined)?.exclude,
    BUILD_EXCLUDE.projectKey,
  );
  const base = path.dirname(file);
  return {
    file,
    severity: severity.overrides,
    exclude: exclude.patterns.map((pattern) => ({ pattern, base, source: file })),
    problems: [...problems, ...severity.problems, ...exclude.problems],
  };
}

/**
 * The project file's text with `pattern` added to `build.exclude` (a new file when `text` is
 * undefined), 2-space indented; unchanged when the pattern is there already. Throws, saying
 * why, when the file cannot take it (not JSON, not an object, `build` or `build.exclude` of another type).
 */
export function addExcludePattern(file: string, text: string | undefined, pattern: string): string {
  const parsed =
    text === undefined ? { file, severity: {}, exclude: [], problems: [] } : parseProjectConfig(file, text);
  if (parsed.error) throw new Error(`${parsed.error}: fix it first`);
  const value = (text === undefined ? {} : JSON.parse(text)) as Record<string, unknown>;
  const build = (value.build ?? {}) as Record<string, unknown>;
  const exclude = build.exclude ?? [];
  if (!Array.isArray(exclude)) throw new Error(`${file}: "${BUILD_EXCLUDE.projectKey}" must be a list: fix it first`);
  if (exclude.includes(pattern)) return text!;
  value.build = { ...build, exclude: [...exclude, pattern] };
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Finds and reads project files, remembering each folder's answer until `forget()`. */
export class ProjectConfigs {
  private readonly byDirectory = new Map<string, Promise<ProjectConfig>>();

  /** `started`: reads of folders' project files (readProjectFile) already under way, by folder; each used once. */
  constructor(private readonly started = new Map<string, Promise<string>>()) {}

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
    const reading = this.started.get(directory) ?? readProjectFile(directory);
    this.started.delete(directory);
    const text = await reading.catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      return { unreadable: (error as Error).message };
    });
    if (typeof text === 'string') return parseProjectConfig(candidate, text);
    if (text) return { ...NONE, file: candidate, error: `cannot read ${candidate}: ${text.unreadable}` };
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
