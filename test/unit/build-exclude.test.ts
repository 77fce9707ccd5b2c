/**
 * The build's exclusion rules (engine/eeg/buildExclude.ts) and the project file's `build.exclude`
 * (service/projectConfig.ts): how patterns match, what a project file configures, and the text
 * the "Exclude from manifest builds" action writes.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { escapeGlob, excludedBy, ExcludeRule, globRegExp } from '../../server/src/engine/eeg/buildExclude';
import { addExcludePattern, parseProjectConfig } from '../../server/src/service/projectConfig';

const base = path.resolve('/data/project');
const rule = (pattern: string): ExcludeRule => ({ pattern, base, source: 'test' });
const excluded = (pattern: string, file: string) => excludedBy([rule(pattern)], path.join(base, file)) !== undefined;

test('glob patterns: * and ? stay within a folder, ** spans folders, \\ escapes', () => {
  assert.ok(globRegExp('*_t009_windows.npz').test('sub-1_t009_windows.npz'));
  assert.ok(!globRegExp('*.npz').test('eeg/a.npz'));
  assert.ok(globRegExp('a?.npz').test('ab.npz') && !globRegExp('a?.npz').test('a/.npz'));
  assert.ok(globRegExp('**/a.npz').test('a.npz') && globRegExp('**/a.npz').test('x/y/a.npz'));
  assert.ok(globRegExp('eeg/**').test('eeg/x/a.npz'));
  assert.ok(globRegExp('a+(b).npz').test('a+(b).npz'), 'regular-expression characters are literal');
  assert.ok(
    globRegExp(escapeGlob('what?.npz')).test('what?.npz') && !globRegExp(escapeGlob('what?.npz')).test('whatx.npz'),
  );
});

test('a name matches in any folder; a path is relative to the rule’s folder, and never outside it', () => {
  assert.ok(excluded('bad_windows.npz', 'eeg/bad_windows.npz'));
  assert.ok(excluded('bad_windows.npz', 'other/deep/bad_windows.npz'));
  assert.ok(excluded('eeg/bad_windows.npz', 'eeg/bad_windows.npz'));
  assert.ok(!excluded('eeg/bad_windows.npz', 'other/eeg/bad_windows.npz'));
  assert.ok(excluded('./bad_windows.npz', 'bad_windows.npz'));
  assert.ok(!excluded('./bad_windows.npz', 'eeg/bad_windows.npz'));
  assert.ok(excluded('**/bad_windows.npz', 'other/eeg/bad_windows.npz'));
  assert.ok(!excluded('*/bad_windows.npz', '../bad_windows.npz'));
  assert.equal(excludedBy([], path.join(base, 'a.npz')), undefined);
  const rules = [rule('x.npz'), { ...rule('a*.npz'), source: 'second' }];
  assert.equal(excludedBy(rules, path.join(base, 'ab.npz'))?.source, 'second', 'the first matching rule says where');
});

test('.neurocache.json build.exclude: patterns relative to its folder, bad values named and left out', () => {
  const file = path.join(base, '.neurocache.json');
  const parsed = parseProjectConfig(file, JSON.stringify({ build: { exclude: ['eeg/a.npz', '', 3] } }));
  assert.deepEqual(parsed.exclude, [{ pattern: 'eeg/a.npz', base, source: file }]);
  assert.deepEqual(parsed.problems, [
    'build.exclude[1] must be a non-empty glob pattern, not ""',
    'build.exclude[2] must be a non-empty glob pattern, not 3',
  ]);
  assert.deepEqual(parseProjectConfig(file, '{"build": {"exclude": "a.npz"}}').problems, [
    'build.exclude must be a list of glob patterns',
  ]);
  assert.deepEqual(parseProjectConfig(file, '{"build": {"include": []}, "x": 1}').problems, [
    'unknown key "x" (known: diagnostics, build)',
    'unknown key "build.include" (known: build.exclude)',
  ]);
  assert.match(parseProjectConfig(file, '{"build": []}').error ?? '', /"build" must be an object/);
});

test('the action’s project-file text: added once, other settings kept, a broken file refused', () => {
  const file = path.join(base, '.neurocache.json');
  assert.equal(
    addExcludePattern(file, undefined, 'eeg/a.npz'),
    '{\n  "build": {\n    "exclude": [\n      "eeg/a.npz"\n    ]\n  }\n}\n',
  );
  const kept = addExcludePattern(
    file,
    '{"diagnostics": {"severity": {"no-labels": "off"}}, "build": {"exclude": ["b.npz"]}}',
    'eeg/a.npz',
  );
  assert.deepEqual(JSON.parse(kept), {
    diagnostics: { severity: { 'no-labels': 'off' } },
    build: { exclude: ['b.npz', 'eeg/a.npz'] },
  });
  assert.equal(addExcludePattern(file, kept, 'eeg/a.npz'), kept);
  assert.throws(() => addExcludePattern(file, '{"build": ', 'a.npz'), /not valid JSON.*fix it first/);
  assert.throws(
    () => addExcludePattern(file, '{"build": {"exclude": "a.npz"}}', 'b.npz'),
    /must be a list: fix it first/,
  );
});
