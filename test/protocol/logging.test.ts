/**
 * What the server logs (`window/logMessage`) and reports (`neurocache/status`), over stdio:
 * start-up (version, workers, settings) and workspace scans at `info`, every file checked only
 * at `debug`, nothing but failures at `error`, the level changed live by
 * `didChangeConfiguration`; the status says what the server is doing, never problem counts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  MessageType,
} from 'vscode-languageserver-protocol/node';
import { DEFAULT_RESAMPLE_METHOD } from '../../server/src/engine/arc/preprocessing';
import { DEFAULT_CV } from '../../server/src/engine/arc/folds';
import { Commands, StatusNotification } from '../../server/src/protocol';
import { LspSession, uriOf, withLsp } from '../support/lsp';
import { repoRoot, tempDir } from '../support/python';
import { eegNpz } from '../writers/npz';

/** A workspace with one manifest whose only entry names a missing cache file (one error). */
function workspace(): { root: string; manifest: string } {
  const root = tempDir();
  const cache = path.join(root, 'cache');
  mkdirSync(cache);
  writeFileSync(
    path.join(cache, 'a_windows.npz'),
    eegNpz({ windows: 1, channels: 1, samples: 10, labels: new Float32Array(10) }),
  );
  const manifest = path.join(cache, 'manifest.json');
  writeFileSync(
    manifest,
    JSON.stringify({
      partial_seizure: [],
      full_seizure: [],
      no_seizure: [
        { cache_file: 'a_windows.npz', window_idx: 0 },
        { cache_file: 'gone_windows.npz', window_idx: 0 },
      ],
    }),
  );
  return { root, manifest };
}

const lines = (lsp: LspSession, type?: MessageType) =>
  lsp.logs.filter((l) => type === undefined || l.type === type).map((l) => l.message);
const logged = (lsp: LspSession, pattern: RegExp) => lsp.until(() => lines(lsp).some((l) => pattern.test(l)));
const checkWorkspace = (lsp: LspSession) =>
  lsp.connection.sendRequest(ExecuteCommandRequest.type, { command: Commands.checkWorkspace, arguments: [] });

test('start-up, settings and scans are logged at info; every file checked only at debug, switched on live', async () => {
  const { root, manifest } = workspace();
  const version = JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')).version;
  await withLsp(undefined, async (lsp) => {
    await lsp.initialize(root, {
      initializationOptions: { maxWorkers: 2 },
      clientInfo: { name: 'test client', version: '9.9' },
    });
    await logged(lsp, /^Workspace scan: checked 1 file in [\d.]+ s$/);
    const info = lines(lsp, MessageType.Info);
    assert.ok(
      info.includes(
        `NeuroCache ${version} language server started for test client 9.9 (Node ${process.versions.node}, pid ${lsp.child.pid})`,
      ),
      info.join('\n'),
    );
    assert.ok(
      info.some((l) => /^2 worker threads \(neurocache\.maxWorkers 2\); trusted workspace; log level info$/.test(l)),
      info.join('\n'),
    );
    const cv = `cv seed ${DEFAULT_CV.seed} outerFolds ${DEFAULT_CV.outerFolds} innerFolds ${DEFAULT_CV.innerFolds}`;
    assert.ok(
      info.includes(
        `Settings for ${root}: contentChecks on, deepChecks off, maxDiagnosticsPerFile 1000, training seed 42 fullRatio 0.3 backgroundRatio 2.5, ${cv}, resampleMethod ${DEFAULT_RESAMPLE_METHOD}`,
      ),
      info.join('\n'),
    );
    assert.ok(
      info.some((l) => /^Workspace scan: found 1 file to check in 1 folder \(\d+ ms\)$/.test(l)),
      info.join('\n'),
    );
    assert.deepEqual(lines(lsp, MessageType.Debug), [], 'no debug lines at the default level');

    lsp.settings = (scope) => (scope === undefined ? { logLevel: 'debug' } : null);
    await lsp.connection.sendNotification(DidChangeConfigurationNotification.type, {
      settings: { neurocache: { logLevel: 'debug' } },
    });
    await logged(lsp, /^Log level: debug$/);
    await checkWorkspace(lsp);
    const debug = lines(lsp, MessageType.Debug);
    // The counts are those of the diagnostics published for the file.
    const published = lsp.published.get(uriOf(manifest))?.diagnostics ?? [];
    const errors = published.filter((d) => d.severity === 1).length;
    const warnings = published.filter((d) => d.severity === 2).length;
    assert.ok(errors > 0, 'the missing cache file is an error');
    assert.ok(
      debug.some(
        (l) =>
          l.startsWith(`checked ${manifest} in `) &&
          l.endsWith(` ms: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`),
      ),
      debug.join('\n'),
    );
  });
});

test('at level error the server says nothing while nothing fails', async () => {
  const { root } = workspace();
  await withLsp(undefined, async (lsp) => {
    await lsp.initialize(root, { initializationOptions: { logLevel: 'error' } });
    await checkWorkspace(lsp);
    assert.deepEqual(lsp.logs, []);
  });
});

test('the status says what the server is doing, that it is healthy, and the errors and warnings of our files', async () => {
  const { root } = workspace();
  await withLsp(root, async (lsp) => {
    await checkWorkspace(lsp);
    await lsp.until(() =>
      lsp.notifications.some(
        (n) => !(n.params as StatusNotification.Params).activity && (n.params as StatusNotification.Params).files === 1,
      ),
    );
    const statuses = lsp.notifications
      .filter((n) => n.method === StatusNotification.method)
      .map((n) => n.params as StatusNotification.Params);
    assert.ok(
      statuses.some((s) => /^Checking the workspace \(\d\/1\)$/.test(s.activity ?? '')),
      JSON.stringify(statuses),
    );
    // The last status counts what was published for the one manifest (the same severities).
    const last = statuses[statuses.length - 1];
    const published = [...lsp.published.values()].flatMap((p) => p.diagnostics);
    assert.deepEqual(
      [last.errors, last.warnings],
      [published.filter((d) => d.severity === 1).length, published.filter((d) => d.severity === 2).length],
    );
    assert.ok(last.lastScan && last.lastScan.files === 1, JSON.stringify(last));
    for (const s of statuses) {
      assert.equal(s.health, 'ok');
      assert.ok(Number.isInteger(s.errors) && Number.isInteger(s.warnings), JSON.stringify(s));
      assert.equal(s.message, s.activity ? `${s.activity}…` : `${s.files} file${s.files === 1 ? '' : 's'} checked`);
    }
  });
});
