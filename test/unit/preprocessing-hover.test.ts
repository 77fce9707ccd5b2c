/**
 * The mask hover of a planted sample: the preprocessing numbers under the training method, and
 * two pictures side by side (the file's slice and the 256³ training grid's), whose training
 * picture shows the preprocessed mask: red pixels exactly where the model's mask is.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { analyzeDocument } from '../../server/src/service/analyze';
import { FingerprintStore } from '../../server/src/service/fingerprints';
import { hoverAt } from '../../server/src/service/hover';
import { pictureMarkdown } from '../../server/src/service/hoverPictures';
import { CacheInspector } from '../../server/src/service/inspector';
import { WorkerPool } from '../../server/src/workers/pool';
import { encodeImage, encodeMask, PLANTED } from '../support/arcSamples';
import { tempDir } from '../support/python';

/** Red-dominant pixels of an 8-bit RGBA PNG with filter 0 on every row (what engine/pictures.ts writes). */
function redPixels(png: Buffer): number {
  const width = png.readUInt32BE(16);
  const chunks: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) === 'IDAT') chunks.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(chunks));
  const stride = width * 4 + 1;
  let red = 0;
  for (let row = 0; row * stride < raw.length; row++) {
    assert.equal(raw[row * stride], 0, 'filter 0');
    const line = raw.subarray(row * stride + 1, (row + 1) * stride);
    for (let x = 0; x < width; x++) if (line[4 * x] > line[4 * x + 1] + 60) red++;
  }
  return red;
}

test('mask hover: preprocessing numbers, and the training-grid picture beside the original', async () => {
  const dir = tempDir('neurocache-hover-');
  const pool = new WorkerPool(1);
  try {
    const nifti = path.join(dir, 'cache', 'nifti_cache');
    mkdirSync(nifti, { recursive: true });
    const sample = PLANTED['mask-8mm-offset'];
    writeFileSync(path.join(nifti, 'a_T2w.nii.gz'), encodeImage(sample.image));
    writeFileSync(path.join(nifti, 'a_lesion.nii.gz'), encodeMask({ ...sample.mask, gzip: true }));
    const text = JSON.stringify(
      {
        image_paths: ['cache/nifti_cache/a_T2w.nii.gz'],
        mask_paths: ['cache/nifti_cache/a_lesion.nii.gz'],
        lesion_volumes: [sample.mask.voxels.length],
      },
      null,
      2,
    );
    const file = path.join(dir, 'dataset_info.json');
    writeFileSync(file, text);
    const inspector = new CacheInspector(pool, new FingerprintStore());
    const analysis = await analyzeDocument(file, text, inspector, {
      content: true,
      cwd: dir,
      resampleMethod: 'nibabel_conform',
    });
    const hover = hoverAt(analysis, text.indexOf('a_lesion') + 2)!;
    assert.match(
      hover.markdown,
      /After preprocess_volume \(256³, 1 mm\): scipy_zoom [\d,]+, nibabel_conform \(training\) [\d,]+ lesion voxels of [\d,]+ in the mask; Dice between the methods 0\.\d+/,
    );
    const markdown = (await pictureMarkdown(hover.picture!, inspector))!;
    const images = [...markdown.matchAll(/!\[[^\]]*\]\(data:image\/png;base64,([^)]+)\)/g)].map((m) =>
      Buffer.from(m[1], 'base64'),
    );
    assert.equal(images.length, 2, markdown.slice(0, 200));
    assert.match(markdown, /Right: what the network is fed with nibabel_conform, the 256³ 1 mm training grid/);
    // The training picture (256 px drawn at 160) shows the lesion: some red, not all red.
    const red = redPixels(images[1]);
    assert.ok(red > 0 && red < (160 * 160) / 4, `red pixels ${red}`);
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
