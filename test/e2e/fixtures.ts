/**
 * The workspace both e2e tiers open, generated with the project's own fixture writers:
 *   eeg_cache/   three real *_windows.npz caches and a manifest.json whose last entry names a
 *                cache file that does not exist (a stale manifest);
 *   webext/      a browser-extension manifest.json, which NeuroCache must leave alone.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { eegMembers, writeNpzFile } from '../writers/npz';

export const MISSING_CACHE_FILE = 'sub-009_s001_t000_windows.npz';

export interface Workspace {
  root: string;
  manifest: string;
  webextManifest: string;
}

const SAMPLES = 15360; // 60 s at 256 Hz, as brain-go-brr-v2 caches it

/** Writes the workspace into a new folder under `parent` (default: the OS temp folder). */
export function writeWorkspace(parent = os.tmpdir()): Workspace {
  const root = mkdtempSync(path.join(parent, 'neurocache-e2e-ws-'));
  const cache = path.join(root, 'eeg_cache');
  mkdirSync(cache);
  // Per file, the fraction of seizure samples in each of its two windows; these give one
  // partial, one full and one no-seizure window at least, so every root key has entries.
  const fractions = [
    [0, 0.5],
    [1, 0],
    [0.25, 0],
  ];
  const manifest: Record<string, { cache_file: string; window_idx: number }[]> = {
    partial_seizure: [],
    full_seizure: [],
    no_seizure: [],
  };
  fractions.forEach((perWindow, file) => {
    const name = `sub-00${file + 1}_s001_t000_windows.npz`;
    const labels = new Float32Array(perWindow.length * SAMPLES);
    perWindow.forEach((fraction, w) => {
      labels.fill(1, w * SAMPLES, w * SAMPLES + Math.round(fraction * SAMPLES));
      const category = fraction === 0 ? 'no_seizure' : fraction >= 0.99 ? 'full_seizure' : 'partial_seizure';
      manifest[category].push({ cache_file: name, window_idx: w });
    });
    writeNpzFile(path.join(cache, name), eegMembers({ windows: perWindow.length, labels, seed: file + 1 }), {
      compress: true,
    });
  });
  // The stale part: an entry whose cache file was deleted (or never copied to this machine).
  manifest.partial_seizure.push({ cache_file: MISSING_CACHE_FILE, window_idx: 0 });
  const manifestPath = path.join(cache, 'manifest.json');
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');

  const webext = path.join(root, 'webext');
  mkdirSync(webext);
  const webextManifest = path.join(webext, 'manifest.json');
  writeFileSync(
    webextManifest,
    JSON.stringify({ manifest_version: 3, name: 'Tab Sorter', version: '1.2.0', permissions: ['tabs'] }, null, 2) +
      '\n',
  );
  return { root, manifest: manifestPath, webextManifest };
}
