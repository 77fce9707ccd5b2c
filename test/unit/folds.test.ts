/**
 * arc-meshchop's nested cross-validation folds against scikit-learn: 360 generated cohorts
 * (0–400 samples, 1–12 strata, tied volumes, the LESION_QUINTILES bounds and their neighbours,
 * volumes below and above every range, unknown and odd acquisitions, other seeds and fold
 * counts) go through test/reference/arc_folds.py in one python process; outer test sets,
 * inner train/val sets, warnings and errors must be equal.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { checkDatasetInfo, parseDatasetInfo } from '../../server/src/engine/arc/datasetInfo';
import {
  CvSettings,
  datasetFolds,
  DEFAULT_CV,
  lesionQuintile,
  LESION_QUINTILES,
  masksRefused,
  nestedFolds,
  NestedFolds,
  stratifiedKFold,
  stratumLabel,
} from '../../server/src/engine/arc/folds';
import { resolveSettings } from '../../server/src/handlers/settings';
import { structuralAnalysis } from '../../server/src/service/analyze';
import { analyzeText } from '../../server/src/service/detect';
import { hoverAt } from '../../server/src/service/hover';
import { pythonWith, repoRoot, runPython } from '../support/python';

const sklearn = pythonWith('sklearn');
const skip = !sklearn && 'python3 with scikit-learn not found (apt-get install python3-sklearn)';

interface Cohort extends CvSettings {
  volumes: number[];
  acquisitions: string[];
}

/** mulberry32: a small seeded generator for the cohorts (independent of the code under test). */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const BOUNDS = LESION_QUINTILES.flatMap((q) => [q.low, q.high]).filter((v, i, all) => all.indexOf(v) === i);
const BOUNDARY_VOLUMES = BOUNDS.flatMap((b) => [b - 1, b, b + 1]);
const ACQUISITIONS = [
  'space_2x',
  'space_no_accel',
  'turbo_spin_echo',
  'unknown',
  '',
  'SPACE_2x',
  'x',
  'x\0',
  'x\0\0',
  'é',
  '😀',
  '\ud800',
];

function cohorts(): Cohort[] {
  const random = generator(20261113);
  const int = (n: number) => Math.floor(random() * n);
  const out: Cohort[] = [
    // Every bound and neighbour, below and above every range, in one cohort.
    {
      ...DEFAULT_CV,
      volumes: [...BOUNDARY_VOLUMES, 0, 1, -5, 10 ** 7, 2 ** 40],
      acquisitions: [...BOUNDARY_VOLUMES, 0, 1, 2, 3, 4].map(() => 'space_2x'),
    },
  ];
  for (let c = 0; c < 360; c++) {
    const n = c < 48 ? c % 12 : c < 70 ? 400 - int(5) : 1 + int(c % 3 === 0 ? 40 : 400);
    const kinds = Array.from({ length: 1 + int(12) }, () => ({
      range: int(6),
      acquisition: ACQUISITIONS[int(ACQUISITIONS.length)],
      weight: random() ** 3 + 0.001,
    }));
    const total = kinds.reduce((s, k) => s + k.weight, 0);
    const volumes: number[] = [];
    const acquisitions: string[] = [];
    for (let i = 0; i < n; i++) {
      let pick = random() * total;
      const kind = kinds.find((k) => (pick -= k.weight) <= 0) ?? kinds[kinds.length - 1];
      const roll = random();
      let volume: number;
      if (roll < 0.2) volume = BOUNDARY_VOLUMES[int(BOUNDARY_VOLUMES.length)];
      else if (roll < 0.35 && volumes.length)
        volume = volumes[int(volumes.length)]; // ties
      else if (kind.range === 0) volume = int(203) - (random() < 0.05 ? 10 : 0);
      else if (kind.range === 5) volume = 363_886 + int(2_000_000);
      else
        volume =
          LESION_QUINTILES[kind.range - 1].low +
          int(LESION_QUINTILES[kind.range - 1].high - LESION_QUINTILES[kind.range - 1].low + 1);
      volumes.push(volume);
      acquisitions.push(kind.acquisition);
    }
    const settings =
      c % 5 === 4
        ? { seed: int(2 ** 32), outerFolds: 2 + int(4), innerFolds: 2 + int(4) }
        : c % 7 === 3
          ? { ...DEFAULT_CV, seed: int(1000) }
          : DEFAULT_CV;
    out.push({ ...settings, volumes, acquisitions });
  }
  return out;
}

/** What the reference prints, from our result. */
function asReference(folds: NestedFolds) {
  return folds.ok
    ? { ok: true, strata: folds.strata, warnings: folds.warnings, outer: folds.outer }
    : { ok: false, error: folds.error, strata: folds.strata, warnings: folds.warnings };
}

test('nested folds equal scikit-learn on 361 generated cohorts', { skip }, (t) => {
  const all = cohorts();
  const input = all.map((c) => ({
    volumes: c.volumes,
    acquisitions: c.acquisitions,
    seed: c.seed,
    outer: c.outerFolds,
    inner: c.innerFolds,
  }));
  const script = path.join(repoRoot(), 'test', 'reference', 'arc_folds.py');
  const reference = JSON.parse(
    execFileSync(sklearn!, [script], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 256 << 20 }),
  ) as (ReturnType<typeof asReference> & { quintiles: string[] })[];
  assert.equal(reference.length, all.length);
  const seen = { ok: 0, outerErrors: 0, innerErrors: 0, warned: 0 };
  all.forEach((cohort, c) => {
    const { quintiles, ...expected } = reference[c];
    assert.deepEqual(cohort.volumes.map(lesionQuintile), quintiles, `quintiles, cohort ${c}`);
    const folds = nestedFolds(
      cohort.volumes.map((v, i) => stratumLabel(v, cohort.acquisitions[i])),
      cohort,
    );
    assert.deepEqual(
      asReference(folds),
      expected,
      `cohort ${c} (${cohort.volumes.length} samples, seed ${cohort.seed}, ${cohort.outerFolds}×${cohort.innerFolds})`,
    );
    if (folds.ok) seen.ok++;
    else if (folds.stage === 'outer') seen.outerErrors++;
    else seen.innerErrors++;
    if (folds.warnings.length) seen.warned++;
  });
  // The cohorts must exercise every outcome, or the comparison proves little.
  t.diagnostic(`outcomes: ${JSON.stringify(seen)}`);
  assert.ok(
    seen.ok >= 200 && seen.outerErrors >= 15 && seen.innerErrors >= 5 && seen.warned >= 50,
    JSON.stringify(seen),
  );
});

test('quintile bounds belong to the lower quintile; outside every range is Q1 or Q4', () => {
  assert.deepEqual(
    [202, 203, 33_619, 33_620, 67_891, 67_892, 128_314, 128_315, 363_885, 363_886, -1].map(lesionQuintile),
    ['Q1', 'Q1', 'Q1', 'Q2', 'Q2', 'Q3', 'Q3', 'Q4', 'Q4', 'Q4', 'Q1'],
  );
  assert.equal(stratumLabel(40_000, 'space_2x'), 'Q2_space_2x');
});

test('folds partition the samples; classes that differ only by trailing NULs are one class', () => {
  const labels = Array.from({ length: 100 }, (_, i) => (i % 7 === 0 ? 'Q1_a\0' : i % 3 ? 'Q1_a' : 'Q2_b'));
  const folds = nestedFolds(labels, DEFAULT_CV);
  assert.ok(folds.ok);
  assert.deepEqual(folds.strata, { Q1_a: 71, Q2_b: 29 });
  assert.deepEqual(
    folds.outer.flatMap((f) => f.test).sort((a, b) => a - b),
    labels.map((_, i) => i),
  );
  for (const fold of folds.outer) {
    assert.ok(fold.test.length >= 33 && fold.test.length <= 34);
    for (const inner of fold.inner) {
      assert.deepEqual(
        [...inner.train, ...inner.val, ...fold.test].sort((a, b) => a - b),
        labels.map((_, i) => i),
      );
    }
  }
});

test('scikit-learn and numpy errors for bad settings and tiny sets', () => {
  assert.throws(() => stratifiedKFold(['a', 'a'], 1, 42), /n_splits=2 or more, got n_splits=1\./);
  assert.throws(() => stratifiedKFold([], 3, 42), /Found array with 0 sample\(s\)/);
  assert.throws(
    () => stratifiedKFold(['a', 'b'], 3, 42),
    /Cannot have number of splits n_splits=3 greater than the number of samples: n_samples=2\./,
  );
  assert.throws(() => stratifiedKFold(['a', 'a', 'a'], 3, 2 ** 32), /Seed must be between 0 and 2\*\*32 - 1/);
  assert.throws(
    () => stratifiedKFold(['a', 'a', 'b', 'b'], 3, 42),
    /n_splits=3 cannot be greater than the number of members in each class\./,
  );
  assert.equal(
    stratifiedKFold(['a', 'a', 'a', 'b'], 3, 42).warning,
    'The least populated class in y has only 1 members, which is less than n_splits=3.',
  );
});

test('datasetFolds stops where train stops: schema, then null masks, then the split', () => {
  const info = (masks: (string | null)[], volumes: unknown[] = masks.map(() => 1000)) =>
    JSON.stringify({
      image_paths: masks.map((_, i) => `i${i}.nii.gz`),
      mask_paths: masks,
      lesion_volumes: volumes,
      acquisition_types: masks.map(() => 'space_2x'),
      subject_ids: masks.map((_, i) => `s${i}`),
    });
  const schema = datasetFolds(parseDatasetInfo(info(['m', 'm', 'm'], [1, 'x', 3])), DEFAULT_CV);
  assert.equal(schema.ok || schema.stage, 'parse');
  const masks = Array.from({ length: 9 }, (_, i) => (i % 4 === 1 ? null : `m${i}`));
  const refused = datasetFolds(parseDatasetInfo(info(masks)), DEFAULT_CV);
  assert.ok(!refused.ok && refused.stage === 'masks');
  assert.equal(
    refused.error,
    "Training requires lesion masks, but 2 samples have None masks (indices: [1, 5]). Re-download dataset with 'arc-meshchop download' (default requires masks).",
  );
  assert.match(masksRefused([0, 1, 2, 3, 4, 5, 6]), /\(indices: \[0, 1, 2, 3, 4\]\.\.\. and 2 more\)\./);
  const fine = datasetFolds(parseDatasetInfo(info(masks.map((m, i) => m ?? `m${i}`))), DEFAULT_CV);
  assert.ok(fine.ok && fine.outer.length === 3 && fine.outer.every((f) => f.inner.length === 3));
});

/** A dataset_info.json text; `null` masks allowed. */
function datasetText(
  volumes: number[],
  acquisitions: string[],
  masks: (string | null)[] = volumes.map((_, i) => `m${i}.nii.gz`),
): string {
  return JSON.stringify(
    {
      image_paths: volumes.map((_, i) => `i${i}.nii.gz`),
      mask_paths: masks,
      lesion_volumes: volumes,
      acquisition_types: acquisitions,
      subject_ids: volumes.map((_, i) => `sub-${i}`),
    },
    null,
    2,
  );
}

const arcAnalysis = (text: string, cv = DEFAULT_CV) => {
  const analysis = structuralAnalysis('/data/dataset_info.json', analyzeText(text), undefined, cv);
  assert.equal(analysis.kind, 'arc-dataset-info');
  return analysis as Extract<typeof analysis, { kind: 'arc-dataset-info' }>;
};
const located = (
  text: string,
  analysis: { diagnostics: { code: string; offset: number; length: number }[] },
  code: string,
) => analysis.diagnostics.filter((d) => d.code === code).map((d) => text.slice(d.offset, d.offset + d.length));

test('cv-small-stratum sits on the volumes of every stratum scikit-learn warns about, outer and inner', () => {
  // 30 Q2 space_2x samples, 2 Q4 unknown (outer warns), 3 Q1 space_no_accel (only the inner splits warn).
  const volumes = [...Array(30).fill(40_000), 200_000, 200_001, 1000, 1001, 1002];
  const acquisitions = [
    ...Array(30).fill('space_2x'),
    'unknown',
    'unknown',
    'space_no_accel',
    'space_no_accel',
    'space_no_accel',
  ];
  const text = datasetText(volumes, acquisitions);
  const analysis = arcAnalysis(text);
  assert.ok(analysis.folds.ok);
  assert.deepEqual(located(text, analysis, 'cv-small-stratum'), ['200000', '200001', '1000', '1001', '1002']);
  const messages = analysis.diagnostics.filter((d) => d.code === 'cv-small-stratum').map((d) => d.message);
  assert.match(
    messages[0],
    /^Stratum Q4_unknown has 2 samples, fewer than the 3 outer folds: scikit-learn warns, and 1 of the outer test folds get none of it\.$/,
  );
  assert.match(
    messages[2],
    /^Stratum Q1_space_no_accel has 3 samples, 2 in the training set of outer fold 0, 2 in the training set of outer fold 1, 2 in the training set of outer fold 2: fewer than the 3 inner folds/,
  );
  assert.ok(analysis.diagnostics.every((d) => d.code !== 'cv-small-stratum' || d.severity === 'warning'));
  // With 2 inner folds the inner splits no longer warn about Q1_space_no_accel.
  assert.deepEqual(located(text, arcAnalysis(text, { ...DEFAULT_CV, innerFolds: 2 }), 'cv-small-stratum'), [
    '200000',
    '200001',
  ]);
});

test('cv-split-fails: on acquisition_types when every stratum is too small, on image_paths when samples are too few', () => {
  const strata = datasetText([1000, 1000, 50_000, 50_000], ['space_2x', 'space_2x', 'space_2x', 'space_2x']);
  const failed = arcAnalysis(strata);
  assert.deepEqual(located(strata, failed, 'cv-split-fails'), ['"acquisition_types"']);
  assert.equal(
    failed.diagnostics.find((d) => d.code === 'cv-split-fails')!.message,
    'scikit-learn raises ValueError. Outer split: n_splits=3 cannot be greater than the number of members in each class. arc-meshchop train and experiment stop before training.',
  );
  assert.deepEqual(located(strata, failed, 'cv-small-stratum'), [], 'no per-sample warnings when the split fails');

  const few = datasetText([1000, 1000], ['space_2x', 'space_2x']);
  assert.deepEqual(located(few, arcAnalysis(few), 'cv-split-fails'), ['"image_paths"']);
  // Outer succeeds (3 members), every inner training set holds 2 < 3: train stops, experiment does not.
  const inner = datasetText([1000, 1000, 1000], ['space_2x', 'space_2x', 'space_2x']);
  const innerFailed = arcAnalysis(inner);
  assert.ok(!innerFailed.folds.ok && innerFailed.folds.stage === 'inner' && innerFailed.folds.outerFold === 0);
  assert.match(
    innerFailed.diagnostics.find((d) => d.code === 'cv-split-fails')!.message,
    /Inner split of outer fold 0: Cannot have number of splits n_splits=3 greater than the number of samples: n_samples=2\. arc-meshchop train stops before training \(experiment, which uses only the outer folds, runs\)\.$/,
  );
  // A seed numpy refuses (another LSP client's settings): the same error, naming numpy's message.
  assert.match(
    arcAnalysis(inner, { ...DEFAULT_CV, seed: -1 }).diagnostics.find((d) => d.code === 'cv-split-fails')!.message,
    /Seed must be between 0 and 2\*\*32 - 1/,
  );
});

test('a null mask is an error that says train stops, and no folds are shown for it', () => {
  const text = datasetText([1000, 1000, 1000, 1000], Array(4).fill('space_2x'), ['m0', null, 'm2', 'm3']);
  const parsed = parseDatasetInfo(text);
  const found = checkDatasetInfo(parsed, { images: [], masks: [], infoDir: '/data' }).filter(
    (d) => d.code === 'missing-mask',
  );
  assert.deepEqual(
    found.map((d) => [d.severity, text.slice(d.offset, d.offset + d.length)]),
    [['error', 'null']],
  );
  assert.match(
    found[0].message,
    /^Sample 1 \(sub-1\) has no lesion mask: arc-meshchop train and experiment stop \(validate_masks_present refuses null masks\)\.$/,
  );
  const analysis = arcAnalysis(text);
  assert.ok(!analysis.folds.ok && analysis.folds.stage === 'masks');
  assert.match(
    hoverAt(analysis, text.indexOf('"lesion_volumes"') + 2)!.markdown,
    /Train stops: Training requires lesion masks, but 1 samples have None masks \(indices: \[1\]\)/,
  );
});

test('the hover on a dataset_info key shows fold sizes and the stratum × fold table', () => {
  const volumes = Array.from({ length: 40 }, (_, i) => (i % 2 ? 20_000 + i : 100_000 + i));
  const text = datasetText(
    volumes,
    volumes.map((_, i) => (i % 4 < 2 ? 'space_2x' : 'space_no_accel')),
  );
  const analysis = arcAnalysis(text);
  assert.ok(analysis.folds.ok);
  const markdown = hoverAt(analysis, text.indexOf('"image_paths"') + 2)!.markdown;
  assert.match(
    markdown,
    /\*\*Cross-validation as arc-meshchop train splits it: StratifiedKFold, seed 42, 3 outer × 3 inner folds\*\*/,
  );
  assert.match(
    markdown,
    /\| Stratum \| Samples \| Test fold 0 \| Test fold 1 \| Test fold 2 \|\n\| --- \| ---: \| ---: \| ---: \| ---: \|/,
  );
  const sizes = analysis.folds.outer.map((f) => f.test.length);
  assert.match(markdown, new RegExp(`\\| All \\| 40 \\| ${sizes.join(' \\| ')} \\|`));
  const perFold = analysis.folds.outer.map((f) => f.test.filter((i) => volumes[i] < 33_619 && i % 4 < 2).length);
  assert.match(markdown, new RegExp(`\\| Q1\\\\_space\\\\_2x \\| 10 \\| ${perFold.join(' \\| ')} \\|`));
  const ranges = analysis.folds.outer
    .map((f) => f.test.map((i) => volumes[i]))
    .map((v) => `${Math.min(...v).toLocaleString('en-US')}–${Math.max(...v).toLocaleString('en-US')}`);
  assert.match(markdown, new RegExp(`\\| Lesion volume \\| 20,001–100,038 \\| ${ranges.join(' \\| ')} \\|`));
  assert.match(markdown, /Inner train\/val sizes — outer fold 0: \d+\/\d+, \d+\/\d+, \d+\/\d+; outer fold 1/);
  // A volume's hover names the sample's stratum, outer test fold and inner validation folds.
  const sample = 5;
  const volumeAt = text.indexOf(String(volumes[sample]));
  const test = analysis.folds.outer.findIndex((f) => f.test.includes(sample));
  const validation = analysis.folds.outer.flatMap((f, k) =>
    f.inner.flatMap((inner, v) => (inner.val.includes(sample) ? [`${v} of outer fold ${k}`] : [])),
  );
  assert.equal(validation.length, 2, 'validation once in each outer training set it belongs to');
  assert.match(
    hoverAt(analysis, volumeAt + 1)!.markdown,
    new RegExp(
      `- Stratum Q1_space_2x; test sample in outer fold ${test}; validation sample in inner fold ${validation.join(', ')}$`,
    ),
  );
});

test('volumes and num_samples written as floats are schema errors, as parse_dataset_info refuses them', () => {
  const text =
    '{"num_samples": 2.0, "image_paths": ["a", "b"], "mask_paths": ["m", "n"], "lesion_volumes": [1.0, 2e3], "acquisition_types": ["x", "x"], "subject_ids": ["s", "t"]}';
  const parsed = parseDatasetInfo(text);
  assert.deepEqual(
    parsed.schema.map((d) => text.slice(d.offset, d.offset + d.length)),
    ['2.0', '1.0', '2e3'],
  );
  assert.equal(datasetFolds(parsed, DEFAULT_CV).ok || 'stopped', 'stopped');
  // Python's json: what `isinstance(v, int)` sees.
  const python = pythonWith('json');
  if (python)
    assert.deepEqual(
      runPython(
        python,
        'import json; print(json.dumps([type(v).__name__ for v in json.loads("[1.0, 2e3, 2, -0, 1E2]")]))',
      ),
      ['float', 'float', 'int', 'int', 'float'],
    );
});

test('a client that sends no cv settings gets the engine defaults', () => {
  // package.json's defaults are checked against DEFAULT_CV in contract.test.ts.
  assert.deepEqual(resolveSettings(undefined).cv, DEFAULT_CV);
  assert.deepEqual(resolveSettings({ cv: { seed: 7, outerFolds: 4, innerFolds: 2 } }).cv, {
    seed: 7,
    outerFolds: 4,
    innerFolds: 2,
  });
});
