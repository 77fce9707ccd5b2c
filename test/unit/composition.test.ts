/**
 * The balanced training composition against numpy itself: the same selection code as
 * `BalancedSeizureDataset` (default_rng(seed).choice(n, k, replace=False) for full, then for
 * no-seizure windows; entries whose files are missing are skipped) run in Python, compared
 * with `neurocache stats --json --selected` for several manifests with missing files and seeds.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { cliPath, pythonWith, runPython, tempDir } from '../support/python';

const numpy = pythonWith('numpy');

const TRAINING = `
import json, sys
from pathlib import Path
import numpy as np
manifest_path, seed = Path(sys.argv[1]), int(sys.argv[2])
cache_dir = manifest_path.parent
manifest = json.load(open(manifest_path))
partial, full, no_seizure = manifest.get("partial_seizure", []), manifest.get("full_seizure", []), manifest.get("no_seizure", [])
rng = np.random.default_rng(seed)
kept = {"partial": 0, "full": 0, "background": 0}
selected = {"full": [], "background": []}
kept["partial"] = sum(1 for item in partial if (cache_dir / item["cache_file"]).exists())
n_full = int(0.3 * len(partial))
if full and n_full > 0:
    for i in rng.choice(len(full), size=min(n_full, len(full)), replace=False):
        selected["full"].append([full[i]["cache_file"], full[i]["window_idx"]])
        if (cache_dir / full[i]["cache_file"]).exists(): kept["full"] += 1
n_bg = int(2.5 * len(partial))
if no_seizure and n_bg > 0:
    for i in rng.choice(len(no_seizure), size=min(n_bg, len(no_seizure)), replace=False):
        selected["background"].append([no_seizure[i]["cache_file"], no_seizure[i]["window_idx"]])
        if (cache_dir / no_seizure[i]["cache_file"]).exists(): kept["background"] += 1
total = sum(kept.values())
print(json.dumps({"kept": kept, "ratio": (kept["partial"] + kept["full"]) / total if total else 0.0, "selected": selected}))
`;

test(
  'stats reproduce the training composition exactly, seed by seed',
  { skip: !numpy && 'python3 with numpy not found' },
  () => {
    const cases = [
      { files: 40, partial: 120, full: 300, none: 20000, seeds: [42, 0, 7] },
      { files: 7, partial: 9, full: 2, none: 15, seeds: [42, 123456789] },
      { files: 200, partial: 500, full: 40, none: 120000, seeds: [42] },
    ];
    for (const c of cases) {
      const dir = tempDir();
      const entry = (i: number) => ({
        cache_file: `f${String(i % c.files).padStart(4, '0')}_windows.npz`,
        window_idx: Math.floor(i / c.files),
      });
      const manifest = {
        partial_seizure: Array.from({ length: c.partial }, (_, i) => entry(i * 3)),
        full_seizure: Array.from({ length: c.full }, (_, i) => entry(i * 5 + 1)),
        no_seizure: Array.from({ length: c.none }, (_, i) => entry(i * 7 + 2)),
      };
      const file = path.join(dir, 'manifest.json');
      writeFileSync(file, JSON.stringify(manifest, null, 2));
      // About a third of the cache files exist: picks that hit missing ones are skipped.
      for (let f = 0; f < c.files; f += 3)
        writeFileSync(path.join(dir, `f${String(f).padStart(4, '0')}_windows.npz`), '');
      for (const seed of c.seeds) {
        const reference = runPython<{
          kept: Record<string, number>;
          ratio: number;
          selected: Record<string, [string, number][]>;
        }>(numpy!, TRAINING, [file, String(seed)]);
        const run = spawnSync(
          process.execPath,
          [cliPath(), 'stats', file, '--json', '--selected', '--seed', String(seed), '--cache-dir', tempDir()],
          { encoding: 'utf8', maxBuffer: 1 << 28 },
        );
        assert.equal(run.status, 0, run.stderr);
        const ours = JSON.parse(run.stdout);
        const label = `${c.files} files, seed ${seed}`;
        assert.deepEqual(
          [ours.balanced.partial, ours.balanced.full, ours.balanced.background],
          [reference.kept.partial, reference.kept.full, reference.kept.background],
          label,
        );
        assert.equal(ours.balanced.seizureRatio, reference.ratio, label);
        assert.deepEqual(
          ours.selected.full_seizure.map((e: { cache_file: string; window_idx: number }) => [
            e.cache_file,
            e.window_idx,
          ]),
          reference.selected.full,
          label,
        );
        assert.deepEqual(
          ours.selected.no_seizure.map((e: { cache_file: string; window_idx: number }) => [e.cache_file, e.window_idx]),
          reference.selected.background,
          label,
        );
      }
    }
  },
);
