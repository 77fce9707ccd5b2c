/**
 * Debian's Chromium driven by playwright-core (no Playwright browser download: there is no
 * network for it), with a fresh profile per run so no state leaks between runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { tools } from './codeServer';

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * WebGL in headless Chromium without a GPU: SwiftShader through ANGLE (the NIfTI viewer needs
 * WebGL2). `none` turns WebGL off, as in a remote browser without it (the viewer's fallback).
 */
export type WebGl = 'default' | 'swiftshader' | 'none';
const WEBGL_ARGS: Record<WebGl, string[]> = {
  default: [],
  swiftshader: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  none: ['--disable-webgl', '--disable-webgl2'],
};

export async function launchBrowser({ webgl = 'default' }: { webgl?: WebGl } = {}): Promise<Browser> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'neurocache-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: tools().chromium,
    headless: true,
    viewport: { width: 1400, height: 900 },
    // No sandbox (we run as root); nothing that phones home (there is no network anyway and
    // each attempt would only add noise and delay).
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...WEBGL_ARGS[webgl],
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Loads the workbench and waits until it is usable: the explorer lists the folder's files, or
 * for an empty folder (`empty`), the explorer shows the folder and the status bar its items.
 */
export async function openWorkbench(
  page: Page,
  url: string,
  timeoutMs = 60_000,
  { empty = false } = {},
): Promise<void> {
  await page.goto(url);
  await page.locator('.monaco-workbench').waitFor({ timeout: timeoutMs });
  if (!empty) {
    await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: timeoutMs });
    return;
  }
  await page.locator('.explorer-folders-view').waitFor({ timeout: timeoutMs });
  await page.locator('.part.statusbar .statusbar-item').first().waitFor({ timeout: timeoutMs });
}

/** The workbench URL that opens `folder` (a path on the code-server machine). */
export function folderUrl(base: string, folder: string): string {
  return `${base}/?folder=${encodeURIComponent(folder)}`;
}
