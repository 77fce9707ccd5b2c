/**
 * The per-entry content checks (manifestCheck.ts, whose entries of plain labelled files are read
 * from typed arrays: fileCategories.ts) against a model written as the rules say them, one entry
 * at a time: random manifests over files that are labelled, missing, without labels, unread, with
 * empty windows, with negative and out-of-range indexes and repeated windows.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CATEGORIES, windowCategory } from '../../server/src/engine/eeg/category';
import { CacheFileFacts, checkManifest } from '../../server/src/engine/eeg/manifestCheck';
import { parseManifest } from '../../server/src/engine/eeg/manifestParse';
import { mulberry32 } from '../support/arcSamples';

const ENTRY_CODES = ['missing-cache-file', 'duplicate-entry', 'no-labels', 'window-out-of-range', 'category-mismatch'];

function randomFacts(random: () => number): CacheFileFacts {
  const kind = Math.floor(random() * 6);
  if (kind === 0) return { exists: false };
  if (kind === 1) return { exists: true }; // not read
  const windowCount = 1 + Math.floor(random() * 6);
  const samplesPerWindow = kind === 2 ? 0 : 10;
  const positives = samplesPerWindow
    ? Array.from({ length: windowCount }, () => [0, 4, 10][Math.floor(random() * 3)])
    : [];
  return {
    exists: true,
    summary: {
      windowCount,
      hasLabels: kind !== 3,
      positives,
      samplesPerWindow,
      notes: [],
      members: {},
      // Without labels, training counts the windows' rows (when their header was read).
      ...(random() < 0.5 && { windowsShape: [windowCount + Math.floor(random() * 2), 19, 10] }),
    },
  };
}

/** What each entry should get, in document order: the rules one by one. */
function model(text: string, facts: Map<string, CacheFileFacts>): string[] {
  const manifest = JSON.parse(text) as Record<string, { cache_file: string; window_idx: number }[]>;
  const seen = new Set<string>();
  const found: string[] = [];
  for (const category of CATEGORIES)
    for (const [k, { cache_file: name, window_idx: window }] of manifest[category].entries()) {
      const at = `${category}[${k}]`;
      const f = facts.get(name)!;
      if (!f.exists) {
        found.push(`${at} missing-cache-file`);
        continue;
      }
      const summary = f.summary;
      // Training's count: label rows, else the windows' rows.
      const count = summary && (summary.hasLabels ? summary.windowCount : summary.windowsShape?.[0]);
      const index = window < 0 && count !== undefined ? count + window : window;
      if (index >= 0) {
        if (seen.has(`${name}:${index}`)) found.push(`${at} duplicate-entry`);
        seen.add(`${name}:${index}`);
      }
      if (!summary) continue;
      if (!summary.hasLabels) found.push(`${at} no-labels`);
      if (count !== undefined && (index < 0 || index >= count)) {
        found.push(`${at} window-out-of-range`);
        continue;
      }
      if (!summary.hasLabels) continue;
      const positives = summary.samplesPerWindow === 0 ? 0 : summary.positives[index];
      if (windowCategory(positives, summary.samplesPerWindow) !== category) found.push(`${at} category-mismatch`);
    }
  return found;
}

test('per-entry findings follow the rules, entry by entry', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const random = mulberry32(seed);
    const names = ['a.npz', 'b.npz', 'c.npz', 'd.npz'];
    const facts = new Map(names.map((name) => [name, randomFacts(random)]));
    const entry = () => ({
      cache_file: names[Math.floor(random() * names.length)],
      window_idx: Math.floor(random() * 10) - 3,
    });
    const list = () => Array.from({ length: Math.floor(random() * 12) }, entry);
    const text = JSON.stringify({ partial_seizure: list(), full_seizure: list(), no_seizure: list() }, null, 2);
    const parsed = parseManifest(text);
    // Where each entry starts, to name the entry a finding sits on.
    const entryAt = new Map<number, string>();
    let k = 0;
    for (const category of CATEGORIES) {
      const count = Array.from(parsed.entries.category).filter((c) => CATEGORIES[c] === category).length;
      for (let j = 0; j < count; j++, k++) entryAt.set(parsed.entries.entryOffset.at(k), `${category}[${j}]`);
    }
    const entryOf = (offset: number) => {
      const starts = [...entryAt.keys()].filter((start) => start <= offset);
      return entryAt.get(Math.max(...starts));
    };
    const found = checkManifest(parsed, { files: parsed.files.map((name) => facts.get(name)!) })
      .filter((d) => ENTRY_CODES.includes(d.code))
      .map((d) => `${entryOf(d.offset)} ${d.code}`);
    assert.deepEqual(found, model(text, facts), `seed ${seed}: ${text}`);
  }
});
