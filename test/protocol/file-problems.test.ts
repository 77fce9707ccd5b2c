/**
 * Where the problem is (issue 24.3): the server tells the client which data files its findings
 * are about (Explorer badges), and "Build manifest.json here" writes a folder's manifest as the
 * Python builder would, only in a trusted workspace, inside it, never over a file not a manifest.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import {
  DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification,
  ExecuteCommandRequest,
  FileChangeType,
} from 'vscode-languageserver-protocol/node';
import { CommandResult, Commands } from '../../server/src/protocol';
import { writeEegCache } from '../support/workspaces';
import { eegNpz } from '../writers/npz';
import { LspSession } from '../support/lsp';
import { tempDir } from '../support/python';

const uriOf = (file: string) => pathToFileURL(file).href;

test(
  'fileProblems names the cache files with findings, with counts and a tooltip; severity overrides apply; cleared when the manifest goes',
  { timeout: 120_000 },
  async () => {
    const root = tempDir();
    const cache = writeEegCache(path.join(root, 'eeg'));
    // PK magic but no ZIP: the Python build stops on it (an error about that file).
    writeFileSync(path.join(cache.directory, 'b_windows.npz'), Buffer.from('PK\x03\x04 truncated'));
    // Not listed: unreferenced-cache-file, a warning about that file.
    writeFileSync(
      path.join(cache.directory, 'c_windows.npz'),
      eegNpz({ windows: 1, channels: 1, samples: 100, labels: new Float32Array(100).fill(1) }),
    );
    const lsp = new LspSession();
    const manifest = uriOf(cache.manifest);
    try {
      await lsp.initialize(root); // the workspace scan checks the manifest
      await lsp.until(() => (lsp.fileProblems.get(manifest)?.length ?? 0) >= 2);
      const byName = new Map(lsp.fileProblems.get(manifest)!.map((f) => [path.basename(new URL(f.uri).pathname), f]));
      // The missing file cannot be badged (it is not in the Explorer); the good one has nothing.
      assert.deepEqual([...byName.keys()].sort(), ['b_windows.npz', 'c_windows.npz']);
      assert.equal(byName.get('b_windows.npz')!.uri, uriOf(path.join(cache.directory, 'b_windows.npz')));
      assert.equal(byName.get('b_windows.npz')!.errors, 1);
      assert.match(byName.get('b_windows.npz')!.tooltip, /^cache-file-stops-build: b_windows\.npz cannot be read/);
      assert.deepEqual(
        { errors: byName.get('c_windows.npz')!.errors, warnings: byName.get('c_windows.npz')!.warnings },
        { errors: 0, warnings: 1 },
      );
      assert.match(byName.get('c_windows.npz')!.tooltip, /^unreferenced-cache-file: c_windows\.npz/);

      // The user's severity wins here too: a code turned off badges nothing.
      lsp.settings = () => ({ diagnostics: { severity: { 'unreferenced-cache-file': 'off' } } });
      await lsp.connection.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
      await lsp.until(() => lsp.fileProblems.get(manifest)?.length === 1);
      assert.equal(path.basename(new URL(lsp.fileProblems.get(manifest)![0].uri).pathname), 'b_windows.npz');

      // The manifest's folder goes: its badges go with it.
      rmSync(cache.directory, { recursive: true });
      await lsp.connection.sendNotification(DidChangeWatchedFilesNotification.type, {
        changes: [{ uri: uriOf(cache.directory), type: FileChangeType.Deleted }],
      });
      await lsp.until(() => lsp.fileProblems.get(manifest)?.length === 0);
    } finally {
      await lsp.close();
      rmSync(root, { recursive: true, force: true });
    }
  },
);

test(
  'Build manifest.json here: writes a folder of caches as Python would; refuses a folder without *.npz, outside the workspace, or with a manifest.json that is not a manifest',
  { timeout: 120_000 },
  async () => {
    const root = tempDir();
    const outside = tempDir();
    const folder = path.join(root, 'caches');
    mkdirSync(folder);
    const labels = new Float32Array(2 * 100).fill(1, 0, 10);
    writeFileSync(path.join(folder, 'a_windows.npz'), eegNpz({ windows: 2, channels: 1, samples: 100, labels }));
    mkdirSync(path.join(root, 'empty'));
    mkdirSync(path.join(root, 'web'));
    writeFileSync(path.join(root, 'web', 'a_windows.npz'), eegNpz({ windows: 2, channels: 1, samples: 100, labels }));
    const webManifest = JSON.stringify({ name: 'app', manifest_version: 3 });
    writeFileSync(path.join(root, 'web', 'manifest.json'), webManifest);
    writeFileSync(path.join(outside, 'a_windows.npz'), eegNpz({ windows: 2, channels: 1, samples: 100, labels }));
    const lsp = new LspSession();
    const build = async (dir: string) =>
      (await lsp.connection.sendRequest(ExecuteCommandRequest.type, {
        command: Commands.buildManifestHere,
        arguments: [uriOf(dir)],
      })) as CommandResult;
    try {
      await lsp.initialize(root);
      const built = await build(folder);
      assert.equal(built.ok, true, built.message);
      assert.match(
        built.message,
        /^Wrote .*manifest\.json: 1 cache file listed, 1 partial, 0 full, 1 no-seizure windows\.$/,
      );
      const written = JSON.parse(readFileSync(path.join(folder, 'manifest.json'), 'utf8'));
      assert.deepEqual(written, {
        partial_seizure: [{ cache_file: 'a_windows.npz', window_idx: 0 }],
        full_seizure: [],
        no_seizure: [{ cache_file: 'a_windows.npz', window_idx: 1 }],
      });
      // Again: the manifest is there, so it is a rebuild (nothing changes).
      assert.match((await build(folder)).message, /^Rebuilt: 1 cache file listed/);

      const empty = await build(path.join(root, 'empty'));
      assert.equal(empty.ok, false);
      assert.match(empty.message, /holds no \*\.npz cache files: no manifest\.json written/);
      assert.equal(existsSync(path.join(root, 'empty', 'manifest.json')), false);

      const web = await build(path.join(root, 'web'));
      assert.equal(web.ok, false);
      assert.equal(readFileSync(path.join(root, 'web', 'manifest.json'), 'utf8'), webManifest);

      const away = await build(outside);
      assert.equal(away.ok, false);
      assert.match(away.message, /outside the workspace folders/);
      assert.equal(existsSync(path.join(outside, 'manifest.json')), false);
    } finally {
      await lsp.close();
      rmSync(root, { recursive: true, force: true });
      rmSync(outside, { recursive: true, force: true });
    }
  },
);
