/**
 * Tier 2, ARC: a person at a real VS Code (code-server in Chromium, the packaged extension
 * installed) downloads the ARC dataset from the Command Palette, from a fake Hugging Face Hub
 * started here (test/hub/fakeHub.ts over Parquet shards from test/hub/shards.ts, named in the
 * user setting `neurocache.hubEndpoint`), into an empty folder; watches the progress
 * notification; sees dataset_info.json open; reads the dataset statistics and the
 * largest-lesion slice in hovers; then, in the EEG fixture workspace, the label trace of a
 * manifest entry. Only keyboard, mouse and what is on screen (plus the written files on disk);
 * a screenshot per step goes to .test-output/e2e/.
 */
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { startFakeHub } from '../hub/fakeHub';
import { ExpectedSession, writeArcShards } from '../hub/shards';
import { folderUrl, launchBrowser, openWorkbench } from './browser';
import { ROOT, startCodeServer } from './codeServer';
import { writeWorkspace } from './fixtures';
import { editorLine, hoverUntil, loadedImage, runCommand, steps } from './steps';

const VSIX = path.join(ROOT, 'neurocache.vsix');

/** What the download keeps with the default filters (as test/hub/download.test.ts): SPACE 2x / no-accel sessions with a T2w run and a mask. */
function expected(sessions: ExpectedSession[]): ExpectedSession[] {
  return sessions.filter(
    (s) => s.t2wSha256 !== null && (s.acquisition === 'space_2x' || s.acquisition === 'space_no_accel') && s.hasMask,
  );
}

test(
  'a person downloads the ARC dataset from the Command Palette and reads its hovers',
  { timeout: 5 * 60_000 },
  async (t) => {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'neurocache-e2e-arc-'));
    t.after(() => rmSync(scratch, { recursive: true, force: true }));
    const repoDir = path.join(scratch, 'hub-repo');
    const shards = writeArcShards(repoDir, { sessions: 12, shards: 2, dims: [32, 32, 16] });
    const keep = expected(shards.sessions);
    assert.ok(
      keep.length >= 5 && keep.length < shards.sessions.length,
      'the filters have something to keep and something to drop',
    );
    // A second of latency per request (on the Hub and its CDN), as on a slow network: the
    // download (a listing, then per shard a resolve and three ranged reads, the shards in
    // parallel) lasts about 5 s, and its progress message about 1 s, long enough to be seen.
    const hub = await startFakeHub({ root: repoDir, faults: { latencyMs: 1000 } });
    t.after(() => hub.close());
    const folder = path.join(scratch, 'arc-workspace');
    mkdirSync(folder);
    const eeg = writeWorkspace(scratch);

    // hubEndpoint is machine-scoped: VS Code ignores it in workspace settings and, in a remote
    // window such as code-server's, in the user settings too. It goes where a person sets it
    // there, in the Remote settings (Preferences: Open Remote Settings).
    const server = await startCodeServer({ vsix: [VSIX], machineSettings: { 'neurocache.hubEndpoint': hub.hubUrl } });
    t.after(() => server.stop());
    const browser = await launchBrowser();
    t.after(() => browser.close());
    const { page } = browser;
    const { step } = steps(t, page);
    const out = path.join(folder, 'data', 'arc');
    const quickInput = page.locator('.quick-input-widget');

    await step('the workbench opens an empty folder', '07-arc-empty-folder', async () => {
      await openWorkbench(page, folderUrl(server.url, folder), 60_000, { empty: true });
      assert.equal(await page.locator('.explorer-folders-view .monaco-list-row').count(), 0, 'the folder is empty');
    });

    await step(
      'F1 → "NeuroCache: Download ARC dataset" asks where to put it, data/arc first',
      '08-arc-download-folder-pick',
      async () => {
        // In a folder with nothing for NeuroCache, the extension is not active yet: the command
        // activates it (see runCommand for why the palette may need reopening).
        await runCommand(page, 'NeuroCache: Download ARC dataset');
        // The command activates the extension (which starts the language server), then asks.
        await quickInput
          .locator('.quick-input-title', { hasText: 'Download ARC dataset into' })
          .waitFor({ timeout: 60_000 });
        const rows = quickInput.locator('.monaco-list-row');
        await rows.filter({ hasText: 'Choose another folder' }).waitFor();
        assert.match(await rows.first().innerText(), /data\/arc/);
      },
    );

    await step(
      'picking data/arc starts the download with a progress notification',
      '09-arc-download-progress',
      async () => {
        await quickInput.locator('.monaco-list-row', { hasText: 'data/arc' }).first().click();
        const toast = page
          .locator('.notifications-toasts .notification-toast', { hasText: 'Downloading ARC dataset' })
          .first();
        await toast.waitFor({ timeout: 30_000 });
        // The server's progress reaches the notification: "n/2 shards, n sessions, … MB at … MB/s".
        await toast.filter({ hasText: /\d\/2 shards, \d+ sessions/ }).waitFor({ timeout: 60_000 });
        t.diagnostic(`progress says: ${(await toast.innerText()).replace(/\s+/g, ' ')}`);
      },
    );

    await step(
      'dataset_info.json opens when the download is done, with the expected samples',
      '10-arc-dataset-info-open',
      async () => {
        await page
          .locator('.editor-group-container.active .tab.active', { hasText: 'dataset_info.json' })
          .waitFor({ timeout: 120_000 });
        await editorLine(page, '"image_paths"').waitFor();
        await page
          .locator('.notifications-toasts .notification-toast', {
            hasText: `Downloaded ${keep.length} samples from 2 shards`,
          })
          .first()
          .waitFor({ timeout: 30_000 });
        const infoPath = path.join(out, 'dataset_info.json');
        assert.ok(existsSync(infoPath), `${infoPath} was written`);
        const info = JSON.parse(readFileSync(infoPath, 'utf8'));
        assert.equal(info.num_samples, keep.length);
        assert.deepEqual(
          info.subject_ids,
          keep.map((s) => s.subjectId),
        );
        assert.deepEqual(
          info.image_paths,
          keep.map((s) => `cache/nifti_cache/${s.subjectId}_${s.sessionId}_t2w.nii.gz`),
        );
        assert.deepEqual(
          info.lesion_volumes,
          keep.map((s) => s.lesionVolume),
        );
        for (const p of [...info.image_paths, ...info.mask_paths])
          assert.ok(existsSync(path.join(out, p)), `${p} exists`);
        assert.equal(readdirSync(path.join(out, 'cache', 'nifti_cache')).length, 2 * keep.length);
        t.diagnostic(
          `dataset_info.json: ${info.num_samples} samples; the fake CDN served ${hub.bytesServed('cdn')} of ${shards.files.reduce((n, f) => n + f.size, 0)} shard bytes`,
        );
      },
    );

    await step('hovering "image_paths" shows the dataset statistics', '11-arc-dataset-info-hover', async () => {
      // The editor may still be covered by the notifications; they do not cover the first lines.
      const key = editorLine(page, '"image_paths"').locator('span', { hasText: 'image_paths' }).last();
      const hover = await hoverUntil(page, key, 'Samples:');
      const text = await hover.innerText();
      const samples = /Samples:\s*(\d+)/.exec(text);
      assert.ok(samples, `no sample count in the hover: ${text}`);
      assert.equal(Number(samples[1]), keep.length, text);
      t.diagnostic(
        `hover says: ${text
          .split('\n')
          .find((l) => l.includes('Samples:'))
          ?.trim()}`,
      );
    });

    await step(
      'hovering a mask path shows the counted lesion volume and the largest-lesion slice',
      '12-arc-lesion-picture',
      async () => {
        await page.keyboard.press('Escape');
        const session = keep[0];
        const mask = `${session.subjectId}_${session.sessionId}_lesion.nii.gz`;
        const value = editorLine(page, mask).locator('span', { hasText: mask }).last();
        const hover = await hoverUntil(page, value, 'counted', { has: page.locator('img') });
        const text = await hover.innerText();
        assert.match(text, /lesion mask/, text);
        const counted = /counted\s+([\d,]+)\s+voxels > 0\s*(✓|✗)/.exec(text);
        assert.ok(counted, `no counted volume in the hover: ${text}`);
        assert.equal(Number(counted[1].replace(/,/g, '')), session.lesionVolume, text);
        assert.equal(counted[2], '✓', 'the recorded volume is the counted one');
        const picture = await loadedImage(hover.locator('img').first());
        assert.match(picture.src, /^data:image\/png;base64,/);
        t.diagnostic(`lesion picture: ${picture.width} × ${picture.height} PNG; hover says "${counted[0]}"`);
      },
    );

    await step(
      'in the EEG workspace, hovering a manifest entry shows its label trace',
      '13-eeg-trace-picture',
      async () => {
        await page.keyboard.press('Escape');
        await openWorkbench(page, folderUrl(server.url, eeg.root));
        await page.keyboard.press('Control+P');
        const input = quickInput.locator('input');
        await input.waitFor();
        await input.fill('eeg_cache/manifest.json');
        await quickInput.locator('.monaco-list-row', { hasText: 'eeg_cache' }).first().waitFor();
        await page.keyboard.press('Enter');
        // The first entry: window 1 of sub-001 (half of its labels are seizure), listed as partial.
        const name = 'sub-001_s001_t000_windows.npz';
        const value = editorLine(page, name).locator('span', { hasText: name }).last();
        const hover = await hoverUntil(page, value, 'Seizure fraction', { has: page.locator('img') });
        const text = await hover.innerText();
        assert.match(text, new RegExp(`Window 1 of ${name.replace(/\./g, '\\.')}`), text);
        assert.match(text, /Seizure fraction:\s*50(\.0+)?\s*%/, text);
        const picture = await loadedImage(hover.locator('img').first());
        assert.match(picture.src, /^data:image\/png;base64,/);
        t.diagnostic(`label trace: ${picture.width} × ${picture.height} PNG`);
      },
    );
  },
);
