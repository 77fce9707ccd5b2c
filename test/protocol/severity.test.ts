/**
 * Severity overrides in the language server, with the same fixture and the same project file the
 * CLI test uses: `.neurocache.json` changes levels and turns codes off, the editor setting
 * `neurocache.diagnostics.severity` wins over it, and a change of either shows at once.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification,
  ExecuteCommandRequest,
  FileChangeType,
} from 'vscode-languageserver-protocol/node';
import { Commands } from '../../server/src/protocol';
import { writeEegCache } from '../support/workspaces';
import { LspSession } from '../support/lsp';
import { cliPath, tempDir } from '../support/python';

const uriOf = (file: string) => pathToFileURL(file).href;

test(
  '.neurocache.json and neurocache.diagnostics.severity apply in the server as in the CLI',
  { timeout: 120_000 },
  async () => {
    const root = tempDir();
    const cache = writeEegCache(path.join(root, 'eeg'));
    const project = path.join(root, '.neurocache.json');
    writeFileSync(
      project,
      JSON.stringify({ diagnostics: { severity: { 'missing-cache-file': 'off', 'stale-manifest': 'hint' } } }),
    );
    const cli = spawnSync(process.execPath, [cliPath(), 'check', root, '--json', '--cache-dir', tempDir()], {
      encoding: 'utf8',
    });
    const cliFindings = JSON.parse(cli.stdout)
      .files[0].diagnostics.map((d: { code: string; severity: string }) => `${d.code}:${d.severity}`)
      .sort();

    const lsp = new LspSession();
    let setting: object = {};
    lsp.settings = () => ({ diagnostics: { severity: setting } });
    const uri = uriOf(cache.manifest);
    const findings = () =>
      (lsp.published.get(uri)?.diagnostics ?? [])
        .map((d) => `${d.code}:${['', 'error', 'warning', 'information', 'hint'][d.severity ?? 1]}`)
        .sort();
    try {
      await lsp.initialize([root]);
      await lsp.connection.sendRequest(ExecuteCommandRequest.type, { command: Commands.checkWorkspace, arguments: [] });
      assert.ok(
        cliFindings.includes('stale-manifest:hint') &&
          !cliFindings.some((c: string) => c.startsWith('missing-cache-file')),
        cliFindings.join(' '),
      );
      assert.deepEqual(findings(), cliFindings, 'the editor shows what `neurocache check` prints');

      // The editor setting wins over the project file.
      setting = { 'stale-manifest': 'error', 'missing-cache-file': 'warning' };
      await lsp.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
      await lsp.until(
        () => findings().includes('stale-manifest:error') && findings().includes('missing-cache-file:warning'),
      );

      // The project file goes: its levels go with it.
      setting = {};
      await lsp.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
      await lsp.until(() => findings().includes('stale-manifest:hint'));
      rmSync(project);
      await lsp.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
        changes: [{ uri: uriOf(project), type: FileChangeType.Deleted }],
      });
      await lsp.until(
        () => findings().includes('stale-manifest:error') && findings().includes('missing-cache-file:error'),
      );

      // A broken project file is logged, and none of it applies.
      writeFileSync(project, '{"diagnostics": {"severity": {"stale-manifest": "off"');
      await lsp.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
        changes: [{ uri: uriOf(project), type: FileChangeType.Created }],
      });
      await lsp.until(() =>
        lsp.logs.some((l) =>
          /\.neurocache\.json is not valid JSON.*its severities and build exclusions are not applied/.test(l.message),
        ),
      );
      assert.ok(findings().includes('stale-manifest:error'));
    } finally {
      await lsp.close();
    }
  },
);
