/**
 * The NPZ view's page: members, windows per category, a strip of every window's seizure
 * fraction (click one: its label trace and its channels, asked for on demand), the manifest
 * entries pointing here with their findings, and what a training read costs. It only draws
 * what the extension host sends; it names no file.
 */
import type { NpzViewAsk, NpzViewTell } from '../src/views/messages';
import type { NpzViewRequest, NpzWindowRequest } from '../../server/src/protocol';
import { bytesInWords, CATEGORY_COLOURS, clear, element, numberInWords, percent, pythonShape, vscodeApi } from './dom';

const vscode = vscodeApi<NpzViewAsk>();
const app = document.getElementById('app')!;
let view: NpzViewRequest.Result | undefined;

window.addEventListener('message', (event: MessageEvent<NpzViewTell>) => {
  const message = event.data;
  if (message.type === 'view') {
    view = message.view;
    render(message.name, message.view);
  } else if (message.type === 'window') showWindow(message.window, message.trace);
  else if (message.type === 'failed') {
    app.dataset.state = 'failed';
    app.append(element('p', { class: 'error', id: 'failed' }, message.message));
  }
});
vscode.postMessage({ type: 'ready' });

function render(name: string, v: NpzViewRequest.Result): void {
  clear(app);
  app.dataset.state = 'ready';
  app.append(
    element('h1', {}, name),
    element(
      'p',
      { class: 'muted' },
      `${bytesInWords(v.size)} on disk · read by the NeuroCache language server, nothing written`,
    ),
  );
  if (v.error) {
    app.append(element('p', { class: 'error', id: 'failure' }, `Cannot be read: ${v.error}`));
    return;
  }
  if (v.failure) {
    const exception = v.failure.exception ? `np.load raises ${v.failure.exception}: ` : '';
    app.append(
      element('p', { class: 'error', id: 'failure' }, `${exception}${v.failure.message}. ${v.failure.outcome}`),
    );
  }
  renderMembers(v);
  if (v.windows) renderWindows(v.windows);
  for (const note of v.notes) app.append(element('p', { class: 'warning' }, note));
  renderCost(v);
  renderReferences(v);
}

function renderMembers(v: NpzViewRequest.Result): void {
  app.append(element('h2', {}, 'Arrays'));
  const table = element('table', { id: 'members' });
  table.append(element('tr', {}, ...['name', 'shape', 'element type', 'size'].map((h) => element('th', {}, h))));
  for (const m of v.members) {
    const elements = m.shape ? m.shape.reduce((a, b) => a * b, 1) : undefined;
    const size = `${bytesInWords(m.uncompressedBytes)}${m.method === 8 ? `, ${bytesInWords(m.compressedBytes)} compressed` : ' stored'}`;
    const words = elements === undefined ? (m.error ?? '') : `${numberInWords(elements)} values; ${size}`;
    table.append(
      element(
        'tr',
        { 'data-key': m.key },
        element('td', {}, m.key),
        element('td', { class: 'shape' }, m.shape ? pythonShape(m.shape) : '?'),
        element('td', {}, m.dtype ? `${m.dtype}${m.fortranOrder ? ' (Fortran order)' : ''}` : '?'),
        element('td', {}, words),
      ),
    );
  }
  app.append(table);
  if (v.membersTotal > v.members.length)
    app.append(
      element('p', { class: 'muted' }, `and ${numberInWords(v.membersTotal - v.members.length)} more members`),
    );
}

function renderWindows(w: NonNullable<NpzViewRequest.Result['windows']>): void {
  const { partial, full, none } = w.categories;
  app.append(element('h2', {}, 'Windows per category'));
  const counts = element(
    'p',
    {
      id: 'counts',
      'data-count': String(w.count),
      'data-partial': String(partial),
      'data-full': String(full),
      'data-none': String(none),
    },
    `${numberInWords(w.count)} windows of ${numberInWords(w.samplesPerWindow)} label samples: `,
    ...(['partial', 'full', 'none'] as const).map((k) =>
      element(
        'span',
        {},
        element('span', { class: `swatch ${k}` }),
        `${LABEL[k]} ${numberInWords(w.categories[k])} (${percent(w.categories[k], w.count)})  `,
      ),
    ),
  );
  const bar = element('div', { class: 'bar', id: 'category-bar' });
  for (const k of ['partial', 'full', 'none'] as const) {
    if (!w.categories[k]) continue;
    const part = element('div', { class: k, title: `${LABEL[k]}: ${numberInWords(w.categories[k])}` });
    part.style.flex = String(w.categories[k]); // CSSOM: the CSP refuses style attributes
    bar.append(part);
  }
  app.append(counts, bar);
  app.append(
    element('h2', {}, 'Seizure fraction of every window'),
    element('p', { class: 'muted' }, 'Click a window for its label trace and channels.'),
  );
  app.append(strip(w), element('section', { id: 'window' }));
}

const LABEL = { partial: 'partial', full: 'full', none: 'no seizure' } as const;

/** One column per window (several windows per pixel when there are many), as tall as its seizure fraction. */
function strip(w: NonNullable<NpzViewRequest.Result['windows']>): HTMLCanvasElement {
  const height = 48;
  const width = Math.max(120, Math.min(1200, w.count * 8));
  const canvas = element('canvas', {
    id: 'strip',
    width: String(width),
    height: String(height),
    'data-windows': String(w.count),
  });
  const g = canvas.getContext('2d')!;
  g.fillStyle = 'rgba(128,128,128,0.12)';
  g.fillRect(0, 0, width, height);
  const perWindow = width / Math.max(1, w.count);
  for (let i = 0; i < w.count; i++) {
    const x0 = Math.floor(i * perWindow);
    const x1 = Math.max(x0 + 1, Math.floor((i + 1) * perWindow) - (perWindow >= 4 ? 1 : 0));
    const letter = w.categoryLetters[i] as 'p' | 'f' | 'n';
    g.fillStyle = CATEGORY_COLOURS[letter];
    const h = letter === 'n' ? 3 : Math.max(3, Math.round(w.fractions[i] * height));
    g.fillRect(x0, height - h, x1 - x0, h);
  }
  canvas.addEventListener('click', (event) => {
    const x = event.offsetX * (canvas.width / canvas.clientWidth);
    const index = Math.min(w.count - 1, Math.max(0, Math.floor(x / perWindow)));
    const section = document.getElementById('window')!;
    clear(section);
    section.dataset.window = String(index);
    section.dataset.state = 'loading';
    section.append(element('p', { class: 'muted' }, `Reading window ${index}…`));
    vscode.postMessage({ type: 'window', window: index });
  });
  return canvas;
}

function showWindow(index: number, trace: NpzWindowRequest.Result): void {
  const section = document.getElementById('window');
  if (!section || section.dataset.window !== String(index) || !view?.windows) return;
  clear(section);
  const w = view.windows;
  const letter = w.categoryLetters[index] as 'p' | 'f' | 'n';
  section.append(
    element(
      'h2',
      {},
      `Window ${index}: ${LABEL[({ p: 'partial', f: 'full', n: 'none' } as const)[letter]]}, seizure fraction ${(w.fractions[index] * 100).toFixed(1)}%`,
    ),
  );
  if (!trace.ok) {
    section.dataset.state = 'failed';
    section.append(element('p', { class: 'error' }, `Cannot read this window: ${trace.error}`));
    return;
  }
  section.dataset.state = 'ready';
  if (trace.labels) {
    section.append(
      element(
        'p',
        { class: 'muted' },
        `Seizure labels through the window, start to end (red: share of label samples > 0 per column of ${numberInWords(Math.ceil(w.samplesPerWindow / trace.labels.length))})`,
      ),
    );
    section.append(labelTrace(trace.labels));
  }
  const channels = trace.shape.length >= 2 ? trace.shape[0] : 1;
  section.append(
    element(
      'p',
      { class: 'muted' },
      `${numberInWords(channels)} channels × ${numberInWords(trace.samples)} samples (${pythonShape(trace.shape)}), each column the range of ${numberInWords(trace.samplesPerColumn)} samples; ` +
        `${bytesInWords(trace.inflatedBytes)} inflated to reach this window and no further`,
    ),
  );
  section.append(eegTrace(trace));
}

function labelTrace(labels: number[]): HTMLCanvasElement {
  const height = 28;
  const canvas = element('canvas', { id: 'label-trace', width: String(labels.length), height: String(height) });
  canvas.style.width = `${Math.max(480, labels.length)}px`;
  canvas.style.height = `${height}px`;
  const g = canvas.getContext('2d')!;
  g.fillStyle = 'rgb(245,245,245)';
  g.fillRect(0, 0, labels.length, height);
  g.fillStyle = CATEGORY_COLOURS.f;
  labels.forEach((f, x) => f > 0 && g.fillRect(x, height - Math.max(1, Math.round(f * height)), 1, height));
  return canvas;
}

/** One row per channel: each column a vertical line from the smallest to the largest sample, scaled per channel. */
function eegTrace(trace: Extract<NpzWindowRequest.Result, { ok: true }>): HTMLCanvasElement {
  const row = 22;
  const columns = trace.channels[0]?.min.length ?? 0;
  const width = Math.max(1, columns);
  const canvas = element('canvas', {
    id: 'eeg',
    width: String(width),
    height: String(row * trace.channels.length),
    'data-channels': String(trace.channels.length),
  });
  canvas.style.width = `${Math.max(480, width)}px`;
  canvas.style.height = `${row * trace.channels.length}px`;
  const g = canvas.getContext('2d')!;
  // The theme's text colour on the page's own background (VS Code sets its colours on <html>).
  g.fillStyle = getComputedStyle(document.documentElement).getPropertyValue('--vscode-foreground').trim() || '#333';
  trace.channels.forEach((channel, c) => {
    const finite = [...channel.min, ...channel.max].filter((v): v is number => v !== null);
    const low = Math.min(...finite);
    const high = Math.max(...finite);
    const scale = high > low ? (row - 2) / (high - low) : 0;
    for (let x = 0; x < columns; x++) {
      const min = channel.min[x];
      const max = channel.max[x];
      if (min === null || max === null) continue;
      const top = c * row + 1 + (high - max) * scale;
      g.fillRect(x, top, 1, Math.max(1, (max - min) * scale));
    }
  });
  return canvas;
}

function renderCost(v: NpzViewRequest.Result): void {
  if (!v.readCost) return;
  const { inflatedBytes, readBytes, windowBytes } = v.readCost;
  const times = windowBytes
    ? ` — ${numberInWords(Math.round(inflatedBytes / windowBytes))} times the ${bytesInWords(windowBytes)} of the window it uses`
    : '';
  app.append(
    element('h2', {}, 'What training reads per window'),
    element(
      'p',
      { id: 'cost' },
      `EEGWindowDataset.__getitem__ opens this file and takes cached["windows"][window_idx] and cached["labels"][window_idx]: numpy inflates both whole members each time, ` +
        `${bytesInWords(inflatedBytes)} from ${bytesInWords(readBytes)} read${times}.`,
    ),
  );
}

function renderReferences(v: NpzViewRequest.Result): void {
  app.append(element('h2', {}, 'Entries that point here'));
  if (v.references.length === 0) {
    app.append(
      element(
        'p',
        { class: 'muted', id: 'references' },
        'No checked manifest.json or _dataset_index.json in the workspace names this file.',
      ),
    );
    return;
  }
  const list = element('ul', { id: 'references', 'data-total': String(v.referencesTotal) });
  v.references.forEach((r, index) => {
    const link = element('a', { 'data-index': String(index) }, r.label);
    link.addEventListener('click', () => vscode.postMessage({ type: 'openReference', index }));
    const item = element('li', {}, link);
    for (const f of r.findings)
      item.append(element('div', { class: f.severity === 'error' ? 'error' : 'warning' }, `${f.code}: ${f.message}`));
    list.append(item);
  });
  app.append(list);
  if (v.referencesTotal > v.references.length)
    app.append(element('p', { class: 'muted' }, `and ${numberInWords(v.referencesTotal - v.references.length)} more`));
}
