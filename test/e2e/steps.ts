/**
 * What the Playwright scenarios share: steps that each end with a screenshot in
 * .test-output/e2e/ (NAME-failed.png when one fails, after which the rest are skipped, since
 * they would only time out one after another on a workbench in the wrong state), and the
 * editor and hover lookups a person would do by eye.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import { inflateSync } from 'node:zlib';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { ROOT } from './codeServer';

/** Where the screenshots go; run.mjs empties it of *.png before the workbench tier. */
export const SHOTS = path.join(ROOT, '.test-output', 'e2e');

export interface Steps {
  /** Runs `body` as a subtest, then saves `screenshot`.png. */
  step(name: string, screenshot: string, body: () => Promise<void>): Promise<void>;
  /** Saves the page as NAME.png now (for a state that does not last until the step ends). */
  shot(name: string): Promise<void>;
}

export function steps(t: TestContext, page: Page): Steps {
  mkdirSync(SHOTS, { recursive: true });
  const shot = async (name: string) => void (await page.screenshot({ path: path.join(SHOTS, `${name}.png`) }));
  let broken = false;
  const step = (name: string, screenshot: string, body: () => Promise<void>) =>
    t.test(name, async (s) => {
      if (broken) return s.skip('an earlier step failed');
      try {
        await body();
        await shot(screenshot);
      } catch (error) {
        broken = true;
        await shot(`${screenshot}-failed`).catch(() => undefined);
        throw error;
      }
    });
  return { step, shot };
}

/** A rendered line of the active editor containing `text`. */
export function editorLine(page: Page, text: string): Locator {
  return page.locator('.editor-group-container.active .monaco-editor .view-line', { hasText: text }).first();
}

/**
 * Hovers `target` until a hover containing `hasText` (and `has`, when given) shows, and
 * returns it. The language server answers "nothing here" until it has checked the file, and
 * VS Code does not ask again while the mouse stays put: so a hover that has not appeared
 * after a few seconds is retried by moving away and back, as a person would, until
 * `timeoutMs`.
 */
export async function hoverUntil(
  page: Page,
  target: Locator,
  hasText: string | RegExp,
  { has, timeoutMs = 60_000 }: { has?: Locator; timeoutMs?: number } = {},
): Promise<Locator> {
  const hover = page.locator('.monaco-hover', { hasText, has }).first();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await target.hover();
    try {
      await hover.waitFor({ timeout: Math.max(1000, Math.min(4000, deadline - Date.now())) });
      return hover;
    } catch (error) {
      if (Date.now() >= deadline) {
        const shown = await page
          .locator('.monaco-hover')
          .allInnerTexts()
          .catch(() => []);
        throw new Error(
          `no hover with ${String(hasText)} within ${timeoutMs} ms; hovers shown: ${JSON.stringify(shown)}`,
          { cause: error },
        );
      }
    }
    await page.keyboard.press('Escape');
    // Off the text, onto the status bar, so that the next hover is a new one.
    await page.locator('.part.statusbar').hover();
  }
}

/** Resolves once `img` has loaded and decoded to a picture; returns its natural size. */
export async function loadedImage(
  img: Locator,
  timeoutMs = 10_000,
): Promise<{ width: number; height: number; src: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await img.evaluate((el) => {
      const i = el as unknown as { complete: boolean; naturalWidth: number; naturalHeight: number; src: string };
      return { complete: i.complete, width: i.naturalWidth, height: i.naturalHeight, src: i.src };
    });
    if (state.complete && state.width > 0) return state;
    if (Date.now() >= deadline)
      throw new Error(`the picture did not load: ${JSON.stringify({ ...state, src: state.src.slice(0, 80) })}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Bounded poll for something that only shows when VS Code was ready for it: `attempt` does
 * what a person does and returns what should then appear; when it has not appeared within
 * `everyMs`, `undo` is done and the attempt repeated, until `timeoutMs`.
 */
export async function untilShown(
  attempt: () => Promise<Locator>,
  undo: () => Promise<void>,
  { everyMs = 5000, timeoutMs = 60_000 } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const target = await attempt();
    try {
      await target.waitFor({ timeout: everyMs });
      return;
    } catch (error) {
      if (Date.now() + everyMs > deadline) throw error;
    }
    await undo();
  }
}

/**
 * F1, then the command titled `title` ("NeuroCache: Show Output"), then Enter. The palette lists
 * what was registered when it opened, and VS Code may still be registering the installed
 * extensions' commands when the window shows: so it is reopened until the command is there.
 */
export async function runCommand(page: Page, title: string): Promise<void> {
  const quickInput = page.locator('.quick-input-widget');
  await untilShown(
    async () => {
      await page.keyboard.press('F1');
      const input = quickInput.locator('input');
      await input.waitFor();
      await input.fill(`>${title}`);
      return quickInput.locator('.monaco-list-row', { hasText: title }).first();
    },
    () => page.keyboard.press('Escape'),
  );
  await page.keyboard.press('Enter');
}

/** The notification toast whose text matches `hasText`. */
export function toast(page: Page, hasText: string | RegExp): Locator {
  return page.locator('.notifications-toasts .notification-toast', { hasText }).first();
}

/** Every file named `name` under `dir` (e.g. the NeuroCache.log files of a code-server's user data). */
export function findFiles(dir: string, name: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const full = path.join(dir, d.name);
    return d.isDirectory() ? findFiles(full, name) : d.name === name ? [full] : [];
  });
}

/**
 * The text of `target` with its lines joined and white space (Monaco's non-breaking spaces
 * included) as single spaces, once it matches `pattern`: a wrapped editor line is several
 * rendered lines.
 */
export async function textUntil(target: Locator, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = (await target.innerText().catch(() => '')).replace(/\s+/g, ' ');
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms in: ${text.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** RGBA pixels of a PNG (8-bit RGB or RGBA, as Chromium's screenshots are), for checking what a canvas shows. */
export function decodePng(png: Buffer): { width: number; height: number; rgba: Uint8Array } {
  let at = 8;
  let width = 0;
  let height = 0;
  let colourType = 0;
  const idat: Buffer[] = [];
  while (at < png.length) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || (data[9] !== 2 && data[9] !== 6) || data[12] !== 0)
        throw new Error('only 8-bit RGB/RGBA non-interlaced PNGs');
      colourType = data[9];
    } else if (type === 'IDAT') idat.push(data);
    at += 12 + length;
  }
  const channels = colourType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[y * stride + x - channels] : 0;
      const b = y > 0 ? out[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? out[(y - 1) * stride + x - channels] : 0;
      const p = a + b - c;
      const paeth =
        Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
          ? a
          : Math.abs(p - b) <= Math.abs(p - c)
            ? b
            : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][filter];
      out[y * stride + x] = (line[x] + predictor) & 0xff;
    }
  }
  if (channels === 4) return { width, height, rgba: out };
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) rgba.set([out[i * 3], out[i * 3 + 1], out[i * 3 + 2], 255], i * 4);
  return { width, height, rgba };
}

/** Pixels of a screenshot that are clearly red (the lesion overlay's colour): red well above green and blue. */
export function redPixels(png: Buffer): number {
  const { rgba } = decodePng(png);
  let n = 0;
  for (let i = 0; i < rgba.length; i += 4) if (rgba[i] > 120 && rgba[i] - Math.max(rgba[i + 1], rgba[i + 2]) > 60) n++;
  return n;
}

/**
 * The page inside the visible webview editor: VS Code draws webviews in an overlay above the
 * editor (not inside it) and nests the extension's page in a second iframe.
 */
export function webviewFrame(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready >> visible=true').frameLocator('#active-frame');
}
