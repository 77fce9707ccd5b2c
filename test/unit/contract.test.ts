/**
 * package.json's contributions agree with the contract: every `neurocache.*` setting and its
 * default come from protocol.ts (the training ones from the engine's DEFAULT_COMPOSITION),
 * every command id is the protocol's, and exactly the writing commands (and the download)
 * are disabled in restricted mode. protocol.ts itself imports nothing.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { DEFAULT_CV } from '../../server/src/engine/arc/folds';
import { DEFAULT_RESAMPLE_METHOD, RESAMPLE_METHODS } from '../../server/src/engine/arc/preprocessing';
import { DEFAULT_COMPOSITION } from '../../server/src/engine/eeg/composition';
import {
  ClientCommands, Commands, DEFAULT_MACHINE_SETTINGS, DEFAULT_SETTINGS, DEFAULT_WINDOW_SETTINGS, DOWNLOAD_COMMANDS, LOG_LEVELS, MAX_DOWNLOAD_PARALLEL, WRITING_COMMANDS,
} from '../../server/src/protocol';
import { resolveSettings } from '../../server/src/handlers/settings';
import { DIAGNOSTIC_CODES } from '../../server/src/engine/diagnostics';
import { SEVERITY_LEVELS } from '../../server/src/engine/severity';
import { repoRoot } from '../support/python';

interface Contributes {
  configuration: { properties: Record<string, { default: unknown; scope?: string; maximum?: number; enum?: unknown[] }> };
  commands: { command: string; enablement?: string }[];
  menus: Record<'commandPalette' | 'explorer/context', { command: string; when?: string }[]>;
}

const contributes = (): Contributes => JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')).contributes;

/** `{a: {b: 1}}` → `{"neurocache.a.b": 1}` (arrays are values). */
function flatten(value: object, prefix = 'neurocache'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    // An empty object is a value (the severity overrides' default), not a group of settings.
    if (inner && typeof inner === 'object' && !Array.isArray(inner) && Object.keys(inner).length) Object.assign(out, flatten(inner, `${prefix}.${key}`));
    else out[`${prefix}.${key}`] = inner;
  }
  return out;
}

test('package.json settings and defaults are the protocol\'s (training: the engine\'s)', () => {
  const declared = Object.fromEntries(Object.entries(contributes().configuration.properties).map(([key, p]) => [key, p.default]));
  const expected = { ...flatten(DEFAULT_SETTINGS), ...flatten({ training: DEFAULT_COMPOSITION, cv: DEFAULT_CV, preprocessing: { resampleMethod: DEFAULT_RESAMPLE_METHOD } }), ...flatten(DEFAULT_MACHINE_SETTINGS), ...flatten(DEFAULT_WINDOW_SETTINGS) };
  assert.deepEqual(declared, expected);
  // What the server falls back to for a client that sends nothing is the same.
  assert.deepEqual(flatten(resolveSettings(undefined)), { ...flatten(DEFAULT_SETTINGS), ...flatten({ training: DEFAULT_COMPOSITION, cv: DEFAULT_CV, preprocessing: { resampleMethod: DEFAULT_RESAMPLE_METHOD } }) });
  // Machine settings are machine-scoped: the server never pulls them per resource.
  const properties = contributes().configuration.properties;
  for (const key of Object.keys(flatten(DEFAULT_MACHINE_SETTINGS))) assert.equal(properties[key].scope, 'machine', key);
  for (const key of Object.keys(flatten(DEFAULT_SETTINGS))) assert.equal(properties[key].scope, 'resource', key);
  // Window settings apply to the whole window (the log level): user or workspace settings, never per folder.
  for (const key of Object.keys(flatten(DEFAULT_WINDOW_SETTINGS))) assert.equal(properties[key].scope, 'window', key);
  assert.equal(properties['neurocache.download.parallel'].maximum, MAX_DOWNLOAD_PARALLEL);
  assert.deepEqual(properties['neurocache.logLevel'].enum, [...LOG_LEVELS]);
  // The settings editor offers exactly the engine's codes and levels.
  const severity = properties['neurocache.diagnostics.severity'] as unknown as { propertyNames: { enum: string[] }; additionalProperties: { enum: string[] } };
  assert.deepEqual(severity.propertyNames.enum, [...DIAGNOSTIC_CODES]);
  assert.deepEqual(severity.additionalProperties.enum, [...SEVERITY_LEVELS]);
  assert.deepEqual(properties['neurocache.preprocessing.resampleMethod'].enum, [...RESAMPLE_METHODS]);
  assert.equal(resolveSettings({ preprocessing: { resampleMethod: 'nibabel_conform' } }).preprocessing.resampleMethod, 'nibabel_conform');
  assert.equal(resolveSettings({ preprocessing: { resampleMethod: 'linear' } }).preprocessing.resampleMethod, DEFAULT_RESAMPLE_METHOD);
});

test('package.json commands are the protocol\'s; restricted mode disables exactly the writing ones and the downloads', () => {
  const { commands, menus } = contributes();
  assert.deepEqual(commands.map((c) => c.command).sort(), [...Object.values(Commands), ...Object.values(ClientCommands)].sort());
  const needTrust = commands.filter((c) => c.enablement === 'isWorkspaceTrusted').map((c) => c.command).sort();
  assert.deepEqual(needTrust, [...WRITING_COMMANDS, ...DOWNLOAD_COMMANDS].sort());
  assert.ok(DOWNLOAD_COMMANDS.has(ClientCommands.downloadArc) && DOWNLOAD_COMMANDS.has(ClientCommands.forceDownloadArc));
  // Every menu entry of a writing command needs trust, unless it is hidden ("false": the palette's Rebuild covers it).
  for (const entry of Object.values(menus).flat()) if (WRITING_COMMANDS.has(entry.command) && entry.when !== 'false') assert.match(entry.when ?? '', /isWorkspaceTrusted/, entry.command);
  assert.ok(menus['explorer/context'].some((e) => e.command === Commands.buildManifestHere && /explorerResourceIsFolder/.test(e.when ?? '')), 'Build manifest.json here on folders');
});

test('settings from a client are taken only with the right type and range', () => {
  const resolved = resolveSettings({
    contentChecks: 'yes', extraGlobs: ['**/*_manifest.json', 3], maxDiagnosticsPerFile: -4, training: { seed: 7, fullRatio: Number.NaN, backgroundRatio: 4 },
    cv: { seed: 2 ** 32, outerFolds: 5, innerFolds: 1 },
  });
  assert.deepEqual(resolved, {
    ...DEFAULT_SETTINGS, training: { seed: 7, fullRatio: DEFAULT_COMPOSITION.fullRatio, backgroundRatio: 4 }, cv: { seed: DEFAULT_CV.seed, outerFolds: 5, innerFolds: DEFAULT_CV.innerFolds },
    preprocessing: { resampleMethod: DEFAULT_RESAMPLE_METHOD },
  });
  assert.deepEqual(resolveSettings({ cv: { seed: 2 ** 32 - 1, outerFolds: 2.5, innerFolds: 10 } }).cv, { seed: 2 ** 32 - 1, outerFolds: DEFAULT_CV.outerFolds, innerFolds: 10 });
  assert.deepEqual(resolveSettings({ contentChecks: false, extraGlobs: ['**/*_manifest.json'], maxDiagnosticsPerFile: 20 }).extraGlobs, ['**/*_manifest.json']);
  // The deep check is opt-in: only a boolean true turns it on.
  assert.equal(DEFAULT_SETTINGS.deepChecks, false);
  assert.equal(resolveSettings({ deepChecks: true }).deepChecks, true);
  assert.equal(resolveSettings({ deepChecks: 'yes' }).deepChecks, false);
});

test('protocol.ts imports nothing', () => {
  const source = readFileSync(path.join(repoRoot(), 'server', 'src', 'protocol.ts'), 'utf8');
  assert.deepEqual(source.match(/^[ \t]*(import\b|export[^;\n]*\bfrom\b).*$/gm) ?? [], []);
  assert.doesNotMatch(source, /\brequire\(/);
});
