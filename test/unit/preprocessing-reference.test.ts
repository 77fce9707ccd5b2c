/**
 * The preprocessing model against arc-meshchop's preprocess_volume steps run in Python
 * (test/reference/arc_preprocessing.py, the same nibabel and scipy calls): lesion voxels of both
 * methods' masks exactly, voxels lost to the 256³ crop exactly, Dice between the methods within
 * 1e-6, on the issue's planted cases and on generated samples. scipy's zoom(order=0) index map
 * and nibabel's affine are checked on their own first, by running them.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { summarizeNifti } from '../../server/src/engine/arc/nifti';
import { preprocessingFacts, PreprocessingFacts } from '../../server/src/engine/arc/preprocessSample';
import { zoomAxis } from '../../server/src/engine/arc/preprocessing';
import { memorySource } from '../../server/src/engine/io/source';
import { encodeImage, encodeMask, PLANTED, randomSample, SampleSpec } from '../support/arcSamples';
import { pythonWith, repoRoot, tempDir } from '../support/python';
import { execFileSync } from 'node:child_process';

const python = pythonWith('nibabel', 'scipy', 'numpy');
const skip = python ? false : 'needs python3 with nibabel and scipy';
const SCRIPT = () => path.join(repoRoot(), 'test', 'reference', 'arc_preprocessing.py');

interface Reference {
  lesionVoxels: Record<string, number>;
  croppedVoxels: Record<string, number | null>;
  diceBetweenMethods: number | null;
}

function reference<T>(requests: object[]): ({ ok: true; value: T } | { ok: false; error: string })[] {
  const out = execFileSync(python!, [SCRIPT()], {
    input: JSON.stringify(requests),
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  return JSON.parse(out);
}

async function model(
  sample: SampleSpec,
  files: { image: Uint8Array; mask: Uint8Array; maskName: string },
): Promise<PreprocessingFacts> {
  const image = await summarizeNifti(memorySource(files.image), { countVoxels: false, name: 'image.nii.gz' });
  const mask = await summarizeNifti(memorySource(files.mask), {
    countVoxels: false,
    lesionMask: true,
    name: files.maskName,
  });
  const outcome = preprocessingFacts(mask, image);
  assert.ok(outcome.ok, `${sample.name}: ${!outcome.ok && outcome.error}`);
  return outcome.facts;
}

function write(dir: string, sample: SampleSpec) {
  const image = encodeImage(sample.image);
  const mask = encodeMask(sample.mask);
  const maskName = `${sample.name}-mask.nii${sample.mask.gzip === false ? '' : '.gz'}`;
  writeFileSync(path.join(dir, `${sample.name}-image.nii.gz`), image);
  writeFileSync(path.join(dir, maskName), mask);
  return {
    image,
    mask,
    maskName,
    imagePath: path.join(dir, `${sample.name}-image.nii.gz`),
    maskPath: path.join(dir, maskName),
  };
}

async function compare(samples: SampleSpec[], options: { fast: boolean; cropped?: boolean }) {
  const dir = tempDir('neurocache-preprocessing-');
  try {
    const written = samples.map((s) => write(dir, s));
    const results = reference<Reference>(
      written.map((w) => ({
        kind: 'preprocess',
        image: w.imagePath,
        mask: w.maskPath,
        fast: options.fast,
        cropped: options.cropped,
      })),
    );
    const mismatches: string[] = [];
    for (const [k, sample] of samples.entries()) {
      const r = results[k];
      assert.ok(r.ok, `${sample.name}: reference failed: ${!r.ok && r.error}`);
      const facts = await model(sample, written[k]);
      const expected = r.value;
      const got = { lesionVoxels: facts.lesionVoxels, scipyCropped: facts.croppedVoxels.scipy_zoom };
      const want = { lesionVoxels: expected.lesionVoxels, scipyCropped: expected.croppedVoxels.scipy_zoom };
      if (JSON.stringify(got) !== JSON.stringify(want))
        mismatches.push(`${sample.name}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      if (options.cropped && facts.croppedVoxels.nibabel_conform !== expected.croppedVoxels.nibabel_conform) {
        mismatches.push(
          `${sample.name}: conform cropped ${facts.croppedVoxels.nibabel_conform}, want ${expected.croppedVoxels.nibabel_conform}`,
        );
      }
      const d = facts.diceBetweenMethods;
      const e = expected.diceBetweenMethods;
      if ((d === null) !== (e === null) || (d !== null && Math.abs(d - e!) > 1e-6))
        mismatches.push(`${sample.name}: dice ${d}, want ${e}`);
    }
    assert.deepEqual(mismatches, []);
    return results.map((r) => (r.ok ? r.value : undefined));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test(
  'scipy zoom(order=0): each output index reads input floor(o (n-1)/(m-1) + 0.5), or cval past n - 1',
  { skip },
  () => {
    const cases: { n: number; zoom: number }[] = [];
    for (const n of [1, 2, 3, 5, 7, 24, 26, 28, 29, 30, 255, 256, 300, 399])
      for (const zoom of [0.3, 0.45, 0.5, 0.6, 0.9, 1, 1.1, 1.5, 2, 2.5, 3, 0.7777]) cases.push({ n, zoom });
    const results = reference<number[]>(cases.map((c) => ({ kind: 'zoom_probe', ...c })));
    for (const [k, { n, zoom }] of cases.entries()) {
      const r = results[k];
      assert.ok(r.ok);
      const axis = zoomAxis(n, zoom);
      assert.equal(axis.zoomed, r.value.length, `n=${n} zoom=${zoom}: length`);
      // Our map covers the cropped/padded 256 window; compare the whole zoomed axis through `before`.
      const counts = new Array(n).fill(0);
      for (const i of r.value) if (i >= 0) counts[i]++;
      assert.deepEqual(Array.from(axis.before), counts, `n=${n} zoom=${zoom}`);
    }
  },
);

test('nibabel affine: sform, qform (with qfac) and the base affine, bit for bit', { skip }, async () => {
  const dir = tempDir('neurocache-affine-');
  try {
    const samples = Array.from({ length: 40 }, (_, k) => randomSample(5000 + k));
    const paths = samples.map((s, k) => {
      const p = path.join(dir, `${k}.nii.gz`);
      writeFileSync(p, encodeImage(s.image));
      return p;
    });
    const results = reference<number[][]>(paths.map((p) => ({ kind: 'affine', path: p })));
    for (const [k, s] of samples.entries()) {
      const r = results[k];
      assert.ok(r.ok);
      const summary = await summarizeNifti(memorySource(encodeImage(s.image)), {
        countVoxels: false,
        name: 'x.nii.gz',
      });
      // Bit for bit, but the sign of a zero (nibabel's -0.0 entries) does not place any voxel.
      const unsigned = (m: number[][] | null) => m?.map((row) => row.map((v) => (v === 0 ? 0 : v)));
      assert.deepEqual(unsigned(summary.affine), unsigned(r.value), `${s.name} (${s.image.storage})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The planted cases, one test each, with the unpatched conform call. The crop of conform
// is counted on the 26 tiles around the box (27 resamplings) only where it matters.
for (const [name, sample] of Object.entries(PLANTED)) {
  test(`planted: ${name} equals preprocess_volume`, { skip }, async () => {
    const [result] = await compare([sample], { fast: false, cropped: name === 'fov-300mm-edge-lesion' });
    if (name === 'fov-300mm-edge-lesion')
      assert.ok(result!.croppedVoxels.scipy_zoom! > 0 && result!.croppedVoxels.nibabel_conform! > 0);
    if (name === 'mask-header-1.0mm-image-0.9mm') assert.ok(result!.diceBetweenMethods! < 0.5);
    if (name === 'two-voxel-lesion-0.6mm')
      assert.deepEqual(result!.lesionVoxels, { scipy_zoom: 1, nibabel_conform: 2 });
    if (name === 'quiet-flipped-mask-matching-affine') assert.equal(result!.diceBetweenMethods, 1);
  });
}

test('100 generated samples equal preprocess_volume: counts exactly, Dice within 1e-6', { skip }, async () => {
  const samples = [
    ...Array.from({ length: 92 }, (_, k) => randomSample(100 + k)),
    ...Array.from({ length: 8 }, (_, k) => randomSample(900 + k, { large: true })),
  ];
  await compare(samples, { fast: true });
});
