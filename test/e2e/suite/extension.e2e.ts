/**
 * NeuroCache inside a real VS Code extension host, on the workspace test/e2e/fixtures.ts
 * writes: diagnostics, hovers, scope (a browser-extension manifest gets nothing) and a fixing
 * command; then the client's commands (all registered, Show Output, Restart Server) and the
 * move of a token from the old plain-text setting into secret storage. Every wait is on an editor event (onDidChangeDiagnostics) or a command's promise,
 * never a sleep; the timeouts are only guards that turn a hang into a readable failure.
 */
import * as assert from 'node:assert/strict';
import { suite, suiteSetup, test } from 'mocha';
import * as vscode from 'vscode';
import { ClientCommands, Commands } from '../../../server/src/protocol';

const MISSING = 'sub-009_s001_t000_windows.npz'; // fixtures.ts MISSING_CACHE_FILE

const codeOf = (d: vscode.Diagnostic) => (typeof d.code === 'object' ? d.code.value : d.code);
const ours = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'neurocache');
const describe = (ds: vscode.Diagnostic[]) =>
  JSON.stringify(ds.map((d) => `${codeOf(d)}@${d.range.start.line}: ${d.message}`));

/** Resolves with `uri`'s NeuroCache diagnostics as soon as `predicate` holds for them. */
function diagnosticsWhere(
  uri: vscode.Uri,
  predicate: (ds: vscode.Diagnostic[]) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<vscode.Diagnostic[]> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const ds = ours(uri);
      if (!predicate(ds)) return;
      finish();
      resolve(ds);
    };
    const subscription = vscode.languages.onDidChangeDiagnostics((e) => {
      if (e.uris.some((u) => u.toString() === uri.toString())) check();
    });
    const guard = setTimeout(() => {
      finish();
      reject(new Error(`no ${what} on ${uri.fsPath} within ${timeoutMs} ms; diagnostics: ${describe(ours(uri))}`));
    }, timeoutMs);
    function finish() {
      subscription.dispose();
      clearTimeout(guard);
    }
    check(); // they may already be there
  });
}

const hasMissingCacheFile = (ds: vscode.Diagnostic[]) => ds.some((d) => codeOf(d) === 'missing-cache-file');

suite('NeuroCache in VS Code', () => {
  let manifest: vscode.Uri;
  let webext: vscode.Uri;
  let document: vscode.TextDocument;

  suiteSetup(async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the runner opens the fixture workspace');
    manifest = vscode.Uri.joinPath(folder.uri, 'eeg_cache', 'manifest.json');
    webext = vscode.Uri.joinPath(folder.uri, 'webext', 'manifest.json');
    document = await vscode.workspace.openTextDocument(manifest);
    await vscode.window.showTextDocument(document);
  });

  test('flags the entry whose cache file is missing, on that entry', async () => {
    const ds = await diagnosticsWhere(manifest, hasMissingCacheFile, 'missing-cache-file diagnostic');
    const missing = ds.filter((d) => codeOf(d) === 'missing-cache-file');
    assert.equal(missing.length, 1, describe(ds));
    assert.match(document.getText(missing[0].range), new RegExp(MISSING.replace(/\./g, '\\.')));
    // The three real cache files are fine: no finding of any kind on their entries (the two
    // checks above say nothing about other codes, such as a category mismatch).
    assert.equal(describe(ds.filter((d) => /sub-00[123]_/.test(document.getText(d.range)))), '[]');
  });

  test('hover on the "partial_seizure" key says training rescans the stale manifest instead of a balanced set', async () => {
    const position = document.positionAt(document.getText().indexOf('"partial_seizure"') + 3);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      manifest,
      position,
    );
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /Balanced training set: none from this manifest/, text);
    assert.doesNotMatch(text, /pos_weight/, text);
  });

  test('a browser-extension manifest.json gets no diagnostics and no statistics', async () => {
    const other = await vscode.workspace.openTextDocument(webext);
    await vscode.window.showTextDocument(other, { preview: false });
    // Once a whole-workspace check has finished, every file has had its chance to be flagged.
    await vscode.commands.executeCommand('neurocache.checkWorkspace');
    assert.ok(hasMissingCacheFile(ours(manifest)), 'the check still flags the stale manifest');
    assert.deepEqual(describe(ours(webext)), '[]');
    const position = other.positionAt(other.getText().indexOf('"manifest_version"') + 3);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      webext,
      position,
    );
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.doesNotMatch(text, /seizure|NeuroCache/i, text);
  });

  test('"Drop Entries With Missing Files" removes the entry and its diagnostic', async () => {
    await vscode.window.showTextDocument(document);
    await vscode.commands.executeCommand('neurocache.dropMissingEntries', manifest.toString());
    await diagnosticsWhere(manifest, (ds) => !hasMissingCacheFile(ds), 'clearing of missing-cache-file');
    const text = (await vscode.workspace.openTextDocument(manifest)).getText();
    assert.ok(!text.includes(MISSING), 'the entry is gone from the manifest');
    assert.ok(text.includes('sub-001_s001_t000_windows.npz'), 'the other entries stay');
  });
});

suite('NeuroCache commands and settings', () => {
  test('every command of the contract is registered', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = [...Object.values(Commands), ...Object.values(ClientCommands)].filter((c) => !registered.has(c));
    assert.deepEqual(missing, []);
  });

  test('"Show Output" runs, and after "Restart Server" a new server checks the workspace', async () => {
    await vscode.commands.executeCommand(ClientCommands.showOutput);
    // A manifest naming only a missing cache file, flagged by the running server first.
    const stale = vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0].uri, 'restart_cache', 'manifest.json');
    const entry = { cache_file: MISSING, window_idx: 0 };
    await vscode.workspace.fs.writeFile(
      stale,
      Buffer.from(JSON.stringify({ partial_seizure: [], full_seizure: [], no_seizure: [entry] })),
    );
    await vscode.commands.executeCommand(Commands.checkWorkspace);
    await diagnosticsWhere(stale, hasMissingCacheFile, 'missing-cache-file before the restart');
    // Stopping the old client drops its diagnostics: what shows afterwards, the new server published.
    await vscode.commands.executeCommand(ClientCommands.restartServer);
    assert.deepEqual(describe(ours(stale)), '[]', "the old server's diagnostics went with it");
    await diagnosticsWhere(stale, hasMissingCacheFile, 'missing-cache-file from the restarted server');
    const result = await vscode.commands.executeCommand<{ message: string }>(Commands.checkWorkspace);
    assert.match(result?.message ?? '', /^Checked [1-9]\d* files?: /);
    await vscode.workspace.fs.delete(vscode.Uri.joinPath(stale, '..'), { recursive: true });
  });

  test('a token in the old neurocache.hubToken setting is moved out of the settings', async () => {
    const config = () => vscode.workspace.getConfiguration('neurocache');
    const removed = new Promise<void>((resolve, reject) => {
      const guard = setTimeout(
        () => reject(new Error(`neurocache.hubToken is still set: ${JSON.stringify(config().inspect('hubToken'))}`)),
        30_000,
      );
      const subscription = vscode.workspace.onDidChangeConfiguration(() => {
        if (config().inspect<string>('hubToken')?.globalValue !== undefined) return;
        clearTimeout(guard);
        subscription.dispose();
        resolve();
      });
    });
    await config().update('hubToken', 'hf_oldPlainTextToken0123', vscode.ConfigurationTarget.Global);
    await removed;
    assert.equal(config().get('hubToken'), '');
  });
});
