/**
 * Tier 2, the data views: a person Ctrl+clicks a manifest entry's cache file and the NPZ view
 * opens (its counts read from the page and checked against the engine), clicks a window and
 * sees its label trace and channels; Ctrl+clicks a mask path of a dataset_info.json and the
 * NIfTI viewer shows the T2w image with the lesion in red (pixels of the screenshot counted:
 * red inside the lesion's planes at opacity 0.5, none at opacity 0); then, in a browser without
 * WebGL, "View sample" shows the fallback slice picture with the overlay. Screenshots 40–47.
 */
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { categoryOf, summarizeNpz } from '../../server/src/engine/eeg/npz';
import { memorySource } from '../../server/src/engine/io/source';
import { encodeNifti, encodeVoxels } from '../writers/nifti';
import { folderUrl, launchBrowser, openWorkbench } from './browser';
import { ROOT, startCodeServer } from './codeServer';
import { writeWorkspace } from './fixtures';
import { editorLine, redPixels, steps, untilShown, webviewFrame } from './steps';

const VSIX = path.join(ROOT, 'neurocache.vsix');
const DIMS = [40, 40, 20];
/** The lesion: a 8×8×4 block around this voxel (x, y, z). */
const LESION = [25, 14, 12];

/** arc/dataset_info.json over one T2w image (a bright ellipsoid) and its lesion mask (a block). */
function writeArc(root: string): { datasetInfo: string; mask: string; image: string; lesionVoxels: number } {
  const dir = path.join(root, 'arc');
  const nifti = path.join(dir, 'cache', 'nifti_cache');
  mkdirSync(nifti, { recursive: true });
  const [nx, ny, nz] = DIMS;
  const image = new Float32Array(nx * ny * nz);
  const mask = new Uint8Array(nx * ny * nz);
  let lesionVoxels = 0;
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++) {
        const i = x + nx * (y + ny * z);
        const r =
          ((x - nx / 2) / (nx / 2.4)) ** 2 + ((y - ny / 2) / (ny / 2.4)) ** 2 + ((z - nz / 2) / (nz / 2.4)) ** 2;
        image[i] = r < 1 ? 400 + 200 * (1 - r) : 10;
        if (Math.abs(x - LESION[0]) < 4 && Math.abs(y - LESION[1]) < 4 && Math.abs(z - LESION[2]) < 2) {
          mask[i] = 1;
          lesionVoxels++;
        }
      }
  const imagePath = path.join(nifti, 'sub-M2001_ses-1_t2w.nii.gz');
  const maskPath = path.join(nifti, 'sub-M2001_ses-1_lesion.nii.gz');
  writeFileSync(
    imagePath,
    encodeNifti({ dims: DIMS, pixdims: [1, 1, 2], datatype: 16, data: encodeVoxels(16, image), gzip: true }),
  );
  writeFileSync(
    maskPath,
    encodeNifti({ dims: DIMS, pixdims: [1, 1, 2], datatype: 2, data: encodeVoxels(2, mask), gzip: true }),
  );
  const datasetInfo = path.join(dir, 'dataset_info.json');
  writeFileSync(
    datasetInfo,
    JSON.stringify(
      {
        num_samples: 1,
        image_paths: ['cache/nifti_cache/sub-M2001_ses-1_t2w.nii.gz'],
        mask_paths: ['cache/nifti_cache/sub-M2001_ses-1_lesion.nii.gz'],
        lesion_volumes: [lesionVoxels],
        acquisition_types: ['space_2x'],
        subject_ids: ['sub-M2001'],
      },
      null,
      2,
    ) + '\n',
  );
  return { datasetInfo, mask: maskPath, image: imagePath, lesionVoxels };
}

async function openInEditor(page: Page, relative: string, folder: string): Promise<void> {
  const quickInput = page.locator('.quick-input-widget');
  const input = quickInput.locator('input');
  // A webview that has the focus keeps the keys: then click the side bar's title first, as a person would.
  await untilShown(
    async () => {
      await page.keyboard.press('Control+P');
      return input;
    },
    () => page.locator('.part.sidebar .composite.title').click(),
    { everyMs: 3000 },
  );
  await input.fill(relative);
  await quickInput.locator('.monaco-list-row', { hasText: folder }).first().waitFor();
  await page.keyboard.press('Enter');
}

/** Ctrl+click on the path `text` in the active editor until a tab named `tab` is active (links come once the server has checked the file). */
async function ctrlClickUntilOpen(page: Page, text: string, tab: string): Promise<void> {
  const value = editorLine(page, text).locator('span', { hasText: text }).last();
  await untilShown(
    async () => {
      await value.hover();
      await page.keyboard.down('Control');
      await value.click();
      await page.keyboard.up('Control');
      return page.locator('.editor-group-container.active .tab.active', { hasText: tab });
    },
    async () => undefined,
    { everyMs: 4000, timeoutMs: 240_000 },
  );
}

test(
  'a person looks at an EEG window cache and an ARC sample in the data views',
  { timeout: 12 * 60_000 },
  async (t) => {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'neurocache-e2e-views-'));
    t.after(() => rmSync(scratch, { recursive: true, force: true }));
    const eeg = writeWorkspace(scratch);
    const arc = writeArc(eeg.root);
    const server = await startCodeServer({ vsix: [VSIX] });
    t.after(() => server.stop());
    const browser = await launchBrowser({ webgl: 'swiftshader' });
    t.after(() => browser.close());
    const { page } = browser;
    const { step } = steps(t, page);
    const npzName = 'sub-001_s001_t000_windows.npz';

    await step(
      "Ctrl+click on a manifest entry's cache_file opens the NPZ view with the engine's counts",
      '40-npz-view',
      async () => {
        await openWorkbench(page, folderUrl(server.url, eeg.root));
        await openInEditor(page, 'eeg_cache/manifest.json', 'eeg_cache');
        await ctrlClickUntilOpen(page, npzName, npzName);
        const frame = webviewFrame(page);
        const counts = frame.locator('#counts');
        await counts.waitFor({ timeout: 60_000 });
        const summary = await summarizeNpz(memorySource(readFileSync(path.join(eeg.root, 'eeg_cache', npzName))));
        const expected = { partial: 0, full: 0, none: 0 };
        for (let w = 0; w < summary.windowCount; w++)
          expected[
            ({ partial_seizure: 'partial', full_seizure: 'full', no_seizure: 'none' } as const)[categoryOf(summary, w)]
          ]++;
        const shown = await counts.evaluate((el) => ({
          ...(el as unknown as { dataset: Record<string, string> }).dataset,
        }));
        assert.deepEqual(
          {
            count: Number(shown.count),
            partial: Number(shown.partial),
            full: Number(shown.full),
            none: Number(shown.none),
          },
          { count: summary.windowCount, ...expected },
        );
        const members = await frame.locator('#members tr[data-key]').allInnerTexts();
        assert.ok(
          members.some((m) => /windows\s+\(2, 19, 15360\)\s+<f4/.test(m)),
          members.join(' | '),
        );
        assert.ok(
          members.some((m) => /labels\s+\(2, 15360\)\s+<f4/.test(m)),
          members.join(' | '),
        );
        assert.match(await frame.locator('#cost').innerText(), /inflates both whole members each time/);
        const references = await frame.locator('#references a').allInnerTexts();
        assert.ok(
          references.some((r) => /partial_seizure, window 1/.test(r)) &&
            references.some((r) => /no_seizure, window 0/.test(r)),
          references.join(' | '),
        );
        t.diagnostic(
          `counts: ${(await counts.innerText()).replace(/\s+/g, ' ')}; references: ${references.join(' | ')}`,
        );
      },
    );

    await step(
      'clicking window 1 in the strip shows its label trace and its 19 channels',
      '41-npz-window',
      async () => {
        const frame = webviewFrame(page);
        const strip = frame.locator('#strip');
        const box = await strip.boundingBox();
        assert.ok(box);
        // Two windows: the right half is window 1 (half of its labels are seizure).
        await strip.click({ position: { x: box.width * 0.75, y: box.height / 2 } });
        const section = frame.locator('#window[data-state="ready"][data-window="1"]');
        await section.waitFor({ timeout: 60_000 });
        assert.match(await section.locator('h2').innerText(), /Window 1: partial, seizure fraction 50\.0%/);
        assert.equal(await section.locator('#eeg').getAttribute('data-channels'), '19');
        await section.locator('#label-trace').waitFor();
        t.diagnostic((await section.innerText()).replace(/\s+/g, ' ').slice(0, 300));
      },
    );

    await step(
      '"Reopen Editor With Text Editor" goes back to VS Code\'s binary editor, and back to the view',
      '42-npz-open-with',
      async () => {
        const quickInput = page.locator('.quick-input-widget');
        await untilShown(
          async () => {
            await page.keyboard.press('F1');
            await quickInput.locator('input').fill('>View: Reopen Editor With Text Editor');
            return quickInput.locator('.monaco-list-row', { hasText: 'Reopen Editor with Text Editor' }).first();
          },
          () => page.keyboard.press('Escape'),
        );
        await page.keyboard.press('Enter');
        await page
          .locator('.editor-group-container.active', { hasText: /binary|unsupported text encoding/ })
          .first()
          .waitFor({ timeout: 30_000 });
        assert.equal(await webviewFrame(page).locator('#counts').count(), 0, 'the view is gone');
        await untilShown(
          async () => {
            await page.keyboard.press('F1');
            await quickInput.locator('input').fill('>View: Reopen Editor With...');
            return quickInput.locator('.monaco-list-row', { hasText: 'Reopen Editor With...' }).first();
          },
          () => page.keyboard.press('Escape'),
        );
        await page.keyboard.press('Enter');
        const ours = quickInput.locator('.monaco-list-row', { hasText: 'EEG Window Cache' }).first();
        await ours.waitFor();
        await ours.click();
        await webviewFrame(page).locator('#counts').waitFor({ timeout: 60_000 });
      },
    );

    let withOverlay = 0;
    await step(
      'Ctrl+click on a mask path opens the NIfTI viewer with the lesion in red',
      '43-nifti-viewer',
      async () => {
        await page.keyboard.press('Control+K');
        await page.keyboard.press('Control+W'); // close all editors: one webview at a time
        await openInEditor(page, 'arc/dataset_info.json', 'arc');
        const maskName = path.basename(arc.mask);
        await ctrlClickUntilOpen(page, maskName, maskName);
        const frame = webviewFrame(page);
        await frame.locator('#app[data-state="ready"][data-renderer="niivue"]').waitFor({ timeout: 90_000 });
        assert.match(await frame.locator('#pair').innerText(), /sample 0 of arc\/dataset_info\.json \(sub-M2001\)/);
        const coords = frame.locator('#coords');
        await coords.filter({ hasText: 'voxel' }).waitFor();
        t.diagnostic(`crosshair: ${await coords.innerText()}`);
        // The crosshair starts at the lesion's centre, so all three planes cut through it.
        const vox = (await coords.getAttribute('data-vox'))!.split(',').map(Number);
        vox.forEach((v, axis) =>
          assert.ok(Math.abs(v - LESION[axis]) <= 1, `crosshair ${vox} near the lesion ${LESION}`),
        );
        // NiiVue draws after loading: give it the frames it needs by waiting for red to appear.
        const deadline = Date.now() + 30_000;
        do withOverlay = redPixels(await frame.locator('#gl').screenshot());
        while (withOverlay < 200 && Date.now() < deadline);
        t.diagnostic(`red pixels with the lesion at opacity 0.5: ${withOverlay}`);
        assert.ok(withOverlay >= 200, `the overlay shows (${withOverlay} red pixels)`);
      },
    );

    await step('lesion opacity 0 leaves no red: the red was the overlay', '44-nifti-opacity-0', async () => {
      const frame = webviewFrame(page);
      await frame.locator('#opacity').fill('0');
      let without: number;
      const deadline = Date.now() + 30_000;
      do without = redPixels(await frame.locator('#gl').screenshot());
      while (without > withOverlay / 10 && Date.now() < deadline);
      t.diagnostic(`red pixels at opacity 0: ${without}`);
      assert.ok(without <= withOverlay / 10, `${without} red pixels left of ${withOverlay}`);
    });

    await browser.close();
    const plain = await launchBrowser({ webgl: 'none' });
    t.after(() => plain.close());
    const fallback = steps(t, plain.page);

    await fallback.step(
      'without WebGL, "View sample" on dataset_info.json shows the slice picture with the overlay',
      '45-nifti-fallback',
      async () => {
        const p = plain.page;
        await openWorkbench(p, folderUrl(server.url, eeg.root));
        await p.keyboard.press('Control+K');
        await p.keyboard.press('Control+W');
        await openInEditor(p, 'arc/dataset_info.json', 'arc');
        const lens = p
          .locator('.editor-group-container.active .codelens-decoration a', { hasText: 'View sample' })
          .first();
        await lens.waitFor({ timeout: 90_000 });
        await lens.click();
        const frame = webviewFrame(p);
        await frame.locator('#app[data-state="ready"][data-renderer="pictures"]').waitFor({ timeout: 90_000 });
        await frame.locator('#no-webgl').waitFor();
        assert.equal(
          await frame.locator('#fallback').getAttribute('data-z'),
          String(LESION[2] - 1),
          'the first slice with the most lesion voxels',
        );
        const picture = frame.locator('#fallback-picture');
        await picture.evaluate((img) => (img as unknown as { decode(): Promise<void> }).decode());
        const red = redPixels(await picture.screenshot());
        t.diagnostic(`fallback: ${await frame.locator('#fallback-caption').innerText()}; ${red} red pixels`);
        assert.ok(red >= 100, `the overlay shows in the fallback picture (${red} red pixels)`);
      },
    );

    await fallback.step(
      'the fallback slider moves to a slice without lesion: no red',
      '46-nifti-fallback-slice',
      async () => {
        const frame = webviewFrame(plain.page);
        const slider = frame.locator('#fallback-z');
        await slider.fill('2');
        await slider.dispatchEvent('change');
        await frame.locator('#fallback[data-z="2"]').waitFor({ timeout: 60_000 });
        const picture = frame.locator('#fallback-picture');
        await picture.evaluate((img) => (img as unknown as { decode(): Promise<void> }).decode());
        const red = redPixels(await picture.screenshot());
        assert.equal(red, 0, `slice 2 has no lesion (${red} red pixels)`);
      },
    );
  },
);
