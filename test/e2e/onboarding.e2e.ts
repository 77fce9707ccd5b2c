/**
 * Tier 2, a first-time user: the extension page shows the user README and the icon; Help:
 * Welcome lists "Get started with NeuroCache" and its first step opens; the status bar item says
 * the server is ready (its tooltip offers Show Output, Restart Server and Check Workspace) and a
 * click on it shows the output, where start-up and the scan are logged; "NeuroCache: Restart
 * Server" starts a new server. Screenshots 30–36.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { folderUrl, launchBrowser, openWorkbench } from './browser';
import { ROOT, startCodeServer } from './codeServer';
import { writeWorkspace } from './fixtures';
import { findFiles, loadedImage, runCommand, steps, textUntil } from './steps';

const VSIX = path.join(ROOT, 'neurocache.vsix');

test(
  "a first-time user finds the README, the walkthrough, the server's health and its output",
  { timeout: 5 * 60_000 },
  async (t) => {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'neurocache-e2e-onboarding-'));
    t.after(() => rmSync(scratch, { recursive: true, force: true }));
    const workspace = writeWorkspace(scratch);
    const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
    const userData = path.join(scratch, 'user-data');
    const server = await startCodeServer({ vsix: [VSIX], userDataDir: userData });
    t.after(() => server.stop());
    const browser = await launchBrowser();
    t.after(() => browser.close());
    const { page } = browser;
    const { step, shot } = steps(t, page);
    const status = page.locator('.part.statusbar .statusbar-item', { hasText: 'NeuroCache' }).first();
    const output = page.locator('.part.panel .output-view .monaco-editor .view-lines');

    await step('the extension page shows the user README and the icon', '30-extension-page', async () => {
      await openWorkbench(page, folderUrl(server.url, workspace.root));
      await page.keyboard.press('Control+Shift+X');
      const search = page.locator('.extensions-viewlet .suggest-input-container .monaco-editor').first();
      await search.click();
      await page.keyboard.type('@installed NeuroCache');
      await page.locator('.extensions-viewlet .monaco-list-row', { hasText: 'NeuroCache' }).first().click();
      const editor = page.locator('.extension-editor');
      await editor.locator('.header .name', { hasText: 'NeuroCache' }).waitFor({ timeout: 30_000 });
      const icon = await loadedImage(editor.locator('.header .icon-container img').first());
      assert.ok(icon.width >= 64, `the icon is ${icon.width} px wide`);
      // The README is rendered in a webview (an iframe in an iframe).
      const readme = page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
      await readme.locator('h2', { hasText: 'Features' }).waitFor({ timeout: 30_000 });
      const text = await readme.locator('body').innerText();
      assert.match(text, /Checks the JSON files that EEG and stroke-lesion MRI training pipelines depend on/);
      assert.doesNotMatch(text, /npm ci/, 'the developer set-up is not on the extension page');
    });

    await step(
      'Help: Welcome lists "Get started with NeuroCache", whose first step opens',
      '31-walkthrough',
      async () => {
        await runCommand(page, 'Help: Welcome');
        const walkthrough = page
          .locator('.gettingStartedContainer button', { hasText: 'Get started with NeuroCache' })
          .first();
        await walkthrough.waitFor({ timeout: 30_000 });
        await shot('30b-welcome');
        await walkthrough.click();
        const first = page.locator('.gettingStartedContainer .getting-started-step.expanded', {
          hasText: 'Open a cache',
        });
        await first.waitFor({ timeout: 30_000 });
        // Its media is the Markdown page media/walkthrough/open.md, rendered in a webview.
        const media = page
          .frameLocator('.gettingStartedContainer iframe.webview.ready')
          .frameLocator('iframe#active-frame');
        await media.locator('h1', { hasText: 'Open a cache' }).waitFor({ timeout: 30_000 });
      },
    );

    await step('the last step offers the download', '32-walkthrough-download', async () => {
      await page
        .locator('.gettingStartedContainer .getting-started-step', { hasText: 'Download the ARC dataset' })
        .first()
        .click();
      const expanded = page.locator('.gettingStartedContainer .getting-started-step.expanded', {
        hasText: 'Download the ARC dataset',
      });
      for (const action of ['Download ARC dataset', 'Set Hugging Face Token', 'Open Hub Settings']) {
        await expanded.locator('.monaco-button', { hasText: action }).waitFor({ timeout: 30_000 });
      }
    });

    await step(
      'the status bar says the server is ready; its tooltip offers the commands',
      '33-status-tooltip',
      async () => {
        await textUntil(status, /NeuroCache/);
        // Ready once the scan is over: no activity after the name, no spinner.
        const deadline = Date.now() + 60_000;
        while ((await status.innerText()).includes(':') && Date.now() < deadline) await page.waitForTimeout(200);
        await status.hover();
        const tooltip = page.locator('.monaco-hover', { hasText: /files? checked/ }).first();
        await tooltip.waitFor({ timeout: 30_000 });
        const text = await tooltip.innerText();
        for (const link of ['Show Output', 'Restart Server', 'Check Workspace']) assert.match(text, new RegExp(link));
        // The errors and warnings of NeuroCache's files, and the last scan.
        assert.match(text, /\d+ errors?, \d+ warnings? in \d+ files?/);
        assert.match(text, /Last workspace scan: \d+ files? in [\d.]+ s/);
      },
    );

    await step(
      'a click on the status bar item shows the output: start-up, settings and the scan',
      '34-output-startup',
      async () => {
        await page.keyboard.press('Escape');
        await status.click();
        const text = await textUntil(output, /Workspace scan: checked \d+ files? in [\d.]+ s/);
        assert.match(text, new RegExp(`NeuroCache ${version.replace(/\./g, '\\.')} language server started`));
        assert.match(text, /worker threads?/);
        assert.match(text, /Settings for .*contentChecks on/);
      },
    );

    await step('"NeuroCache: Restart Server" starts a new server, which scans again', '35-restarted', async () => {
      await runCommand(page, 'NeuroCache: Restart Server');
      // The lines on screen are the last few: the whole channel is its log file.
      const log = () =>
        findFiles(path.join(userData, 'logs'), 'NeuroCache.log')
          .map((f) => readFileSync(f, 'utf8'))
          .join('\n');
      const deadline = Date.now() + 60_000;
      const restarted =
        /Restarting the language server \(asked for\)[^]*language server started[^]*Workspace scan: checked \d+ files?/;
      while (!restarted.test(log()) && Date.now() < deadline) await page.waitForTimeout(200);
      assert.match(log(), restarted);
      assert.equal(log().match(/language server started/g)?.length, 2, 'two servers started, one after the other');
      await textUntil(output, /Workspace scan: checked \d+ files?/);
    });
  },
);
