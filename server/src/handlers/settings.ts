/**
 * Settings, pulled per resource: `workspace/configuration` for section `neurocache` scoped to
 * the document (or folder), one cached promise per scope, all dropped on
 * `didChangeConfiguration`, after which every checked file is checked again. Clients that
 * cannot be asked get the pushed settings, else the defaults.
 */
import { pathToFileURL } from 'node:url';
import { DEFAULT_RESAMPLE_METHOD, RESAMPLE_METHODS, ResampleMethod } from '../engine/arc/preprocessing';
import { parseExcludePatterns } from '../engine/eeg/buildExclude';
import { parseSeverityOverrides } from '../engine/severity';
import { DEFAULT_SETTINGS, inRange, NUMBER_OPTIONS, NumberRange, Settings } from '../protocol';
import { isLogLevel } from './log';
import type { ServerState } from './state';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A per-resource number setting: the value sent when it is in the option's range, else its default. */
const number = (value: unknown, range: NumberRange): number =>
  typeof value === 'number' && inRange(range, value) ? value : range.default;

/**
 * A machine setting passed at start-up (threads, reads in flight, download parallelism): too
 * large is capped at the maximum (a client may not know it); not a whole number of at least
 * the minimum is undefined, for the caller's default.
 */
export function cappedSetting(range: NumberRange, value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= range.minimum
    ? Math.min(value, range.maximum ?? value)
    : undefined;
}

/** Settings from what a client sent: each value of the right type and range, else its default. */
export function resolveSettings(raw: unknown): Settings {
  const given = isRecord(raw) ? raw : {};
  const training = isRecord(given.training) ? given.training : {};
  const cv = isRecord(given.cv) ? given.cv : {};
  const preprocessing = isRecord(given.preprocessing) ? given.preprocessing : {};
  const build = isRecord(given.build) ? given.build : {};
  return {
    contentChecks: typeof given.contentChecks === 'boolean' ? given.contentChecks : DEFAULT_SETTINGS.contentChecks,
    deepChecks: typeof given.deepChecks === 'boolean' ? given.deepChecks : DEFAULT_SETTINGS.deepChecks,
    extraGlobs:
      Array.isArray(given.extraGlobs) && given.extraGlobs.every((g) => typeof g === 'string')
        ? given.extraGlobs
        : DEFAULT_SETTINGS.extraGlobs,
    maxDiagnosticsPerFile: number(given.maxDiagnosticsPerFile, NUMBER_OPTIONS.maxDiagnosticsPerFile),
    // Entries with an unknown code or level are left out (the settings editor marks them, from package.json's schema).
    diagnostics: {
      severity: parseSeverityOverrides(isRecord(given.diagnostics) ? given.diagnostics.severity : undefined)
        .overrides as Record<string, string>,
    },
    training: {
      seed: number(training.seed, NUMBER_OPTIONS['training.seed']),
      fullRatio: number(training.fullRatio, NUMBER_OPTIONS['training.fullRatio']),
      backgroundRatio: number(training.backgroundRatio, NUMBER_OPTIONS['training.backgroundRatio']),
    },
    cv: {
      seed: number(cv.seed, NUMBER_OPTIONS['cv.seed']),
      outerFolds: number(cv.outerFolds, NUMBER_OPTIONS['cv.outerFolds']),
      innerFolds: number(cv.innerFolds, NUMBER_OPTIONS['cv.innerFolds']),
    },
    preprocessing: {
      resampleMethod: (RESAMPLE_METHODS as readonly unknown[]).includes(preprocessing.resampleMethod)
        ? (preprocessing.resampleMethod as ResampleMethod)
        : DEFAULT_RESAMPLE_METHOD,
    },
    // Values that are not patterns are left out (the settings editor marks them, from package.json's schema).
    build: { exclude: parseExcludePatterns(build.exclude, 'exclude').patterns },
  };
}

/** The settings that apply to `scopeUri` (a document or a workspace folder). */
export function settingsFor(state: ServerState, scopeUri: string): Promise<Settings> {
  let settings = state.settings.byScope.get(scopeUri);
  if (!settings) {
    settings = state.client.configuration
      ? state.connection.workspace
          .getConfiguration({ scopeUri, section: 'neurocache' })
          .then(resolveSettings, () => resolveSettings(undefined))
      : Promise.resolve(
          resolveSettings(isRecord(state.settings.pushed) ? state.settings.pushed.neurocache : undefined),
        );
    state.settings.byScope.set(scopeUri, settings);
  }
  return settings;
}

/**
 * `neurocache.logLevel` (window-scoped: section `neurocache` without a scope), pulled when the
 * client answers `workspace/configuration`, else from the pushed settings; a missing or
 * invalid value keeps the level in force.
 */
export async function refreshLogLevel(state: ServerState): Promise<void> {
  const section = state.client.configuration
    ? await state.connection.workspace.getConfiguration({ section: 'neurocache' }).catch(() => undefined)
    : isRecord(state.settings.pushed)
      ? state.settings.pushed.neurocache
      : undefined;
  const level = isRecord(section) ? section.logLevel : undefined;
  if (isLogLevel(level) && level !== state.log.level) {
    state.log.level = level;
    state.log.info(`Log level: ${level}`);
  }
}

/** Logs the settings that apply to each workspace folder, at start-up and when they change. */
export async function logSettings(state: ServerState): Promise<void> {
  for (const folder of state.workspace.folders) {
    const s = await settingsFor(state, pathToFileURL(folder).href);
    const globs = s.extraGlobs.length ? `, extraGlobs ${JSON.stringify(s.extraGlobs)}` : '';
    const severity = Object.keys(s.diagnostics.severity).length
      ? `, diagnostics.severity ${JSON.stringify(s.diagnostics.severity)}`
      : '';
    const exclude = s.build.exclude.length ? `, build.exclude ${JSON.stringify(s.build.exclude)}` : '';
    const line = `contentChecks ${s.contentChecks ? 'on' : 'off'}, deepChecks ${s.deepChecks ? 'on' : 'off'}, maxDiagnosticsPerFile ${s.maxDiagnosticsPerFile}${globs}${severity}, training seed ${s.training.seed} fullRatio ${s.training.fullRatio} backgroundRatio ${s.training.backgroundRatio}, cv seed ${s.cv.seed} outerFolds ${s.cv.outerFolds} innerFolds ${s.cv.innerFolds}, resampleMethod ${s.preprocessing.resampleMethod}${exclude}`;
    const before = state.settings.logged.get(folder);
    if (line === before) continue;
    state.settings.logged.set(folder, line);
    state.log.info(`Settings for ${folder}${before === undefined ? '' : ' changed'}: ${line}`);
  }
}
