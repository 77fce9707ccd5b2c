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
  CHECKED_FILE_NAMES,
  ClientCommands,
  Commands,
  DEFAULT_MACHINE_SETTINGS,
  DEFAULT_SETTINGS,
  DEFAULT_WINDOW_SETTINGS,
  DOWNLOAD_COMMANDS,
  LOG_LEVELS,
  NUMBER_OPTIONS,
  NumberRange,
  WRITING_COMMANDS,
} from '../../server/src/protocol';
import { COMMANDS } from '../../server/src/cli/spec';
import { resolveSettings } from '../../server/src/handlers/settings';
import { DIAGNOSTIC_CODES } from '../../server/src/engine/diagnostics';
import { SEVERITY_LEVELS } from '../../server/src/engine/severity';
import { repoRoot } from '../support/python';

interface Contributes {
  configuration: {
    properties: Record<
      string,
      { type: string; default: unknown; scope?: string; minimum?: number; maximum?: number; enum?: unknown[] }
    >;
  };
  commands: { command: string; enablement?: string }[];
  menus: Record<'commandPalette' | 'explorer/context', { command: string; when?: string }[]>;
}

const packageJson = () => JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8'));
const contributes = (): Contributes => packageJson().contributes;

/** `{a: {b: 1}}` → `{"neurocache.a.b": 1}` (arrays are values). */
function flatten(value: object, prefix = 'neurocache'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    // An empty object is a value (the severity overrides' default), not a group of settings.
    if (inner && typeof inner === 'object' && !Array.isArray(inner) && Object.keys(inner).length)
      Object.assign(out, flatten(inner, `${prefix}.${key}`));
    else out[`${prefix}.${key}`] = inner;
  }
  return out;
}

test("package.json settings and defaults are the protocol's (training: the engine's)", () => {
  const declared = Object.fromEntries(
    Object.entries(contributes().configuration.properties).map(([key, p]) => [key, p.default]),
  );
  const expected = {
    ...flatten(DEFAULT_SETTINGS),
    ...flatten({
      training: DEFAULT_COMPOSITION,
      cv: DEFAULT_CV,
      preprocessing: { resampleMethod: DEFAULT_RESAMPLE_METHOD },
    }),
    ...flatten(DEFAULT_MACHINE_SETTINGS),
    ...flatten(DEFAULT_WINDOW_SETTINGS),
  };
  assert.deepEqual(declared, expected);
  // What the server falls back to for a client that sends nothing is the same.
  assert.deepEqual(flatten(resolveSettings(undefined)), {
    ...flatten(DEFAULT_SETTINGS),
    ...flatten({
      training: DEFAULT_COMPOSITION,
      cv: DEFAULT_CV,
      preprocessing: { resampleMethod: DEFAULT_RESAMPLE_METHOD },
    }),
  });
  // Machine settings are machine-scoped: the server never pulls them per resource.
  const properties = contributes().configuration.properties;
  for (const key of Object.keys(flatten(DEFAULT_MACHINE_SETTINGS))) assert.equal(properties[key].scope, 'machine', key);
  for (const key of Object.keys(flatten(DEFAULT_SETTINGS))) assert.equal(properties[key].scope, 'resource', key);
  // Window settings apply to the whole window (the log level): user or workspace settings, never per folder.
  for (const key of Object.keys(flatten(DEFAULT_WINDOW_SETTINGS))) assert.equal(properties[key].scope, 'window', key);
  assert.deepEqual(properties['neurocache.logLevel'].enum, [...LOG_LEVELS]);
  // The settings editor offers exactly the engine's codes and levels.
  const severity = properties['neurocache.diagnostics.severity'] as unknown as {
    propertyNames: { enum: string[] };
    additionalProperties: { enum: string[] };
  };
  assert.deepEqual(severity.propertyNames.enum, [...DIAGNOSTIC_CODES]);
  assert.deepEqual(severity.additionalProperties.enum, [...SEVERITY_LEVELS]);
  assert.deepEqual(properties['neurocache.preprocessing.resampleMethod'].enum, [...RESAMPLE_METHODS]);
  assert.equal(
    resolveSettings({ preprocessing: { resampleMethod: 'nibabel_conform' } }).preprocessing.resampleMethod,
    'nibabel_conform',
  );
  assert.equal(
    resolveSettings({ preprocessing: { resampleMethod: 'linear' } }).preprocessing.resampleMethod,
    DEFAULT_RESAMPLE_METHOD,
  );
});

test('every number setting in package.json declares exactly its NUMBER_OPTIONS row: type, default, minimum, maximum', () => {
  const properties = contributes().configuration.properties;
  const numbers = Object.keys(properties).filter((key) => ['number', 'integer'].includes(properties[key].type));
  assert.deepEqual(
    numbers.sort(),
    Object.keys(NUMBER_OPTIONS)
      .map((key) => `neurocache.${key}`)
      .sort(),
  );
  for (const [key, row] of Object.entries(NUMBER_OPTIONS) as [string, NumberRange][]) {
    const { type, default: value, minimum, maximum } = properties[`neurocache.${key}`];
    assert.deepEqual(
      { type, default: value, minimum, maximum },
      { type: row.integer ? 'integer' : 'number', default: row.default, minimum: row.minimum, maximum: row.maximum },
      key,
    );
  }
});

test("the CLI's number options are the settings' rows: help and validation come from the same table", () => {
  const rows = new Set<NumberRange>(Object.values(NUMBER_OPTIONS));
  const numberOptions = COMMANDS.flatMap((c) =>
    c.options.filter((o) => o.value === 'N' || o.value === 'R').map((o) => ({ command: c.name, option: o })),
  );
  for (const { command, option } of numberOptions) {
    assert.ok(option.range, `${command} --${option.name} has a range`);
    // --jobs starts at 1: leaving it out is the setting's 0 (one thread per core).
    const row = option.name === 'jobs' && command !== 'arc download' ? NUMBER_OPTIONS.maxWorkers : option.range;
    assert.ok(rows.has(row), `${command} --${option.name} uses a NUMBER_OPTIONS row`);
    assert.equal(option.range.maximum, row.maximum, `${command} --${option.name}`);
  }
});

test("the checked file names are protocol.ts's: package.json activates on each and offers their commands on them", () => {
  const names = Object.values(CHECKED_FILE_NAMES);
  const activation: string[] = packageJson().activationEvents;
  for (const name of names) assert.ok(activation.includes(`workspaceContains:**/${name}`), name);
  for (const entry of contributes().menus.commandPalette) {
    const file = /resourceFilename == (\S+)/.exec(entry.when ?? '')?.[1];
    if (file) assert.ok((names as string[]).includes(file), `${entry.command}: ${file}`);
  }
});

test("package.json commands are the protocol's; restricted mode disables exactly the writing ones and the downloads", () => {
  const { commands, menus } = contributes();
  assert.deepEqual(
    commands.map((c) => c.command).sort(),
    [...Object.values(Commands), ...Object.values(ClientCommands)].sort(),
  );
  const needTrust = commands
    .filter((c) => c.enablement === 'isWorkspaceTrusted')
    .map((c) => c.command)
    .sort();
  assert.deepEqual(needTrust, [...WRITING_COMMANDS, ...DOWNLOAD_COMMANDS].sort());
  assert.ok(
    DOWNLOAD_COMMANDS.has(ClientCommands.downloadArc) && DOWNLOAD_COMMANDS.has(ClientCommands.forceDownloadArc),
  );
  // Every menu entry of a writing command needs trust, unless it is hidden ("false": the palette's Rebuild covers it).
  for (const entry of Object.values(menus).flat())
    if (WRITING_COMMANDS.has(entry.command) && entry.when !== 'false')
      assert.match(entry.when ?? '', /isWorkspaceTrusted/, entry.command);
  assert.ok(
    menus['explorer/context'].some(
      (e) => e.command === Commands.buildManifestHere && /explorerResourceIsFolder/.test(e.when ?? ''),
    ),
    'Build manifest.json here on folders',
  );
});

test('settings from a client are taken only with the right type and range', () => {
  const resolved = resolveSettings({
    contentChecks: 'yes',
    extraGlobs: ['**/*_manifest.json', 3],
    maxDiagnosticsPerFile: -4,
    training: { seed: 7, fullRatio: Number.NaN, backgroundRatio: 4 },
    cv: { seed: 2 ** 32, outerFolds: 5, innerFolds: 1 },
  });
  assert.deepEqual(resolved, {
    ...DEFAULT_SETTINGS,
    training: { seed: 7, fullRatio: DEFAULT_COMPOSITION.fullRatio, backgroundRatio: 4 },
    cv: { seed: DEFAULT_CV.seed, outerFolds: 5, innerFolds: DEFAULT_CV.innerFolds },
    preprocessing: { resampleMethod: DEFAULT_RESAMPLE_METHOD },
  });
  assert.deepEqual(resolveSettings({ cv: { seed: 2 ** 32 - 1, outerFolds: 2.5, innerFolds: 10 } }).cv, {
    seed: 2 ** 32 - 1,
    outerFolds: DEFAULT_CV.outerFolds,
    innerFolds: 10,
  });
  assert.deepEqual(
    resolveSettings({ contentChecks: false, extraGlobs: ['**/*_manifest.json'], maxDiagnosticsPerFile: 20 }).extraGlobs,
    ['**/*_manifest.json'],
  );
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
