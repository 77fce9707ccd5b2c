/**
 * Tier 2: a person at a real VS Code (code-server in Chromium) with the packaged extension
 * (neurocache.vsix) installed: opens the workspace, opens the stale manifest with quick open,
 * finds the warning in Problems, hovers the "partial_seizure" key for the statistics and fixes
 * the manifest from the Command Palette. Only keyboard, mouse and what is on screen; a
 * screenshot per step goes to .test-output/e2e/.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { folderUrl, launchBrowser, openWorkbench } from './browser';
import { ROOT, startCodeServer } from './codeServer';
import { MISSING_CACHE_FILE, writeWorkspace } from './fixtures';
import { editorLine, steps } from './steps';

const VSIX = path.join(ROOT, 'neurocache.vsix');

test('a person finds and fixes a stale seizure manifest in VS Code', { timeout: 5 * 60_000 }, async (t) => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'neurocache-e2e-ui-'));
  t.after(() => rmSync(scratch, { recursive: true, force: true }));
  const workspace = writeWorkspace(scratch);
  const server = await startCodeServer({ vsix: [VSIX] });
  t.after(() => server.stop());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page } = browser;
  // Each step ends with a screenshot; a failing one leaves NAME-failed.png and skips the rest.
  const { step, shot } = steps(t, page);

  await step('the workbench opens the folder', '01-workbench', async () => {
    await openWorkbench(page, folderUrl(server.url, workspace.root));
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'eeg_cache' }).waitFor();
  });

  await step('quick open finds and opens the manifest', '02-manifest-open', async () => {
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    await input.fill('eeg_cache/manifest.json');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'eeg_cache' }).first().waitFor();
    await page.keyboard.press('Enter');
    await editorLine(page, 'partial_seizure').waitFor();
  });

  await step('Problems lists the missing cache file', '03-problems', async () => {
    await page.keyboard.press('Control+Shift+M');
    // The existence check runs in the background; the row appears when the server publishes.
    const row = page.locator('.markers-panel .monaco-list-row', { hasText: 'missing-cache-file' });
    await row.first().waitFor({ timeout: 60_000 });
    assert.match(await row.first().innerText(), new RegExp(MISSING_CACHE_FILE.replace(/\./g, '\\.')));
  });

  await step(
    'hovering "partial_seizure" of the stale manifest says training rescans it (no balanced set from it)',
    '04-hover',
    async () => {
      await editorLine(page, 'partial_seizure').locator('span', { hasText: 'partial_seizure' }).last().hover();
      const hover = page.locator('.monaco-hover', { hasText: 'Balanced training set' });
      await hover.first().waitFor({ timeout: 30_000 });
      const text = await hover.first().innerText();
      assert.match(text, /Balanced training set:?\s*none from this manifest/, text);
      assert.doesNotMatch(text, /pos_weight/, text);
      await page.keyboard.press('Escape');
    },
  );

  await step(
    '"NeuroCache: Drop Entries With Missing Files" from the Command Palette fixes it',
    '06-after-drop',
    async () => {
      // The command applies to the active manifest: put the focus back in its editor first.
      await editorLine(page, 'full_seizure').click();
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor();
      await input.fill('>NeuroCache: Drop Entries With Missing Files');
      const item = page.locator('.quick-input-widget .monaco-list-row', { hasText: 'Drop Entries With Missing Files' });
      await item.first().waitFor();
      await shot('05-command-palette');
      await page.keyboard.press('Enter');
      // Its effect: a notification says what it did, the entry leaves the editor and the
      // Problems row goes away.
      await page
        .locator('.notifications-toasts .notification-toast', { hasText: /NeuroCache/ })
        .first()
        .waitFor({ timeout: 60_000 });
      await page
        .locator('.markers-panel .monaco-list-row', { hasText: 'missing-cache-file' })
        .first()
        .waitFor({ state: 'detached', timeout: 60_000 });
      await editorLine(page, MISSING_CACHE_FILE).waitFor({ state: 'detached', timeout: 30_000 });
    },
  );

  await step(
    'with no entry missing, hovering "partial_seizure" shows the balanced seizure ratio',
    '07-hover-balanced',
    async () => {
      await editorLine(page, 'partial_seizure').locator('span', { hasText: 'partial_seizure' }).last().hover();
      const hover = page.locator('.monaco-hover', { hasText: 'Balanced seizure ratio' });
      await hover.first().waitFor({ timeout: 30_000 });
      const text = await hover.first().innerText();
      const ratio = /Balanced seizure ratio:?\s*([\d.]+\s*%)/.exec(text);
      assert.ok(ratio, `no ratio in the hover: ${text}`);
      t.diagnostic(`hover says: balanced seizure ratio ${ratio[1]}`);
      await page.keyboard.press('Escape');
    },
  );
});
