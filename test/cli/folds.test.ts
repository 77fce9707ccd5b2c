/**
 * `neurocache stats --folds` as a user runs it: the JSON shape of docs/cli.md (compared with
 * scikit-learn through test/reference/arc_folds.py when python3-sklearn is present), the text
 * table, the CV options, where train stops, and `check` exiting 1 on cv-split-fails.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { cliPath, pythonWith, repoRoot, tempDir } from '../support/python';

const sklearn = pythonWith('sklearn');
const store = tempDir();

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [cliPath(), ...args, '--cache-dir', store], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A 90-sample dataset_info.json (no NIfTI files: stats reads none). */
function dataset(options: { masks?: (string | null)[]; volumes?: number[]; acquisitions?: string[] } = {}): {
  file: string;
  volumes: number[];
  acquisitions: string[];
} {
  const volumes =
    options.volumes ??
    Array.from(
      { length: 90 },
      (_, i) => [150, 20_000, 33_619, 50_000, 67_891, 100_000, 128_314, 300_000, 400_000][i % 9] + (i % 5),
    );
  const acquisitions = options.acquisitions ?? volumes.map((_, i) => (i % 7 === 3 ? 'space_no_accel' : 'space_2x'));
  const file = path.join(tempDir(), 'dataset_info.json');
  writeFileSync(
    file,
    JSON.stringify(
      {
        num_samples: volumes.length,
        image_paths: volumes.map((_, i) => `cache/nifti_cache/sub-${i}_t2w.nii.gz`),
        mask_paths: options.masks ?? volumes.map((_, i) => `cache/nifti_cache/sub-${i}_lesion.nii.gz`),
        lesion_volumes: volumes,
        acquisition_types: acquisitions,
        subject_ids: volumes.map((_, i) => `sub-${i}`),
      },
      null,
      2,
    ),
  );
  return { file, volumes, acquisitions };
}

test(
  'stats --folds --json has the documented shape and equals scikit-learn',
  { skip: !sklearn && 'python3 with scikit-learn not found' },
  () => {
    const { file, volumes, acquisitions } = dataset();
    for (const [options, settings] of [
      [[], { seed: 42, outerFolds: 3, innerFolds: 3 }],
      [['--cv-seed', '7', '--outer-folds', '4', '--inner-folds', '2'], { seed: 7, outerFolds: 4, innerFolds: 2 }],
    ] as const) {
      const run = cli('stats', file, '--folds', '--json', ...options);
      assert.equal(run.code, 0, run.stderr);
      const out = JSON.parse(run.stdout);
      assert.equal(out.samples, 90);
      assert.deepEqual(Object.keys(out.folds), ['ok', 'settings', 'strata', 'warnings', 'outer']);
      assert.deepEqual(out.folds.settings, settings);
      const input = [
        { volumes, acquisitions, seed: settings.seed, outer: settings.outerFolds, inner: settings.innerFolds },
      ];
      const [reference] = JSON.parse(
        execFileSync(sklearn!, [path.join(repoRoot(), 'test', 'reference', 'arc_folds.py')], {
          input: JSON.stringify(input),
          encoding: 'utf8',
        }),
      );
      delete reference.quintiles;
      const { settings: _, ...folds } = out.folds;
      assert.deepEqual(folds, reference);
      assert.ok(folds.warnings.length > 0, 'the Q1_space_no_accel-like strata are small: scikit-learn warns');
    }
  },
);

test('stats --folds prints a table of strata per test fold, sizes and lesion-volume ranges', () => {
  const { file } = dataset();
  const run = cli('stats', file, '--folds');
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.split('\n');
  assert.ok(
    lines.includes(
      '  Cross-validation as arc-meshchop train splits it: StratifiedKFold, seed 42, 3 outer × 3 inner folds',
    ),
    run.stdout,
  );
  const json = JSON.parse(cli('stats', file, '--folds', '--json').stdout).folds;
  const header = lines.find((l) => l.trimStart().startsWith('Stratum'))!;
  assert.match(header, /^ {4}Stratum +Samples +Test fold 0 +Test fold 1 +Test fold 2$/);
  const all = lines.find((l) => l.trimStart().startsWith('All '))!;
  assert.deepEqual(all.trim().split(/\s+/).slice(1).map(Number), [
    90,
    ...json.outer.map((f: { test: number[] }) => f.test.length),
  ]);
  for (const [stratum, size] of Object.entries(json.strata))
    assert.match(run.stdout, new RegExp(`\\n {4}${stratum} +${size} `));
  assert.match(run.stdout, /\n {4}Lesion volume +150–400,004 +[\d,]+–[\d,]+ +[\d,]+–[\d,]+ +[\d,]+–[\d,]+\n/);
  assert.match(run.stdout, /Inner train\/val sizes — outer fold 0: \d+\/\d+, \d+\/\d+, \d+\/\d+; outer fold 1: /);
  assert.match(
    run.stdout,
    /scikit-learn warns — Outer split: The least populated class in y has only \d+ members, which is less than n_splits=3\./,
  );
  // All columns line up: every table row is as wide as the header.
  const rows = lines.slice(lines.indexOf(header), lines.indexOf(header) + Object.keys(json.strata).length + 3);
  assert.ok(
    rows.every((r) => r.length === header.length),
    rows.join('\n'),
  );
});

test('stats --folds says where train stops; check exits 1 on cv-split-fails; bad CV options exit 2', () => {
  const masks = dataset({ masks: Array.from({ length: 90 }, (_, i) => (i === 4 ? null : `m${i}`)) });
  const refused = JSON.parse(cli('stats', masks.file, '--folds', '--json').stdout).folds;
  assert.equal(refused.ok, false);
  assert.equal(refused.stage, 'masks');
  assert.match(refused.error, /^Training requires lesion masks, but 1 samples have None masks \(indices: \[4\]\)/);
  assert.match(cli('stats', masks.file, '--folds').stdout, /Train stops: Training requires lesion masks/);

  const tiny = dataset({
    volumes: [1000, 1000, 50_000, 50_000],
    acquisitions: ['space_2x', 'space_2x', 'space_2x', 'space_2x'],
  });
  const failed = JSON.parse(cli('stats', tiny.file, '--folds', '--json').stdout).folds;
  assert.deepEqual(failed, {
    ok: false,
    stage: 'outer',
    error: 'Outer split: n_splits=3 cannot be greater than the number of members in each class.',
    settings: { seed: 42, outerFolds: 3, innerFolds: 3 },
    strata: { Q1_space_2x: 2, Q2_space_2x: 2 },
    warnings: [],
  });
  const check = cli('check', tiny.file, '--no-content');
  assert.equal(check.code, 1);
  assert.match(
    check.stdout,
    /dataset_info\.json:\d+:\d+: error cv-split-fails: scikit-learn raises ValueError\. Outer split: n_splits=3 cannot/,
  );
  // Two folds work for strata of two: no cv-split-fails.
  assert.doesNotMatch(
    cli('check', tiny.file, '--no-content', '--outer-folds', '2', '--inner-folds', '2').stdout,
    /cv-split-fails: scikit-learn raises ValueError\. Outer/,
  );

  for (const args of [
    ['--cv-seed=-1'],
    ['--cv-seed', '4294967296'],
    ['--outer-folds', '1'],
    ['--inner-folds', '2.5'],
    ['--cv-seed', 'x'],
  ]) {
    const run = cli('stats', tiny.file, '--folds', ...args);
    assert.equal(run.code, 2, args.join(' '));
    assert.match(run.stderr, /^neurocache: --(cv-seed|outer-folds|inner-folds) takes /, args.join(' '));
  }
  const manifest = path.join(tempDir(), 'manifest.json');
  writeFileSync(manifest, JSON.stringify({ partial_seizure: [], full_seizure: [], no_seizure: [] }));
  assert.match(cli('stats', manifest, '--folds').stderr, /--folds needs an ARC dataset_info\.json/);
});
