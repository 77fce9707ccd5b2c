/**
 * Tier 2, the editor features of issue 14: a person at a real VS Code (code-server in
 * Chromium, the packaged extension installed) in a workspace with two ARC datasets and an EEG
 * cache, each with planted problems:
 *   - deletes a dataset folder in the terminal (`rm -rf data/arc`): its problems leave Problems;
 *   - Ctrl+clicks a cache file name in manifest.json: the NPZ opens in the NPZ view;
 *   - fixes one manifest entry from the light bulb (Ctrl+.): just that entry goes;
 *   - Ctrl+clicks a mask path in dataset_info.json: the NIfTI file opens;
 *   - types a wrong lesion volume and saves: fix-on-save (`source.fixAll.neurocache` in the
 *     workspace's `editor.codeActionsOnSave`) sets the volumes to the masks' counts and rewrites
 *     the legacy paths, on disk too.
 * Only keyboard, mouse and what is on screen (plus the files on disk); a screenshot per step
 * goes to .test-output/e2e/.
 */
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { folderUrl, launchBrowser, openWorkbench } from './browser';
import { ROOT, startCodeServer } from './codeServer';
import { editorLine, steps, untilShown, webviewFrame } from './steps';
import { writeArcDataset, writeEegCache } from '../support/workspaces';

const VSIX = path.join(ROOT, 'neurocache.vsix');

test("a person clears, opens and fixes problems with the editor's own gestures", { timeout: 6 * 60_000 }, async (t) => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'neurocache-e2e-editor-'));
  t.after(() => rmSync(scratch, { recursive: true, force: true }));
  const root = path.join(scratch, 'workspace');
  const doomed = writeArcDataset(path.join(root, 'data', 'arc'));
  const arc = writeArcDataset(path.join(root, 'arc'));
  writeEegCache(path.join(root, 'eeg'));
  mkdirSync(path.join(root, '.vscode'));
  writeFileSync(
    path.join(root, '.vscode', 'settings.json'),
    JSON.stringify({ 'editor.codeActionsOnSave': { 'source.fixAll.neurocache': 'explicit' } }, null, 2),
  );

  // Terminal suggestions would take the Enter that runs the command.
  const server = await startCodeServer({ vsix: [VSIX], settings: { 'terminal.integrated.suggest.enabled': false } });
  t.after(() => server.stop());
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page } = browser;
  const { step, shot } = steps(t, page);
  const quickInput = page.locator('.quick-input-widget');
  const problems = (code: string) => page.locator('.markers-panel .monaco-list-row', { hasText: code });
  const tab = (name: string) => page.locator('.tabs-container .tab', { hasText: name });

  const openFile = async (relative: string) => {
    await page.keyboard.press('Control+P');
    const input = quickInput.locator('input');
    await input.waitFor();
    await input.fill(relative);
    await quickInput
      .locator('.monaco-list-row', { hasText: path.basename(relative) })
      .first()
      .waitFor();
    await page.keyboard.press('Enter');
    await page.locator('.editor-group-container.active .tab.active', { hasText: path.basename(relative) }).waitFor();
  };
  // NPZ and NIfTI files open in NeuroCache's own views (the default editors for them): a webview page.
  const viewShown = (selector: string) => webviewFrame(page).locator(selector).first().waitFor({ timeout: 60_000 });
  /** Ctrl+clicks `text` in the active editor until the file it links to opens in a tab. */
  const ctrlClick = async (text: string, opens: string) => {
    const target = editorLine(page, text).locator('span', { hasText: text }).last();
    // The links arrive once the server has checked the file: until then the click only moves the cursor.
    await untilShown(
      async () => {
        // By hand, as a person does: holding Ctrl re-renders the line as a link (the span is
        // replaced), which a locator click would wait out for ever.
        await target.waitFor();
        const box = await target.boundingBox(); // null when the line was re-rendered meanwhile: try again
        if (box) {
          const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
          await page.mouse.move(x, y);
          await page.keyboard.down('Control');
          await page.mouse.move(x + 1, y);
          await page.mouse.click(x + 1, y);
          await page.keyboard.up('Control');
        }
        return tab(opens).first();
      },
      async () => undefined,
      { everyMs: 3000 },
    );
  };

  /** Runs a command from the Command Palette (F1). */
  const palette = async (command: string) => {
    await page.keyboard.press('F1');
    await quickInput.locator('input').fill(`>${command}`);
    await quickInput.locator('.monaco-list-row', { hasText: command }).first().click();
  };

  await step(
    'the workbench opens the workspace and Problems lists every planted problem',
    '20-editor-problems',
    async () => {
      await openWorkbench(page, folderUrl(server.url, root));
      await page.keyboard.press('Control+Shift+M');
      // Tall enough for every row: the list draws only the rows in view.
      await palette('View: Toggle Maximized Panel');
      // Two datasets, each with a wrong volume and two legacy paths; the manifest names a missing file.
      await problems('lesion-volume-mismatch').nth(1).waitFor({ timeout: 90_000 });
      await problems('missing-cache-file').first().waitFor({ timeout: 60_000 });
      assert.equal(await problems('legacy-path').count(), 4);
    },
  );

  await step(
    "`rm -rf data/arc` in the terminal takes that dataset's problems out of Problems",
    '21-editor-folder-deleted',
    async () => {
      await palette('Terminal: Create New Terminal');
      const terminal = page.locator('.terminal-wrapper.active .xterm');
      await terminal.waitFor({ timeout: 30_000 });
      // What is typed before the shell is up waits in the terminal's input queue.
      await terminal.click();
      await page.keyboard.type('rm -rf data/arc\n');
      await untilGone(() => !existsSync(doomed.directory));
      await shot('21a-editor-rm-rf');
      // The other dataset's and the manifest's problems stay; the deleted one's go.
      await page.keyboard.press('Control+Shift+M');
      await problems('lesion-volume-mismatch').nth(1).waitFor({ state: 'detached', timeout: 60_000 });
      assert.equal(await problems('lesion-volume-mismatch').count(), 1);
      assert.equal(await problems('legacy-path').count(), 2);
      assert.equal(await problems('missing-cache-file').count(), 1);
      await palette('View: Toggle Maximized Panel');
    },
  );

  await step('Ctrl+click on a cache_file name opens the NPZ file in the NPZ view', '22-editor-npz-opened', async () => {
    await openFile('eeg/manifest.json');
    await ctrlClick('a_windows.npz', 'a_windows.npz');
    await page.locator('.editor-group-container.active .tab.active', { hasText: 'a_windows.npz' }).waitFor();
    await viewShown('#counts');
  });

  await step(
    'Ctrl+. on the missing entry offers "Drop this entry" first; it drops just that entry',
    '24-editor-entry-dropped',
    async () => {
      await tab('manifest.json').first().click();
      await editorLine(page, 'gone_windows.npz').locator('span', { hasText: 'gone_windows.npz' }).last().click();
      await page.keyboard.press('Control+.');
      const menu = page.locator('.action-widget');
      const drop = menu.locator('.monaco-list-row', { hasText: 'Drop this entry' }).first();
      // Once in a CI dry run on a loaded machine the menu never came (the light bulb was there):
      // as a person would, press again, and say so; a server that cannot answer fails both.
      const shown = await drop.waitFor({ timeout: 15_000 }).then(
        () => true,
        () => false,
      );
      if (!shown) {
        t.diagnostic('no quick-fix menu 15 s after Ctrl+.: pressed again');
        await editorLine(page, 'gone_windows.npz').locator('span', { hasText: 'gone_windows.npz' }).last().click();
        await page.keyboard.press('Control+.');
        await drop.waitFor({ timeout: 30_000 });
      }
      const titles = await menu.locator('.monaco-list-row').allInnerTexts();
      t.diagnostic(`quick fixes: ${titles.map((s) => s.trim()).join(' | ')}`);
      assert.match(titles.find((s) => /Drop/.test(s)) ?? '', /Drop this entry/, 'the per-entry fix comes first');
      await shot('23-editor-quick-fix-menu');
      await drop.click();
      await editorLine(page, 'gone_windows.npz').waitFor({ state: 'detached', timeout: 30_000 });
      await problems('missing-cache-file').first().waitFor({ state: 'detached', timeout: 60_000 });
      // Both entries of a_windows.npz are still there.
      assert.equal(
        await page.locator('.editor-group-container.active .view-line', { hasText: 'a_windows.npz' }).count(),
        2,
      );
    },
  );

  await step(
    'Ctrl+click on a mask path in dataset_info.json opens the NIfTI file in the viewer',
    '25-editor-nifti-opened',
    async () => {
      await openFile('arc/dataset_info.json');
      const mask = path.basename(arc.masks[0]);
      await ctrlClick(mask, mask);
      await page.locator('.editor-group-container.active .tab.active', { hasText: mask }).waitFor();
      await viewShown('#grid-toggle');
    },
  );

  await step(
    'a typed wrong volume and the legacy paths are fixed on save (source.fixAll.neurocache)',
    '26-editor-fixed-on-save',
    async () => {
      await tab('dataset_info.json').first().click();
      // The second sample's volume 5 becomes 50 by typing.
      const volume = editorLine(page, '      5').locator('span', { hasText: '5' }).last();
      await volume.click();
      await page.keyboard.press('End');
      await page.keyboard.type('0');
      await editorLine(page, '      50').waitFor();
      await page.keyboard.press('Control+S');
      await untilGone(() => {
        const saved = JSON.parse(readFileSync(arc.datasetInfo, 'utf8'));
        return (
          saved.lesion_volumes.join() === arc.counted.join() &&
          saved.image_paths.every((p: string) => !p.startsWith('arc/'))
        );
      }, 60_000);
      await problems('lesion-volume-mismatch').first().waitFor({ state: 'detached', timeout: 60_000 });
      await problems('legacy-path').first().waitFor({ state: 'detached', timeout: 60_000 });
      await editorLine(page, '      17,').waitFor();
      assert.equal(await page.locator('.editor-group-container.active .tab.active.dirty').count(), 0, 'saved');
    },
  );
});

/** Polls `done` (a check of files on disk) every 100 ms until it holds, or throws after `timeoutMs`. */
async function untilGone(done: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not done within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
