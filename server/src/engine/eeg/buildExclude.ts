/**
 * Cache files left out of the manifest build on purpose (`neurocache.build.exclude`, the
 * project file's `build.exclude`, `manifest build --exclude`): a damaged or mis-shaped file the
 * user has decided training should not see. The build leaves the file out and says so (its
 * manifest then differs from the Python builder's by that file's windows); the check no
 * longer reports the file as missing from the manifest.
 *
 * A pattern is a glob: `*` any characters but `/`, `?` one such character, `**` any folders,
 * `\` takes the next character literally. Without a `/` it matches a file's name in any
 * folder (`bad_windows.npz`, `*_t009_windows.npz`); with one it matches the file's path
 * relative to the folder the rule belongs to (`eeg/bad_windows.npz`, `./bad_windows.npz`).
 */
import * as path from 'node:path';

export interface ExcludeRule {
  pattern: string;
  /** The folder a pattern with a `/` is relative to (the project file's, the workspace folder, the working directory). */
  base: string;
  /** Where the pattern was found, for messages: `.neurocache.json`'s path, the setting's name, `--exclude`. */
  source: string;
}

const REGEXP_SPECIAL = /[.+^${}()|[\]\\*?]/g;

/** The regular expression a glob pattern stands for (anchored at both ends). */
export function globRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) source += pattern[++i].replace(REGEXP_SPECIAL, '\\$&');
    else if (c === '*' && pattern[i + 1] === '*') {
      i++;
      // `**/` is any number of folders, none included; a trailing `**` anything.
      if (pattern[i + 1] === '/') {
        i++;
        source += '(?:.*/)?';
      } else source += '.*';
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(REGEXP_SPECIAL, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** `name` as a pattern that matches only itself (for a rule written by a code action). */
export function escapeGlob(name: string): string {
  return name.replace(/[\\*?]/g, '\\$&');
}

/** Whether a pattern is matched against relative paths (it has a `/`), not names. */
const isPathPattern = (pattern: string) => pattern.replace(/\\./g, '').includes('/');

/** The first rule that leaves `file` (an absolute path) out of the build, if any. */
export function excludedBy(rules: readonly ExcludeRule[], file: string): ExcludeRule | undefined {
  for (const rule of rules) {
    if (!isPathPattern(rule.pattern)) {
      if (globRegExp(rule.pattern).test(path.basename(file))) return rule;
      continue;
    }
    const relative = path.relative(rule.base, file).split(path.sep).join('/');
    if (relative.startsWith('../') || relative === '..' || path.isAbsolute(relative)) continue;
    if (globRegExp(rule.pattern.replace(/^(?:\.\/)+/, '')).test(relative)) return rule;
  }
  return undefined;
}

export interface ParsedExcludes {
  patterns: string[];
  /** One sentence per value that was not used. */
  problems: string[];
}

/** Patterns from a setting or project-file value (a list of non-empty strings); bad values are named, not fatal. */
export function parseExcludePatterns(raw: unknown, key: string): ParsedExcludes {
  if (raw === undefined || raw === null) return { patterns: [], problems: [] };
  if (!Array.isArray(raw)) return { patterns: [], problems: [`${key} must be a list of glob patterns`] };
  const patterns: string[] = [];
  const problems: string[] = [];
  raw.forEach((value, i) => {
    if (typeof value === 'string' && value.trim() !== '') patterns.push(value);
    else problems.push(`${key}[${i}] must be a non-empty glob pattern, not ${JSON.stringify(value)}`);
  });
  return { patterns, problems };
}
