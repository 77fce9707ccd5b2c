/**
 * Lesion-volume counts against nibabel itself: volumes written by nibabel (an independent
 * writer) in every integer and float datatype, both byte orders, NIfTI-1 and -2, .nii and
 * .nii.gz, 4-D, with extensions and scaling (incl. negative and zero slopes); the count must
 * equal `int((img.get_fdata() > 0).sum())`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { summarizeNifti } from '../../server/src/engine/arc/nifti';
import { memorySource } from '../../server/src/engine/io/source';
import { pythonWith, runPython, tempDir } from '../support/python';

const nibabel = pythonWith('nibabel', 'numpy');

const WRITE = `
import gzip, json, struct, sys, numpy as np, nibabel as nib
out = sys.argv[1]

def patch_scaling(path, nifti2, order, slope, inter):
    # nib.save recomputes scl_slope/scl_inter, so planted scalings are patched into the bytes.
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f: raw = bytearray(f.read())
    if nifti2: struct.pack_into(order + 'dd', raw, 176, slope, inter)
    else: struct.pack_into(order + 'ff', raw, 112, slope, inter)
    with opener(path, 'wb') as f: f.write(bytes(raw))

rng = np.random.default_rng(11)
cases = {}
n = 0
for cls in [nib.Nifti1Image, nib.Nifti2Image]:
    for dtype in ['u1', 'i1', 'i2', 'u2', 'i4', 'u4', 'i8', 'u8', 'f4', 'f8']:
        for order in ['<', '>']:
            for slope, inter in [(np.nan, 0.0), (1.0, 0.0), (0.0, 5.0), (-1.0, 0.0), (2.5, -1.5), (0.5, 0.25)]:
                shape = (7, 6, 5) if n % 3 else (5, 4, 3, 2)
                base = rng.integers(-3, 4, size=shape)
                if dtype[0] == 'u': base = np.abs(base)
                data = base.astype(order + dtype)
                if dtype[0] == 'f':
                    data = (base * 0.75).astype(order + dtype)
                    data.flat[0] = np.nan
                    data.flat[1] = -0.0
                    data.flat[2] = 1e-40 if dtype == 'f4' else 5e-324
                img = cls(data, np.diag([0.9, 0.9, 1.2, 1]), dtype=np.dtype(order + dtype))
                if n % 4 == 0:
                    img.header.extensions.append(nib.nifti1.Nifti1Extension(6, b'neurocache test extension ' * 3))
                img.header['descrip'] = b'a description well over twenty characters long'
                ext = '.nii.gz' if n % 2 else '.nii'
                name = f"c{n:03d}_{cls.__name__}_{order}{dtype}{ext}".replace('<', 'le').replace('>', 'be')
                nib.save(img, f"{out}/{name}")
                patch_scaling(f"{out}/{name}", cls is nib.Nifti2Image, order, slope, inter)
                loaded = nib.load(f"{out}/{name}")
                cases[name] = {"count": int((loaded.get_fdata() > 0).sum()), "shape": list(loaded.shape),
                               "zooms": [float(z) for z in loaded.header.get_zooms()]}
                n += 1
# Volumes many counting blocks long: whole blocks of 0 and of 1 (counted at once), mixed blocks
# and a ragged tail, where a positive intercept makes every zero voxel count and a negative slope none.
for dtype in ['u1', 'i1', 'i2', 'f4', 'f8']:
    for order in ['<', '>']:
        for slope, inter in [(np.nan, 0.0), (-1.0, 0.0), (0.5, 0.25), (2.0, -1.0)]:
            data = np.zeros((61, 67, 9), order + dtype)
            data[:, :, 3] = 1
            data[5:20, 7:9, 6] = rng.integers(-2, 3, size=(15, 2)).astype(order + dtype)
            if dtype[0] == 'f':
                data[0, 0, 7] = np.nan
                data[1, 0, 7] = -0.0
            name = f"b{n:03d}_{order}{dtype}.nii.gz".replace('<', 'le').replace('>', 'be')
            nib.save(nib.Nifti1Image(data, np.eye(4), dtype=np.dtype(order + dtype)), f"{out}/{name}")
            patch_scaling(f"{out}/{name}", False, order, slope, inter)
            loaded = nib.load(f"{out}/{name}")
            cases[name] = {"count": int((loaded.get_fdata() > 0).sum()), "shape": list(loaded.shape),
                           "zooms": [float(z) for z in loaded.header.get_zooms()]}
            n += 1
print(json.dumps(cases))
`;

test(
  'positive voxels equal nibabel get_fdata() > 0',
  { skip: !nibabel && 'no python3 with nibabel (apt-get install python3-nibabel)' },
  async () => {
    const dir = tempDir();
    const cases = runPython<Record<string, { count: number; shape: number[]; zooms: number[] }>>(nibabel!, WRITE, [
      dir,
    ]);
    assert.ok(Object.keys(cases).length >= 200);
    for (const [name, expected] of Object.entries(cases)) {
      const summary = await summarizeNifti(memorySource(readFileSync(path.join(dir, name))), { countVoxels: true });
      assert.equal(summary.positiveVoxels, expected.count, name);
      assert.deepEqual(summary.shape, expected.shape, name);
      assert.deepEqual(
        summary.voxelSize.map((z) => Math.fround(z)),
        expected.zooms.map((z) => Math.fround(z)),
        name,
      );
    }
  },
);
