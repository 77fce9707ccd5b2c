/** What both webview pages share: the host's messaging API, element building and number words. */

import { CATEGORY_RGB } from '../../server/src/protocol';

interface VsCodeApi<T> {
  postMessage(message: T): void;
}
declare function acquireVsCodeApi<T>(): VsCodeApi<T>;

export function vscodeApi<T>(): VsCodeApi<T> {
  return acquireVsCodeApi<T>();
}

/**
 * An element with attributes and children (text or elements); never HTML from data. No `style`
 * attributes: the content security policy refuses them (set `element.style` instead).
 */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string>,
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) e.setAttribute(name, value);
  e.append(...children);
  return e;
}

export function clear(e: HTMLElement): void {
  while (e.firstChild) e.firstChild.remove();
}

const css = (rgb: readonly number[]) => `rgb(${rgb.join(',')})`;

/** The hover pictures' category colours (one home: protocol.ts), by the view's letters. */
export const CATEGORY_COLOURS = {
  p: css(CATEGORY_RGB.partial),
  f: css(CATEGORY_RGB.full),
  n: css(CATEGORY_RGB.none),
} as const;

export function numberInWords(n: number): string {
  return n.toLocaleString('en-US');
}

export function bytesInWords(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function percent(part: number, total: number): string {
  return total ? `${((part / total) * 100).toFixed(1)}%` : '0%';
}

export function pythonShape(shape: number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}
