/**
 * Tier 2, a download that goes wrong: a person keeps a (wrong) Hugging Face token with "Set
 * Hugging Face Token", downloads from a fake Hub that first answers 503 twice (the retries show
 * in the progress notification) and then refuses the token with 401. The failure offers Retry,
 * Set Token, Open Settings and Show Output: the output shows the failure and never
 * the token (the channel's log file is checked whole), Open Settings finds the Hub endpoint,
 * and with the right token and a Hub that refuses once more (403), Retry downloads and the
 * success message says what the filters kept and left out. Screenshots 20–27.
 */
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { startFakeHub } from '../hub/fakeHub';
import { writeArcShards } from '../hub/shards';
import { folderUrl, launchBrowser, openWorkbench } from './browser';
import { ROOT, startCodeServer } from './codeServer';
import { findFiles, runCommand, steps, textUntil, toast } from './steps';

const VSIX = path.join(ROOT, 'neurocache.vsix');
const RIGHT = 'hf_rightTokenOfTheE2eHub0123456789';
const WRONG = 'hf_wrongTokenThatMustNeverShow4242';

/** Types `value` into the open input box and presses Enter. */
async function answerInputBox(page: Page, value: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(value);
  await page.keyboard.press('Enter');
}

test(
  'a failed download offers Retry, Open Settings and Show Output; the token never shows',
  { timeout: 5 * 60_000 },
  async (t) => {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'neurocache-e2e-dlfail-'));
    t.after(() => rmSync(scratch, { recursive: true, force: true }));
    const repoDir = path.join(scratch, 'hub-repo');
    writeArcShards(repoDir, { sessions: 12, shards: 2, dims: [16, 16, 8] });
    // The listing fails twice with 503 (retried after the 2 s its Retry-After asks for: long
    // enough to be seen), then the Hub checks the token.
    const hub = await startFakeHub({
      root: repoDir,
      token: RIGHT,
      faults: { latencyMs: 300, statuses: [{ status: 503, count: 2, on: 'tree', retryAfter: 2 }] },
    });
    t.after(() => hub.close());
    const folder = path.join(scratch, 'workspace');
    mkdirSync(folder);
    const userData = path.join(scratch, 'user-data');
    const server = await startCodeServer({
      vsix: [VSIX],
      userDataDir: userData,
      machineSettings: { 'neurocache.hubEndpoint': hub.hubUrl },
      // No token but the one the person sets: none from the environment or a token file.
      env: { HF_TOKEN: '', HF_HOME: path.join(scratch, 'hf-home') },
    });
    t.after(() => server.stop());
    const browser = await launchBrowser();
    t.after(() => browser.close());
    const { page } = browser;
    const { step, shot } = steps(t, page);
    const quickInput = page.locator('.quick-input-widget');
    const startDownload = async () => {
      await runCommand(page, 'NeuroCache: Download ARC dataset');
      await quickInput
        .locator('.quick-input-title', { hasText: 'Download ARC dataset into' })
        .waitFor({ timeout: 60_000 });
      await quickInput.locator('.monaco-list-row', { hasText: 'data/arc' }).first().click();
    };
    // The wrong token: the Hub rejects it (401 with "Invalid credentials"); then the repo is gated (403 GatedRepo).
    const failure = (status: number) =>
      toast(page, status === 401 ? 'rejected the token (HTTP 401' : `is gated (HTTP ${status})`);
    const button = (notification: ReturnType<typeof toast>, name: string) =>
      notification.locator('.monaco-button', { hasText: name }).first();

    await step('"NeuroCache: Set Hugging Face Token" asks in a password box and keeps it', '20-token-set', async () => {
      await openWorkbench(page, folderUrl(server.url, folder), 60_000, { empty: true });
      await runCommand(page, 'NeuroCache: Set Hugging Face Token');
      const input = quickInput.locator('input[type="password"]');
      await input.waitFor({ timeout: 60_000 });
      await shot('20-token-input');
      await answerInputBox(page, WRONG);
      await toast(page, 'Hugging Face token saved').waitFor({ timeout: 30_000 });
    });

    await step(
      'the download shows its retries in the notification, then fails with Retry, Open Settings and Show Output',
      '22-download-failed',
      async () => {
        await startDownload();
        const retrying = toast(page, /retrying \(2\/6\) after HTTP 503 Service Unavailable/);
        await retrying.waitFor({ timeout: 30_000 });
        await shot('21-download-retrying');
        t.diagnostic(`progress says: ${(await retrying.innerText()).replace(/\s+/g, ' ')}`);
        const failed = failure(401);
        await failed.waitFor({ timeout: 60_000 });
        for (const name of ['Retry', 'Set Token', 'Open Settings', 'Show Output']) {
          const shown = button(failed, name);
          await shown.waitFor();
          // The whole label is shown (a toast too narrow for its buttons cuts them to "Re…").
          assert.ok(await shown.evaluate((b) => b.scrollWidth <= b.clientWidth), `the ${name} button is cut short`);
        }
        const text = await failed.innerText();
        assert.ok(!text.includes(WRONG), 'the token is not in the notification');
      },
    );

    await step(
      'Show Output: the output channel shows the failure, and the token is nowhere in it',
      '23-output-failure',
      async () => {
        await button(failure(401), 'Show Output').click();
        const output = page.locator('.part.panel .output-view .monaco-editor .view-lines');
        const shown = await textUntil(output, /Download failed after [\d.]+ s: .*HTTP 401/);
        assert.match(shown, /Download: retrying GET .* \(attempt 2 of 6\): HTTP 503 Service Unavailable/);
        assert.ok(!shown.includes(WRONG), 'the token is not shown');
        // The whole channel, not only the lines on screen: its log file.
        const logs = findFiles(path.join(userData, 'logs'), 'NeuroCache.log');
        assert.ok(logs.length > 0, `no NeuroCache.log under ${userData}/logs`);
        const all = logs.map((f) => readFileSync(f, 'utf8')).join('\n');
        assert.match(all, /token from the editor's secret storage/);
        assert.ok(!all.includes(WRONG) && !all.includes(RIGHT), 'a token is in the log file');
        t.diagnostic(`${logs.length} log file(s), ${all.split('\n').length} lines, no token`);
      },
    );

    await step(
      'Open Settings shows the Hub endpoint setting (in the Remote settings: it is machine-scoped)',
      '24-settings-closed',
      async () => {
        await startDownload();
        await button(failure(401), 'Open Settings').click({ timeout: 60_000 });
        const setting = page.locator('.settings-editor .setting-item-contents', { hasText: 'Hub Endpoint' }).first();
        await setting.waitFor({ timeout: 30_000 });
        assert.match(await setting.innerText(), /Set Hugging Face Token/);
        await shot('24-settings-hub');
        // Newer VS Code opens the settings as a modal editor, which Escape closes (after clearing
        // the search); in a tab they do not stand in the way.
        for (let i = 0; i < 3 && (await page.locator('.modal-editor-part .settings-editor').isVisible()); i++) {
          await page.keyboard.press('Escape');
          await page.waitForTimeout(300);
        }
      },
    );

    await step(
      'with the right token, Retry after one more refusal downloads and says what the filters kept and left out',
      '27-download-summary',
      async () => {
        // The first step's "token saved" toast may still be up: without clearing it, waiting for
        // the toast below would return before the new token is stored.
        await runCommand(page, 'Notifications: Clear All Notifications');
        await toast(page, 'Hugging Face token saved').waitFor({ state: 'detached', timeout: 30_000 });
        await runCommand(page, 'NeuroCache: Set Hugging Face Token');
        await quickInput.locator('input[type="password"]').waitFor({ timeout: 30_000 });
        await answerInputBox(page, RIGHT);
        await toast(page, 'Hugging Face token saved').waitFor({ timeout: 30_000 });
        hub.faults.repoStatus = 403;
        await startDownload();
        const refused = failure(403);
        await refused.waitFor({ timeout: 60_000 });
        await shot('25-download-refused-403');
        hub.faults.repoStatus = undefined;
        await button(refused, 'Retry').click();
        const done = toast(page, /Downloaded \d+ samples from 2 shards/);
        await done.waitFor({ timeout: 120_000 });
        await shot('26-download-done');
        const text = (await done.innerText()).replace(/\s+/g, ' ');
        assert.match(text, /The filters left out \d+ of 12 sessions: /);
        t.diagnostic(`success says: ${text}`);
        assert.ok(existsSync(path.join(folder, 'data', 'arc', 'dataset_info.json')));
      },
    );
  },
);
