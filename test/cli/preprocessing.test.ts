/**
 * `neurocache check` and `stats --preprocessing` on a cohort of the planted cases: which
 * samples get which preprocessing finding, how `--resample-method` changes errors into
 * warnings, the JSON of SPEC §2, and a re-check of the unchanged cohort that reads no voxels.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { encodeImage, encodeMask, PLANTED } from '../support/arcSamples';
import { cliPath, tempDir } from '../support/python';

function cohort(): { dir: string; file: string; names: string[] } {
  const dir = tempDir('neurocache-cohort-');
  const nifti = path.join(dir, 'cache', 'nifti_cache');
  mkdirSync(nifti, { recursive: true });
  const names = Object.keys(PLANTED);
  const images: string[] = [];
  const masks: string[] = [];
  for (const [k, name] of names.entries()) {
    const s = PLANTED[name];
    images.push(`cache/nifti_cache/sub-${k}_T2w.nii.gz`);
    masks.push(`cache/nifti_cache/sub-${k}_lesion.nii.gz`);
    writeFileSync(path.join(dir, images[k]), encodeImage(s.image));
    writeFileSync(path.join(dir, masks[k]), encodeMask({ ...s.mask, gzip: true }));
  }
  const info = {
    num_samples: names.length,
    image_paths: images,
    mask_paths: masks,
    lesion_volumes: names.map((n) => PLANTED[n].mask.voxels.length),
    acquisition_types: names.map((_, k) => (k % 2 ? 'space_2x' : 'space_no_accel')),
    subject_ids: names.map((_, k) => `sub-${k}`),
  };
  const file = path.join(dir, 'dataset_info.json');
  writeFileSync(file, JSON.stringify(info, null, 2));
  return { dir, file, names };
}

function cli(store: string, ...args: string[]) {
  const run = spawnSync(process.execPath, [cliPath(), ...args, '--cache-dir', store], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const PREPROCESSING_CODES = new Set([
  'lesion-cropped',
  'lesion-lost-in-resampling',
  'mask-image-misaligned',
  'geometry-mismatch',
]);

function findings(store: string, file: string, names: string[], ...flags: string[]) {
  const run = cli(store, 'check', file, '--json', ...flags);
  const out = JSON.parse(run.stdout) as {
    files: { diagnostics: { code: string; severity: string; message: string; range: { start: { line: number } } }[] }[];
    io: { bytesRead: number };
  };
  const byLine = new Map<number, string[]>();
  for (const d of out.files[0].diagnostics.filter((d) => PREPROCESSING_CODES.has(d.code))) {
    const list = byLine.get(d.range.start.line) ?? [];
    list.push(`${d.severity} ${d.code}`);
    byLine.set(d.range.start.line, list);
  }
  // mask_paths entries sit one per line after the image_paths block: line of mask k.
  const text = JSON.stringify(JSON.parse(readFileSync(file, 'utf8')), null, 2).split('\n');
  const first = text.findIndex((l) => l.includes('"mask_paths"')) + 1;
  return {
    byName: Object.fromEntries(names.map((n, k) => [n, byLine.get(first + k) ?? []])),
    io: out.io,
    all: out.files[0].diagnostics,
    code: run.code,
  };
}

test('planted cases get their findings on the mask path; the quiet cases get nothing', () => {
  const { dir, file, names } = cohort();
  const store = tempDir('neurocache-store-');
  try {
    const scipy = findings(store, file, names);
    assert.deepEqual(scipy.byName, {
      'fov-300mm-edge-lesion': ['error lesion-cropped'],
      'mask-header-1.0mm-image-0.9mm': ['error mask-image-misaligned'],
      // scipy_zoom ignores origins: only nibabel_conform moves it, a warning while training uses scipy_zoom.
      'mask-8mm-offset': ['warning mask-image-misaligned'],
      // 1 voxel of 1 mm³ kept for a 0.43 mm³ lesion: nothing lost.
      'two-voxel-lesion-0.6mm': [],
      'one-voxel-lesion-lost-0.6mm': ['error lesion-lost-in-resampling'],
      'quiet-flipped-mask-matching-affine': [],
      'quiet-anisotropic-shared-grid': [],
      'mask-origin-0.3mm-off': ['warning geometry-mismatch'],
      'quiet-float-mask-0.017-slope': [],
    });
    const offset = scipy.all.find((d) => d.code === 'mask-image-misaligned' && d.severity === 'warning')!;
    assert.match(offset.message, /nibabel_conform places the mask by its header: 8(\.\d)? mm away/);
    assert.equal(scipy.code, 1);
    // Training with nibabel_conform: the 8 mm offset becomes an error.
    const conform = findings(store, file, names, '--resample-method', 'nibabel_conform');
    assert.deepEqual(conform.byName['mask-8mm-offset'], ['error mask-image-misaligned']);
    // The second and third checks read nothing: every mask and image answered from fingerprints.
    assert.equal(conform.io.bytesRead, 0);
    assert.match(
      cli(store, 'check', file, '--resample-method', 'linear').stderr,
      /--resample-method takes scipy_zoom or nibabel_conform, not "linear"/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(store, { recursive: true, force: true });
  }
});

test('stats --preprocessing: per-sample counts (SPEC §2), a cohort summary, a readable table', () => {
  const { dir, file, names } = cohort();
  const store = tempDir('neurocache-store-');
  try {
    const run = cli(store, 'stats', file, '--preprocessing', '--json');
    assert.equal(run.code, 0, run.stderr);
    const json = JSON.parse(run.stdout).preprocessing;
    assert.equal(json.samples.length, names.length);
    const edge = json.samples[names.indexOf('fov-300mm-edge-lesion')];
    assert.deepEqual(Object.keys(edge).slice(0, 4), ['index', 'lesionVoxels', 'croppedVoxels', 'diceBetweenMethods']);
    assert.ok(edge.croppedVoxels.scipy_zoom > 0 && edge.croppedVoxels.nibabel_conform > 0);
    assert.equal(json.samples[names.indexOf('quiet-flipped-mask-matching-affine')].diceBetweenMethods, 1);
    assert.deepEqual(json.samples[names.indexOf('two-voxel-lesion-0.6mm')].lesionVoxels, {
      scipy_zoom: 1,
      nibabel_conform: 2,
    });
    assert.deepEqual(json.summary.affected['lesion-cropped'], { trainingMethod: 1, anyMethod: 1 });
    assert.deepEqual(json.summary.affected['mask-image-misaligned'], { trainingMethod: 1, anyMethod: 2 });
    const text = cli(store, 'stats', file, '--preprocessing');
    assert.match(text.stdout, /Sample +Subject +scipy_zoom +cropped +nibabel_conform +cropped +Dice +Findings/);
    assert.match(text.stdout, /mask-image-misaligned: 1 \/ 2/);
    assert.match(cli(store, 'stats', path.join(dir, 'nope.json'), '--preprocessing').stderr, /cannot read/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(store, { recursive: true, force: true });
  }
});
