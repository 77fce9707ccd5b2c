/**
 * "Exclude it from the build" in the language server (issue 24.2), with the CLI test's fixture: a
 * file-level finding about a cache file the manifest does not list offers to exclude that file;
 * the action writes `build.exclude` into `.neurocache.json` (atomically, inside the workspace,
 * never in restricted mode), the finding goes, and a rebuild leaves the file out and says its
 * manifest differs from Python's by its windows. The setting `neurocache.build.exclude` does the same.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  CodeAction,
  CodeActionRequest,
  Diagnostic,
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
} from 'vscode-languageserver-protocol/node';
import { CommandResult, Commands } from '../../server/src/protocol';
import { LspSession, uriOf, withLsp } from '../support/lsp';
import { tempDir } from '../support/python';
import { writeRebuiltCache } from '../support/workspaces';

async function actionsFor(lsp: LspSession, uri: string, diagnostic: Diagnostic): Promise<CodeAction[]> {
  return ((await lsp.connection.sendRequest(CodeActionRequest.type, {
    textDocument: { uri },
    range: diagnostic.range,
    context: { diagnostics: [diagnostic] },
  })) ?? []) as CodeAction[];
}

const about = (diagnostics: Diagnostic[], name: string) =>
  diagnostics.find((d) => (d.message as string).startsWith(name) && d.code !== 'cache-file-stops-build');

test('Exclude x.npz from manifest builds: the project file gets it, the finding goes, a rebuild leaves it out', async () => {
  const root = tempDir();
  const cache = writeRebuiltCache(path.join(root, 'eeg'));
  const project = path.join(root, '.neurocache.json');
  // Another setting in the project file stays as it was.
  writeFileSync(project, JSON.stringify({ diagnostics: { severity: { 'low-seizure-ratio': 'off' } } }));
  await withLsp(root, async (lsp) => {
    const uri = uriOf(cache.manifest);
    await lsp.open(uri, cache.text);
    const before = (await lsp.settled(uri)).diagnostics;
    for (const { name, code } of cache.fileLevel) assert.equal(about(before, name)?.code, code, name);

    const extra = about(before, 'extra_windows.npz')!;
    const offered = await actionsFor(lsp, uri, extra);
    const exclude = offered.find((a) => a.command?.command === Commands.excludeFromBuild);
    assert.equal(exclude?.title, 'Exclude extra_windows.npz from manifest builds (.neurocache.json)');
    assert.deepEqual(exclude?.command?.arguments, [uri, 'extra_windows.npz']);
    for (const { name } of cache.fileLevel) {
      const titles = (await actionsFor(lsp, uri, about(before, name)!)).map((a) => a.title);
      assert.ok(titles.includes(`Exclude ${name} from manifest builds (.neurocache.json)`), `${name}: ${titles}`);
    }

    const result = (await lsp.connection.sendRequest(ExecuteCommandRequest.type, {
      command: Commands.excludeFromBuild,
      arguments: exclude!.command!.arguments,
    })) as CommandResult;
    assert.equal(result.ok, true, result.message);
    assert.match(result.message, /Excluded extra_windows\.npz from manifest builds \("eeg\/extra_windows\.npz"/);
    assert.deepEqual(JSON.parse(readFileSync(project, 'utf8')), {
      diagnostics: { severity: { 'low-seizure-ratio': 'off' } },
      build: { exclude: ['eeg/extra_windows.npz'] },
    });
    const after = (await lsp.settled(uri)).diagnostics;
    assert.equal(about(after, 'extra_windows.npz'), undefined, 'the finding is gone');
    assert.ok(about(after, 'damaged_windows.npz') && about(after, 'nolabels_windows.npz'));

    // Asked again: nothing to add.
    const again = (await lsp.connection.sendRequest(ExecuteCommandRequest.type, {
      command: Commands.excludeFromBuild,
      arguments: [uri, 'extra_windows.npz'],
    })) as CommandResult;
    assert.match(again.message, /already excluded/);

    const rebuilt = (await lsp.connection.sendRequest(ExecuteCommandRequest.type, {
      command: Commands.rebuildManifest,
      arguments: [uri],
    })) as CommandResult;
    assert.equal(rebuilt.ok, true, rebuilt.message);
    assert.match(
      rebuilt.message,
      /^This manifest deliberately differs from the Python builder's by 2 windows, which Python would list: excluded on purpose extra_windows\.npz \(by "eeg\/extra_windows\.npz" in .*\.neurocache\.json\)\. Rebuilt: /,
    );
    // Without extra_windows.npz the rebuild is the manifest as it is: nothing to change, and no finding back.
    assert.equal(lsp.edits.length, 0);
    assert.doesNotMatch(lsp.documents.get(uri)!.getText(), /extra_windows/);
    assert.equal(about((await lsp.settled(uri)).diagnostics, 'extra_windows.npz'), undefined);
  });
});

test('the setting neurocache.build.exclude takes findings away at once; no action in restricted mode', async () => {
  const root = tempDir();
  const cache = writeRebuiltCache(path.join(root, 'eeg'));
  let exclude: string[] = [];
  await withLsp(
    root,
    async (lsp) => {
      const uri = uriOf(cache.manifest);
      await lsp.open(uri, cache.text);
      assert.ok(about((await lsp.settled(uri)).diagnostics, 'damaged_windows.npz'));
      exclude = ['damaged_*.npz', 'eeg/nolabels_windows.npz'];
      await lsp.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
      await lsp.until(() => !about(lsp.published.get(uri)?.diagnostics ?? [], 'damaged_windows.npz'));
      const left = (await lsp.settled(uri)).diagnostics;
      assert.equal(about(left, 'nolabels_windows.npz'), undefined);
      assert.ok(about(left, 'extra_windows.npz'));
    },
    { before: (lsp) => (lsp.settings = () => ({ build: { exclude } })) },
  );

  await withLsp(
    root,
    async (lsp) => {
      const uri = uriOf(cache.manifest);
      await lsp.open(uri, cache.text);
      const extra = about((await lsp.settled(uri)).diagnostics, 'extra_windows.npz')!;
      assert.deepEqual(await actionsFor(lsp, uri, extra), []);
      const refused = (await lsp.connection.sendRequest(ExecuteCommandRequest.type, {
        command: Commands.excludeFromBuild,
        arguments: [uri, 'extra_windows.npz'],
      })) as CommandResult;
      assert.equal(refused.ok, false);
      assert.match(refused.message, /restricted \(untrusted\) workspace/);
    },
    { initialize: { initializationOptions: { trusted: false } } },
  );
});

test('no exclusion for a file the Python build stops on, nor outside the workspace', async () => {
  const root = tempDir();
  const cache = writeRebuiltCache(path.join(root, 'eeg'));
  // PK magic, no archive: zipfile.BadZipFile, which the Python builder does not catch.
  writeFileSync(path.join(cache.directory, 'stops_windows.npz'), Buffer.from('PK\x03\x04 truncated'));
  await withLsp(root, async (lsp) => {
    const uri = uriOf(cache.manifest);
    await lsp.open(uri, cache.text);
    const stops = (await lsp.settled(uri)).diagnostics.find((d) => d.code === 'cache-file-stops-build')!;
    assert.ok(stops, 'cache-file-stops-build');
    const titles = (await actionsFor(lsp, uri, stops)).map((a) => a.title);
    assert.ok(!titles.some((t) => t.startsWith('Exclude')), titles.join(', '));
    const outside = (await lsp.connection.sendRequest(ExecuteCommandRequest.type, {
      command: Commands.excludeFromBuild,
      arguments: [uriOf(path.join(tempDir(), 'manifest.json')), 'x_windows.npz'],
    })) as CommandResult;
    assert.equal(outside.ok, false);
    assert.match(outside.message, /outside the workspace folders/);
    const badName = (await lsp.connection.sendRequest(ExecuteCommandRequest.type, {
      command: Commands.excludeFromBuild,
      arguments: [uri, '../x_windows.npz'],
    })) as CommandResult;
    assert.equal(badName.ok, false);
  });
});
