/**
 * Tier 2, issue 24: where the problem is and how loud it is. In code-server with the .vsix: the
 * Explorer badges a cache file the Python build would stop on (its tooltip says why); a folder
 * holding *.npz has "Build manifest.json here" in its context menu, which writes the manifest;
 * the status bar shows the errors and warnings of NeuroCache's files; turning a code off in
 * `neurocache.diagnostics.severity` takes it out of the Problems view. Screenshots 50–54.
 */
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Locator } from 'playwright-core';
import { folderUrl, launchBrowser, openWorkbench } from './browser';
import { ROOT, startCodeServer } from './codeServer';
import { writeWorkspace } from './fixtures';
import { eegMembers, writeNpzFile } from '../writers/npz';
import { runCommand, steps, textUntil } from './steps';

const VSIX = path.join(ROOT, 'neurocache.vsix');

/** A file decoration's badge: the label's ::after content, as the page computes it (e.g. '"1"'). */
const badgeOf = (label: Locator) =>
  label.evaluate(
    (el) =>
      (globalThis as unknown as { getComputedStyle(e: unknown, pseudo: string): { content: string } }).getComputedStyle(
        el,
        '::after',
      ).content,
  );
const BROKEN = 'sub-005_s001_t000_windows.npz';

test('badges, the folder menu, the status counts and the severity setting', { timeout: 5 * 60_000 }, async (t) => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'neurocache-e2e-tune-'));
  t.after(() => rmSync(scratch, { recursive: true, force: true }));
  const workspace = writeWorkspace(scratch);
  const cache = path.dirname(workspace.manifest);
  // PK magic but no ZIP: numpy raises BadZipFile, which stops the Python build (an error on that file).
  writeFileSync(path.join(cache, BROKEN), Buffer.from('PK\x03\x04 truncated'));
  // A folder of caches without a manifest: the context menu builds one.
  const fresh = path.join(workspace.root, 'fresh_cache');
  mkdirSync(fresh);
  const labels = new Float32Array(2 * 15360).fill(1, 0, 4000);
  writeNpzFile(path.join(fresh, 'sub-101_s001_t000_windows.npz'), eegMembers({ windows: 2, labels, seed: 7 }), {
    compress: true,
  });
  const server = await startCodeServer({ vsix: [VSIX], userDataDir: path.join(scratch, 'user-data') });
  t.after(() => server.stop());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page } = browser;
  const { step } = steps(t, page);
  const explorerRow = (name: string) =>
    page
      .locator('.explorer-folders-view .monaco-list-row', {
        hasText: new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
      })
      .first();

  await step('the Explorer badges the cache file the Python build stops on', '50-explorer-badge', async () => {
    await openWorkbench(page, folderUrl(server.url, workspace.root));
    await page.keyboard.press('Control+Shift+E');
    await explorerRow('eeg_cache').click();
    const row = explorerRow(BROKEN);
    await row.waitFor({ timeout: 30_000 });
    // A file decoration is drawn as the label's ::after content (the badge letters) in the error colour.
    const deadline = Date.now() + 90_000;
    let badge = '';
    while (Date.now() < deadline) {
      badge = await badgeOf(row.locator('.monaco-icon-label').first());
      if (badge.includes('1')) break;
      await page.waitForTimeout(500);
    }
    assert.equal(badge, '"1"', 'one error on the file');
    const good = await badgeOf(explorerRow('sub-001_s001_t000_windows.npz').locator('.monaco-icon-label').first());
    assert.ok(good === 'none' || good === 'normal' || good === '""', `no badge on a good file (${good})`);
    const title =
      (await row.locator('.monaco-icon-label').first().getAttribute('title')) ??
      (await row.getAttribute('aria-label')) ??
      '';
    await row.hover();
    const hover = page.locator('.monaco-hover, .workbench-hover', { hasText: 'cache-file-stops-build' }).first();
    const shown = await hover.waitFor({ timeout: 10_000 }).then(
      () => true,
      () => false,
    );
    assert.ok(shown || /cache-file-stops-build/.test(title), `the tooltip names the finding (title: ${title})`);
  });

  await step("the status bar shows the errors and warnings of NeuroCache's files", '51-status-counts', async () => {
    const status = page.locator('.part.statusbar .statusbar-item', { hasText: 'NeuroCache' }).first();
    const label = await textUntil(status.locator('a').first(), /NeuroCache\s*\S*\s*[1-9]\d*\s*\S*\s*\d+/, 90_000).catch(
      async () => status.innerText(),
    );
    const aria =
      (await status.getAttribute('aria-label')) ?? (await status.locator('a').first().getAttribute('aria-label')) ?? '';
    assert.match(
      `${label} ${aria}`,
      /[1-9]\d* errors?, \d+ warnings? in \d+ files?|NeuroCache\s*\S*\s*[1-9]/,
      `status: ${label} / ${aria}`,
    );
  });

  await step('"Build manifest.json here" on a folder of caches writes its manifest', '52-folder-menu', async () => {
    const row = explorerRow('fresh_cache');
    await row.click({ button: 'right' });
    const item = page.locator('.context-view .action-item', { hasText: 'Build manifest.json here' }).first();
    await item.waitFor({ timeout: 30_000 });
    await page.screenshot({ path: path.join(ROOT, '.test-output', 'e2e', '52a-folder-menu-open.png') });
    await item.click();
    const written = path.join(fresh, 'manifest.json');
    const deadline = Date.now() + 60_000;
    while (!existsSync(written) && Date.now() < deadline) await page.waitForTimeout(250);
    const manifest = JSON.parse(readFileSync(written, 'utf8'));
    assert.deepEqual(Object.keys(manifest), ['partial_seizure', 'full_seizure', 'no_seizure']);
    await page
      .locator('.notifications-toasts .notification-toast', { hasText: /Wrote .*manifest\.json: 1 cache file listed/ })
      .first()
      .waitFor({ timeout: 30_000 });
  });

  await step('no folder menu entry on a folder without *.npz', '53-no-folder-menu', async () => {
    await page.keyboard.press('Escape');
    await explorerRow('webext').click({ button: 'right' });
    await page.locator('.context-view .action-item').first().waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('.context-view .action-item', { hasText: 'Build manifest.json here' }).count(), 0);
    await page.keyboard.press('Escape');
  });

  await step("a problem's code link opens the rendered docs at its section", '55-docs-preview', async () => {
    await runCommand(page, 'View: Focus Problems');
    const problems = page.locator('.part.panel .markers-panel');
    await textUntil(problems, /missing-cache-file/, 60_000);
    await problems.locator('.monaco-list-row a', { hasText: 'missing-cache-file' }).first().click();
    await page
      .locator('.tabs-container .tab', { hasText: 'Preview diagnostics.md' })
      .first()
      .waitFor({ timeout: 30_000 });
    const preview = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
    const heading = preview.locator('h2', { hasText: 'missing-cache-file' }).first();
    await heading.waitFor({ timeout: 30_000 });
    // At the section: its heading is on screen without scrolling (the preview starts at the editor's line).
    const deadline = Date.now() + 20_000;
    let top = Number.NaN;
    while (Date.now() < deadline) {
      top = await heading.evaluate(
        (el) => (el as unknown as { getBoundingClientRect(): { top: number } }).getBoundingClientRect().top,
      );
      if (top >= -5 && top < 300) break;
      await page.waitForTimeout(500);
    }
    assert.ok(top >= -5 && top < 300, `the section's heading is at the top (${top} px)`);
  });

  await step(
    'a code turned off in neurocache.diagnostics.severity leaves the Problems view',
    '54-severity-off',
    async () => {
      await runCommand(page, 'View: Focus Problems');
      const problems = page.locator('.part.panel .markers-panel');
      await textUntil(problems, /missing-cache-file/, 60_000);
      mkdirSync(path.join(workspace.root, '.vscode'), { recursive: true });
      writeFileSync(
        path.join(workspace.root, '.vscode', 'settings.json'),
        JSON.stringify({ 'neurocache.diagnostics.severity': { 'missing-cache-file': 'off' } }),
      );
      const deadline = Date.now() + 60_000;
      while ((await problems.innerText()).includes('missing-cache-file') && Date.now() < deadline)
        await page.waitForTimeout(500);
      const text = await problems.innerText();
      assert.doesNotMatch(text, /missing-cache-file/);
      assert.match(text, /cache-file-stops-build/, 'the other findings stay');
    },
  );
});
