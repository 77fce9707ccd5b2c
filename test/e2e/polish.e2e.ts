/**
 * Tier 2, the rest of issue 24 as a person meets it in code-server with the .vsix: the
 * walkthrough's steps (their pages whole, no keyboard hint cut off at the step's edge);
 * hovering a category key of a manifest whose folder has damaged and unlisted cache files shows
 * the statistics first, with those files' findings on the `[` beside it; *Exclude … from
 * manifest builds* (Ctrl+.) writes `.neurocache.json`, the finding goes and the rebuild says its
 * manifest deliberately differs from Python's; a moved dataset_info.json gives one finding whose
 * fix rewrites the paths. code-server's window is a real remote window (remote authority
 * 127.0.0.1:PORT; the extension host runs on the server): `neurocache.hubEndpoint` in the User
 * settings is not read there, so the download goes to HF_ENDPOINT and its failure says where the
 * value is read; set in the Remote settings (user-data/Machine/settings.json) it is used and the
 * log names it. Screenshots 60–68.
 */
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { startFakeHub } from '../hub/fakeHub';
import { writeArcShards } from '../hub/shards';
import { writeArcSessions, writeRebuiltCache } from '../support/workspaces';
import { folderUrl, launchBrowser, openWorkbench } from './browser';
import { ROOT, startCodeServer } from './codeServer';
import { editorLine, findFiles, hoverUntil, runCommand, steps, textUntil, toast } from './steps';

const VSIX = path.join(ROOT, 'neurocache.vsix');
const TOKEN = 'hf_tokenOfThePolishE2eHub0123456789';

/** Opens `relative` (a path under the workspace) with Ctrl+P. */
async function openFile(page: Page, relative: string): Promise<void> {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(relative);
  await page
    .locator('.quick-input-widget .monaco-list-row', { hasText: path.basename(relative) })
    .first()
    .waitFor({ timeout: 30_000 });
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab.active', { hasText: path.basename(relative) }).waitFor({ timeout: 30_000 });
}

/** Ctrl+. where `place` puts the cursor, then the quick fix titled `title` once offered (the open menu saved as `shot`.png). */
async function quickFix(
  page: Page,
  place: () => Promise<void>,
  title: string | RegExp,
  shot: (name: string) => Promise<void>,
  name: string,
): Promise<void> {
  const item = page.locator('.action-widget .monaco-list-row', { hasText: title }).first();
  const deadline = Date.now() + 60_000;
  for (;;) {
    await place();
    await page.keyboard.press('Control+.');
    try {
      await item.waitFor({ timeout: 5000 });
      break;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await page.keyboard.press('Escape');
    }
  }
  await shot(name);
  await item.click();
}

test('walkthrough, hover order, exclusion, moved data and the remote endpoint', { timeout: 8 * 60_000 }, async (t) => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'neurocache-e2e-polish-'));
  t.after(() => rmSync(scratch, { recursive: true, force: true }));
  const root = path.join(scratch, 'workspace');
  const cache = writeRebuiltCache(path.join(root, 'eeg'));
  // A dataset_info.json whose data moved to archive/: every path fails.
  const arc = writeArcSessions(root, 8);
  mkdirSync(path.join(root, 'archive'));
  renameSync(arc.cache, path.join(root, 'archive', 'nifti_cache'));
  // The Hub the User settings name works; the one this remote window uses (HF_ENDPOINT) wants a token.
  const repoDir = path.join(scratch, 'hub-repo');
  writeArcShards(repoDir, { sessions: 4, shards: 1, dims: [8, 8, 4] });
  const userHub = await startFakeHub({ root: repoDir });
  t.after(() => userHub.close());
  const usedHub = await startFakeHub({ root: repoDir, token: TOKEN });
  t.after(() => usedHub.close());
  const server = await startCodeServer({
    vsix: [VSIX],
    userDataDir: path.join(scratch, 'user-data'),
    settings: { 'neurocache.hubEndpoint': userHub.hubUrl },
    env: { HF_ENDPOINT: usedHub.hubUrl, HF_TOKEN: '', HF_HOME: path.join(scratch, 'hf-home') },
  });
  t.after(() => server.stop());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page } = browser;
  const { step, shot } = steps(t, page);
  const problems = page.locator('.part.panel .markers-panel');
  const bracket = () => editorLine(page, '"partial_seizure": [').locator('span > span', { hasText: /^\[$/ }).first();

  await step('every walkthrough step shows its whole page', '60-walkthrough', async () => {
    await openWorkbench(page, folderUrl(server.url, root));
    await runCommand(page, 'Help: Welcome');
    const walkthrough = page
      .locator('.gettingStartedContainer button', { hasText: 'Get started with NeuroCache' })
      .first();
    await walkthrough.waitFor({ timeout: 30_000 });
    await walkthrough.click();
    const media = page
      .frameLocator('.gettingStartedContainer iframe.webview.ready')
      .frameLocator('iframe#active-frame');
    for (const [title, heading, name] of [
      ['Open a cache', 'Open a cache', '60a-walkthrough-open'],
      ['Read a problem', 'Read a problem', '60b-walkthrough-problems'],
      ['Hover for the numbers', 'Hover for the numbers', '60c-walkthrough-hover'],
      ['Fix it', 'Fix it', '60d-walkthrough-fix'],
      ['Download the ARC dataset', 'Download the ARC dataset', '60e-walkthrough-download'],
    ]) {
      await page.locator('.gettingStartedContainer .getting-started-step', { hasText: title }).first().click();
      await page
        .locator('.gettingStartedContainer .getting-started-step.expanded', { hasText: title })
        .waitFor({ timeout: 30_000 });
      await media.locator('h1', { hasText: heading }).waitFor({ timeout: 30_000 });
      await shot(name);
      // A keyboard hint VS Code adds under a button (a command with a keybinding) is drawn whole, not cut at the step's edge.
      const expanded = page.locator('.gettingStartedContainer .getting-started-step.expanded');
      const cut = await expanded.evaluate((step) => {
        type Box = { getBoundingClientRect(): { right: number } };
        const edge = (step as unknown as Box).getBoundingClientRect().right;
        const keys = (
          step as unknown as { querySelectorAll(s: string): ArrayLike<Box & { textContent: string }> }
        ).querySelectorAll('.shortcut-message .monaco-keybinding-key');
        return Array.from(keys)
          .filter((k) => k.getBoundingClientRect().right > edge)
          .map((k) => k.textContent);
      });
      assert.deepEqual(cut, [], `${title}: keyboard hint cut off at the step's edge`);
    }
  });

  await step(
    'hovering a category key shows the statistics first, not the findings about files',
    '61-hover-key',
    async () => {
      await page.keyboard.press('Control+W');
      await openFile(page, 'eeg/manifest.json');
      const key = editorLine(page, '"partial_seizure"').locator('span', { hasText: '"partial_seizure"' }).last();
      const hover = await hoverUntil(page, key, 'Seizure manifest');
      const text = (await hover.innerText()).trim();
      assert.match(
        text,
        /^Seizure manifest — partial_seizure: 1 window\n/,
        `the hover starts with the statistics:\n${text}`,
      );
      assert.doesNotMatch(text, /damaged_windows\.npz|nolabels_windows\.npz|extra_windows\.npz/);
    },
  );

  await step('the findings about the folder’s files sit on the [ beside the key', '62-hover-bracket', async () => {
    await page.keyboard.press('Escape');
    const hover = await hoverUntil(page, bracket(), 'damaged_windows.npz');
    const text = await hover.innerText();
    for (const { name } of cache.fileLevel) assert.match(text, new RegExp(name.replace('.', '\\.')));
  });

  await step(
    'Ctrl+. → Exclude extra_windows.npz from manifest builds: .neurocache.json gets it, the finding goes',
    '63-exclude',
    async () => {
      await page.keyboard.press('Escape');
      await quickFix(
        page,
        async () => {
          await bracket().click();
        },
        'Exclude extra_windows.npz from manifest builds (.neurocache.json)',
        shot,
        '63a-exclude-menu',
      );
      await toast(page, /Excluded extra_windows\.npz from manifest builds/).waitFor({ timeout: 30_000 });
      const project = JSON.parse(readFileSync(path.join(root, '.neurocache.json'), 'utf8'));
      assert.deepEqual(project, { build: { exclude: ['eeg/extra_windows.npz'] } });
      // The findings on the [ again: the other files' stay, extra_windows.npz's is gone.
      const deadline = Date.now() + 60_000;
      const findingsOnBracket = async () => {
        await page.keyboard.press('Escape');
        await page.locator('.part.statusbar').hover();
        return (await hoverUntil(page, bracket(), 'damaged_windows.npz')).innerText();
      };
      let left = await findingsOnBracket();
      while (left.includes('extra_windows.npz') && Date.now() < deadline) left = await findingsOnBracket();
      assert.doesNotMatch(left, /extra_windows\.npz/);
      assert.match(left, /nolabels_windows\.npz/, 'the other findings stay');
    },
  );

  await step(
    'the rebuild says its manifest differs from the Python builder’s by that file’s windows',
    '64-rebuild-excluded',
    async () => {
      await runCommand(page, 'NeuroCache: Rebuild manifest.json');
      const said = toast(page, /This manifest deliberately differs from the Python builder's by 2 windows/);
      await said.waitFor({ timeout: 60_000 });
      assert.match(
        (await said.innerText()).replace(/\s+/g, ' '),
        /excluded on purpose extra_windows\.npz \(by "eeg\/extra_windows\.npz" in .*\.neurocache\.json\)\. Rebuilt: 1 cache file listed of 4 found/,
      );
    },
  );

  await step(
    'a moved dataset_info.json: one finding, and Ctrl+. rewrites the 16 paths',
    '65-moved-dataset',
    async () => {
      await openFile(page, 'data/dataset_info.json');
      await runCommand(page, 'View: Focus Problems');
      await textUntil(problems, /None of the 16 image and mask paths resolve/, 60_000);
      const missing = await problems.locator('.monaco-list-row', { hasText: 'missing-file' }).count();
      assert.equal(missing, 1, 'one missing-file finding, not one per path');
      await shot('65a-moved-dataset-problem');
      await quickFix(
        page,
        async () => {
          await editorLine(page, '"image_paths"').locator('span', { hasText: '"image_paths"' }).last().click();
        },
        /Rewrite 16 paths to the files found under .*archive/,
        shot,
        '65b-moved-dataset-menu',
      );
      const deadline = Date.now() + 60_000;
      while ((await problems.innerText()).includes('None of the 16') && Date.now() < deadline)
        await page.waitForTimeout(500);
      assert.doesNotMatch(await problems.innerText(), /None of the 16|missing-file/);
      await textUntil(editorLine(page, 'archive/nifti_cache'), /\.\.\/archive\/nifti_cache\//);
    },
  );

  await step(
    'a Hub endpoint in the User settings: the failure says this remote window reads Remote settings only',
    '66-remote-endpoint',
    async () => {
      await page.keyboard.press('Control+S');
      await runCommand(page, 'NeuroCache: Download ARC dataset');
      const quickInput = page.locator('.quick-input-widget');
      await quickInput
        .locator('.quick-input-title', { hasText: 'Download ARC dataset into' })
        .waitFor({ timeout: 60_000 });
      await quickInput.locator('.monaco-list-row', { hasText: 'data/arc' }).first().click();
      const failed = toast(page, /HTTP 401/);
      await failed.waitFor({ timeout: 90_000 });
      const text = (await failed.innerText()).replace(/\s+/g, ' ');
      assert.match(
        text,
        /neurocache\.hubEndpoint is not set in Remote settings \([^)]+\), so the server uses HF_ENDPOINT on the remote machine or https:\/\/huggingface\.co; in this remote window neurocache\.hubEndpoint is read from Remote settings \([^)]+\) only, so a value in your local User settings is not used/,
        text,
      );
      assert.equal(usedHub.requests.length > 0, true, 'the download went to HF_ENDPOINT');
      assert.equal(userHub.requests.length, 0, 'not to the User settings’ endpoint');
    },
  );

  await step('Open Settings shows neurocache.hubEndpoint among the Remote settings', '67-remote-settings', async () => {
    await toast(page, /HTTP 401/)
      .locator('.monaco-button', { hasText: 'Open Settings' })
      .first()
      .click();
    const editor = page.locator('.settings-editor');
    await editor.waitFor({ timeout: 30_000 });
    await textUntil(editor, /Hub Endpoint/, 30_000);
    await textUntil(page.locator('.settings-editor .settings-tabs-widget'), /Remote/, 30_000);
  });

  await step('set in the Remote settings, the endpoint is used and named', '68-remote-endpoint-set', async () => {
    mkdirSync(path.join(scratch, 'user-data', 'Machine'), { recursive: true });
    writeFileSync(
      path.join(scratch, 'user-data', 'Machine', 'settings.json'),
      JSON.stringify({ 'neurocache.hubEndpoint': userHub.hubUrl }),
    );
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+W');
    const deadline = Date.now() + 90_000;
    // The window reads the Remote settings again when the file changes; a download started before that still goes to HF_ENDPOINT.
    while (userHub.requests.length === 0 && Date.now() < deadline) {
      await runCommand(page, 'NeuroCache: Download ARC dataset');
      const quickInput = page.locator('.quick-input-widget');
      await quickInput
        .locator('.quick-input-title', { hasText: 'Download ARC dataset into' })
        .waitFor({ timeout: 60_000 });
      await quickInput.locator('.monaco-list-row', { hasText: 'data/arc' }).first().click();
      await page
        .locator('.notifications-toasts .notification-toast', { hasText: /HTTP 401|Downloading ARC dataset/ })
        .first()
        .waitFor({ timeout: 60_000 });
    }
    assert.ok(userHub.requests.length > 0, 'the download went to the Remote settings’ endpoint');
    const written = path.join(root, 'data', 'arc', 'dataset_info.json');
    await page.locator('.tabs-container .tab.active', { hasText: 'dataset_info.json' }).waitFor({ timeout: 90_000 });
    while (!existsSync(written) && Date.now() < deadline + 60_000) await page.waitForTimeout(250);
    assert.ok(existsSync(written), 'the download wrote dataset_info.json');
    const log = findFiles(path.join(scratch, 'user-data', 'logs'), 'NeuroCache.log')
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const escaped = userHub.hubUrl.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    assert.match(log, new RegExp(`Hub endpoint ${escaped}, from neurocache\\.hubEndpoint in Remote settings \\(`));
    assert.match(
      log,
      /neurocache\.hubEndpoint is not set in Remote settings .* a value in your local User settings is not used/,
    );
  });
});
