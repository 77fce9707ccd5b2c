/**
 * What commands say (issue 24.4): Check Workspace counts NeuroCache's files only, with errors
 * and warnings; a rebuild after which the Python build would stop is a warning that says so first.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ExecuteCommandRequest } from 'vscode-languageserver-protocol/node';
import { CommandResult, Commands } from '../../server/src/protocol';
import { writeEegCache } from '../support/workspaces';
import { eegNpz } from '../writers/npz';
import { LspSession } from '../support/lsp';
import { tempDir } from '../support/python';

test(
  'Check Workspace counts only our files, with errors and warnings; a rebuild Python would stop on warns first',
  { timeout: 120_000 },
  async () => {
    const root = tempDir();
    const cache = writeEegCache(path.join(root, 'eeg'));
    mkdirSync(path.join(root, 'web'));
    writeFileSync(path.join(root, 'web', 'manifest.json'), JSON.stringify({ name: 'app', manifest_version: 3 }));
    // PK magic but no ZIP: numpy's zipfile raises BadZipFile, which the Python builder does not catch.
    writeFileSync(path.join(root, 'eeg', 'b_windows.npz'), Buffer.from('PK\x03\x04 truncated'));
    // Not listed: unreferenced-cache-file, a warning.
    writeFileSync(
      path.join(root, 'eeg', 'c_windows.npz'),
      eegNpz({ windows: 1, channels: 1, samples: 10, labels: new Float32Array(10) }),
    );
    const lsp = new LspSession();
    try {
      await lsp.initialize([root]);
      const checked = (await lsp.connection.sendRequest(ExecuteCommandRequest.type, {
        command: Commands.checkWorkspace,
        arguments: [],
      })) as CommandResult;
      const codes = lsp.codes(pathToFileURL(cache.manifest).href);
      const warnings = lsp.published
        .get(pathToFileURL(cache.manifest).href)!
        .diagnostics.filter((d) => d.severity === 2).length;
      assert.ok(warnings > 0, codes.join(' '));
      assert.match(checked.message, new RegExp(`^Checked 1 file: \\d+ errors?, ${warnings} warnings?\\.$`));
      assert.equal(checked.warning, undefined);

      const rebuilt = (await lsp.connection.sendRequest(ExecuteCommandRequest.type, {
        command: Commands.rebuildManifest,
        arguments: [pathToFileURL(cache.manifest).href],
      })) as CommandResult;
      assert.equal(rebuilt.warning, true);
      assert.match(
        rebuilt.message,
        /^The Python builder would stop at b_windows\.npz \(zipfile\.BadZipFile\) and write no manifest: delete or regenerate that file\. Rebuilt: 2 cache files listed of 3 found/,
      );
    } finally {
      await lsp.close();
    }
  },
);
