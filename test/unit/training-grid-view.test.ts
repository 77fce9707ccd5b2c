/**
 * The NIfTI viewer's training-grid toggle: for a planted sample whose lesion lies partly outside
 * the 256³ crop, the picture is the model's preprocessed slice (red pixels exactly where the
 * model's mask is) and the numbers are the preprocessing model's, for the method asked for.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { summarizeNifti } from '../../server/src/engine/arc/nifti';
import { RESAMPLE_METHODS, TARGET_SIZE } from '../../server/src/engine/arc/preprocessing';
import { preprocessingFacts } from '../../server/src/engine/arc/preprocessSample';
import { planTrainingSlice } from '../../server/src/engine/arc/trainingGrid';
import { memorySource } from '../../server/src/engine/io/source';
import { FingerprintStore } from '../../server/src/service/fingerprints';
import { CacheInspector } from '../../server/src/service/inspector';
import { trainingGrid } from '../../server/src/service/views';
import { WorkerPool } from '../../server/src/workers/pool';
import { encodeImage, encodeMask, PLANTED } from '../support/arcSamples';
import { tempDir } from '../support/python';

/** Each pixel of an 8-bit RGBA PNG with filter 0 on every row (what engine/pictures.ts writes): red-dominant or not. */
function redMap(png: Buffer): { width: number; height: number; red: boolean[] } {
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const chunks: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') chunks.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(chunks));
  const stride = width * 4 + 1;
  const red: boolean[] = [];
  for (let y = 0; y < height; y++) {
    assert.equal(raw[y * stride], 0, 'filter 0');
    for (let x = 0; x < width; x++) {
      const at = y * stride + 1 + 4 * x;
      red.push(raw[at] > raw[at + 1] + 60);
    }
  }
  return { width, height, red };
}

test('training grid of a sample whose lesion is partly cropped: the model’s slice and numbers, per method', async () => {
  const dir = tempDir('neurocache-training-grid-');
  const pool = new WorkerPool(1);
  try {
    mkdirSync(dir, { recursive: true });
    const sample = PLANTED['fov-300mm-edge-lesion'];
    const imageBytes = encodeImage(sample.image);
    const maskBytes = encodeMask({ ...sample.mask, gzip: true });
    const image = path.join(dir, 'a_t2w.nii.gz');
    const mask = path.join(dir, 'a_lesion.nii.gz');
    writeFileSync(image, imageBytes);
    writeFileSync(mask, maskBytes);
    const imageSummary = await summarizeNifti(memorySource(imageBytes), { countVoxels: false, name: image });
    const maskSummary = await summarizeNifti(memorySource(maskBytes), {
      countVoxels: false,
      lesionMask: true,
      name: mask,
    });
    const model = preprocessingFacts(maskSummary, imageSummary);
    assert.ok(model.ok);
    const inspector = new CacheInspector(pool, new FingerprintStore());
    for (const method of RESAMPLE_METHODS) {
      const grid = await trainingGrid({ image, mask, method }, inspector);
      assert.ok(grid.ok, !grid.ok ? grid.error : '');
      assert.deepEqual(
        {
          method: grid.method,
          size: grid.size,
          originalVoxels: grid.originalVoxels,
          keptVoxels: grid.keptVoxels,
          croppedVoxels: grid.croppedVoxels,
        },
        {
          method,
          size: TARGET_SIZE,
          originalVoxels: model.facts.originalVoxels,
          keptVoxels: model.facts.lesionVoxels[method],
          croppedVoxels: model.facts.croppedVoxels[method],
        },
      );
      // Part of the lesion lies outside the 256 mm crop, part inside.
      assert.ok(grid.croppedVoxels > 0 && grid.keptVoxels > 0, `${method}: ${JSON.stringify(grid).slice(-120)}`);
      // Red exactly where the model's preprocessed slice has lesion (drawn nearest-neighbour at 160 px, upright).
      const plan = planTrainingSlice(
        maskSummary.lesionMask!,
        { shape: maskSummary.shape as [number, number, number], affine: maskSummary.affine! },
        { shape: imageSummary.shape as [number, number, number], affine: imageSummary.affine! },
        method,
      );
      const picture = redMap(Buffer.from(grid.png, 'base64'));
      const scale = picture.width / TARGET_SIZE;
      const expected = picture.red.map((_, p) => {
        const x = p % picture.width;
        const y = Math.floor(p / picture.width);
        const sx = Math.min(TARGET_SIZE - 1, Math.floor(x / scale));
        const sy = Math.min(TARGET_SIZE - 1, Math.floor((picture.height - 1 - y) / scale));
        return plan.mask[sx + TARGET_SIZE * sy] > 0;
      });
      const red = picture.red.filter(Boolean).length;
      assert.ok(red > 0, `${method}: the lesion shows`);
      assert.deepEqual(picture.red, expected, `${method}: red pixels where the model's mask is`);
    }
    // A file that is missing or not regular is named, not drawn.
    const missing = await trainingGrid(
      { image, mask: path.join(dir, 'gone_lesion.nii.gz'), method: 'scipy_zoom' },
      inspector,
    );
    assert.deepEqual(missing, { ok: false, error: 'gone_lesion.nii.gz: no such file' });
    const folder = await trainingGrid({ image: dir, mask, method: 'scipy_zoom' }, inspector);
    assert.ok(!folder.ok && folder.error.startsWith(`${path.basename(dir)}: `), JSON.stringify(folder));
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
