/**
 * Tier 2, issue 19: *NeuroCache: Deep-check cache windows* in code-server with the .vsix. On a
 * cache numpy wrote with NaN in one window and unclipped values (37.5) in another, the command
 * from the palette ends with what it found, and Problems lists `non-finite-windows` and
 * `unclipped-windows` on exactly those manifest entries. A second run, on another cache, is
 * held after its first file by NEUROCACHE_TEST_DEEP_HOLD (so it is midway whatever the
 * machine's speed): its progress notification shows the count and a Cancel button; cancelling
 * ends it with the cancelled message, and the server goes on (the first manifest deep-checks
 * again, answered from fingerprints). Screenshots 70–75.
 */
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { DEEP_HOLD_VARIABLE } from '../../server/src/service/deepCheck';
import { pythonWith, runPython } from '../support/python';
import { folderUrl, launchBrowser, openWorkbench } from './browser';
import { ROOT, startCodeServer } from './codeServer';
import { editorLine, runCommand, steps, textUntil, toast } from './steps';

const VSIX = path.join(ROOT, 'neurocache.vsix');
const COMMAND = 'NeuroCache: Deep-check cache windows';
const numpy = pythonWith('numpy');

/**
 * Writes caches with np.savez_compressed (windows of 19 × 512 float32) and a manifest listing
 * every window of every file; `bad` plants NaN in window 1 and 37.5 in window 2 of the first.
 * Returns the manifest's path.
 */
function writeCache(dir: string, files: string[], bad: boolean): string {
  mkdirSync(dir, { recursive: true });
  runPython(
    numpy!,
    `
import json, sys, numpy as np
d, bad, names = sys.argv[1], sys.argv[2] == "1", sys.argv[3:]
rng = np.random.default_rng(19)
entries = {"partial_seizure": [], "full_seizure": [], "no_seizure": []}
for k, name in enumerate(names):
    w = np.clip(rng.standard_normal((3, 19, 512), dtype=np.float32), -10, 10)
    if bad and k == 0:
        w[1, 4, 100] = np.nan
        w[2, 0, 7:10] = 37.5
    labels = np.zeros((3, 512), np.float32)
    labels[0, :100] = 1
    np.savez_compressed(f"{d}/{name}", windows=w, labels=labels)
    for i in range(3):
        entries["partial_seizure" if i == 0 else "no_seizure"].append({"cache_file": name, "window_idx": i})
json.dump(entries, open(f"{d}/manifest.json", "w"), indent=2)
print("null")`,
    [dir, bad ? '1' : '0', ...files],
  );
  return path.join(dir, 'manifest.json');
}

/** The 1-based line of the entry `{` for `file`'s window `w` (where the server puts its diagnostics). */
function entryLine(manifest: string, file: string, w: number): number {
  const lines = readFileSync(manifest, 'utf8').split('\n');
  return lines.findIndex((l, i) => l.includes(`"${file}"`) && lines[i + 1]?.includes(`"window_idx": ${w}`));
}

test(
  'the deep check from the palette: bad windows in Problems, a cancellable progress notification',
  { timeout: 6 * 60_000, skip: !numpy && 'python3 with numpy not found' },
  async (t) => {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'neurocache-e2e-deep-'));
    t.after(() => rmSync(scratch, { recursive: true, force: true }));
    const root = path.join(scratch, 'workspace');
    const badManifest = writeCache(path.join(root, 'bad_cache'), ['a_windows.npz', 'b_windows.npz'], true);
    const heldCache = path.join(root, 'held_cache');
    writeCache(heldCache, ['c_windows.npz', 'd_windows.npz', 'e_windows.npz'], false);
    const server = await startCodeServer({
      vsix: [VSIX],
      userDataDir: path.join(scratch, 'user-data'),
      env: { [DEEP_HOLD_VARIABLE]: `1:${heldCache}` },
    });
    t.after(() => server.stop());
    const browser = await launchBrowser();
    t.after(() => browser.close());
    const { page } = browser;
    const { step, shot } = steps(t, page);
    const openManifest = async (folder: string) => {
      await page.keyboard.press('Control+P');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor();
      await input.fill(`${folder}/manifest.json`);
      // Clicked, not Enter: the recently opened manifest of the other folder may be listed first.
      await page.locator('.quick-input-widget .monaco-list-row', { hasText: folder }).first().click();
      await page.locator('.breadcrumbs-control', { hasText: folder }).first().waitFor();
      await editorLine(page, 'partial_seizure').waitFor();
    };
    const resultToast = toast(
      page,
      /Deep-checked 2 cache files: 1 listed window with NaN\/Inf, 1 listed window beyond ±10: see the problems/,
    );

    await step('the workbench opens the manifest of the damaged cache', '70-deep-manifest', async () => {
      await openWorkbench(page, folderUrl(server.url, root));
      await openManifest('bad_cache');
    });

    await step('"Deep-check cache windows" from the palette says what it found', '71-deep-result', async () => {
      await runCommand(page, COMMAND);
      const progress = toast(page, 'Deep-checking cache windows');
      // Two small files: the notification may come and go before a screenshot; when seen, keep it.
      if (await progress.isVisible().catch(() => false)) await shot('71a-deep-progress');
      await resultToast.waitFor({ timeout: 120_000 });
      await progress.waitFor({ state: 'detached', timeout: 30_000 });
    });

    await step('Problems lists the NaN window and the unclipped one on their entries', '72-deep-problems', async () => {
      await runCommand(page, 'View: Focus Problems');
      const problems = page.locator('.part.panel .markers-panel');
      await textUntil(
        problems,
        /non-finite-windows[\s\S]*unclipped-windows|unclipped-windows[\s\S]*non-finite-windows/,
      );
      const rowOf = async (code: string) => {
        const row = problems.locator('.monaco-list-row', { hasText: code });
        assert.equal(await row.count(), 1, `one ${code} row`);
        return (await row.first().innerText()).replace(/\s+/g, ' ');
      };
      const nonFinite = await rowOf('non-finite-windows');
      assert.match(nonFinite, /a_windows\.npz window 1 holds 1 non-finite value \(1 NaN\)/, nonFinite);
      assert.match(
        nonFinite,
        new RegExp(`\\[Ln ${entryLine(badManifest, 'a_windows.npz', 1)}, Col \\d+\\]`),
        nonFinite,
      );
      const unclipped = await rowOf('unclipped-windows');
      assert.match(unclipped, /a_windows\.npz window 2 holds 3 values beyond ±10 \(largest \|x\| 37\.5\)/, unclipped);
      assert.match(
        unclipped,
        new RegExp(`\\[Ln ${entryLine(badManifest, 'a_windows.npz', 2)}, Col \\d+\\]`),
        unclipped,
      );
      assert.doesNotMatch(await problems.innerText(), /b_windows\.npz window/, 'nothing on the clean file');
    });

    await step('a second deep check shows its progress and a Cancel button', '73-deep-held', async () => {
      await runCommand(page, 'Notifications: Clear All Notifications');
      await openManifest('held_cache');
      await runCommand(page, COMMAND);
      // Held after its first file: the count stays at 1 of 3 until cancelled.
      const progress = toast(page, 'Deep-checking cache windows');
      await textUntil(progress, /1\/3 cache files/, 120_000);
      await progress.locator('.monaco-button', { hasText: 'Cancel' }).waitFor();
    });

    await step('Cancel stops it with the cancelled message', '74-deep-cancelled', async () => {
      const progress = toast(page, 'Deep-checking cache windows');
      await progress.locator('.monaco-button', { hasText: 'Cancel' }).click();
      await toast(page, 'deep check cancelled; files already checked are remembered').waitFor({ timeout: 30_000 });
      await progress.waitFor({ state: 'detached', timeout: 30_000 });
      assert.doesNotMatch(
        await page.locator('.part.panel .markers-panel').innerText(),
        /[cde]_windows\.npz window/,
        'no deep findings from the stopped check',
      );
    });

    await step('the server goes on: the first manifest deep-checks again', '75-deep-again', async () => {
      await runCommand(page, 'Notifications: Clear All Notifications');
      await openManifest('bad_cache');
      await runCommand(page, COMMAND);
      await resultToast.waitFor({ timeout: 120_000 });
      const problems = page.locator('.part.panel .markers-panel');
      await textUntil(problems, /non-finite-windows/);
    });
  },
);
