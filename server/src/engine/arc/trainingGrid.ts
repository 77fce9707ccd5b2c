/**
 * The picture of what the network is fed: one axial slice of the 256³ training grid, the
 * preprocessed mask over the image resampled the same way. The mask is the model's (exact); the
 * image is drawn nearest-neighbour from its own voxels (training interpolates it linearly, which
 * a picture need not reproduce), read only where the slice needs them.
 */
import type { LesionMask } from './lesionMask';
import type { Grid } from './orientation';
import { fileIndex } from './orientation';
import { blasMatmul } from './extended';
import {
  canonical,
  conformedAffine,
  conformMask,
  invertAffine,
  OutputMask,
  ResampleMethod,
  scipyZoomMask,
  spacingOf,
  TARGET_SIZE,
  zoomAxis,
} from './preprocessing';

export interface TrainingSlicePlan {
  /** The output slice (third axis of the training grid) with the most lesion voxels. */
  z: number;
  /** Preprocessed mask of that slice, x fastest, 1 for lesion. */
  mask: Float64Array;
  /** Image file voxels to read (ascending linear indices), and for each pixel its entry in them (-1: background). */
  pick: Float64Array;
  pixel: Int32Array;
}

export function planTrainingSlice(
  lesion: LesionMask,
  maskGrid: Grid,
  imageGrid: Grid,
  method: ResampleMethod,
): TrainingSlicePlan {
  const m = canonical(maskGrid);
  const i = canonical(imageGrid);
  const out: OutputMask = method === 'scipy_zoom' ? scipyZoomMask(lesion, m).mask : conformMask(lesion, m, i).mask;
  const plane = TARGET_SIZE * TARGET_SIZE;
  let z = TARGET_SIZE >> 1;
  let best = 0;
  for (let k = 0; k < TARGET_SIZE; k++) {
    let n = 0;
    for (let y = 0; y < TARGET_SIZE; y++) for (let x = 0; x < TARGET_SIZE; x++) if (out.has(x, y, k)) n++;
    if (n > best) [best, z] = [n, k];
  }
  const mask = new Float64Array(plane);
  for (let y = 0; y < TARGET_SIZE; y++)
    for (let x = 0; x < TARGET_SIZE; x++) if (out.has(x, y, z)) mask[x + TARGET_SIZE * y] = 1;
  const n = i.grid.shape;
  const source = new Float64Array(plane).fill(-1);
  if (method === 'scipy_zoom') {
    const spacing = spacingOf(i.grid.affine);
    const axes = [0, 1, 2].map((k) => zoomAxis(n[k], spacing[k]).source);
    for (let y = 0; y < TARGET_SIZE; y++)
      for (let x = 0; x < TARGET_SIZE; x++) {
        const c = [axes[0][x], axes[1][y], axes[2][z]];
        if (c.every((v) => v >= 0))
          source[x + TARGET_SIZE * y] = linear(fileIndex(c, i.orientation, imageGrid.shape), imageGrid.shape);
      }
  } else {
    const v = blasMatmul(invertAffine(i.grid.affine), conformedAffine(i));
    for (let y = 0; y < TARGET_SIZE; y++)
      for (let x = 0; x < TARGET_SIZE; x++) {
        const c = [0, 1, 2].map((r) => v[r][0] * x + v[r][1] * y + v[r][2] * z + v[r][3]);
        if (c.every((cc, r) => cc >= 0 && cc <= n[r] - 1))
          source[x + TARGET_SIZE * y] = linear(
            fileIndex(
              c.map((cc) => Math.floor(cc + 0.5)),
              i.orientation,
              imageGrid.shape,
            ),
            imageGrid.shape,
          );
      }
  }
  const pick = Float64Array.from(new Set(Array.from(source).filter((s) => s >= 0))).sort();
  const where = new Map(Array.from(pick, (p, k) => [p, k]));
  const pixel = Int32Array.from(source, (s) => (s >= 0 ? where.get(s)! : -1));
  return { z, mask, pick, pixel };
}

function linear(f: number[], shape: number[]): number {
  return f[0] + shape[0] * (f[1] + shape[1] * f[2]);
}

/** The image slice of the plan from the picked values (background 0). */
export function trainingSliceValues(
  plan: TrainingSlicePlan,
  picked: Float64Array,
): { width: number; height: number; values: Float64Array } {
  return {
    width: TARGET_SIZE,
    height: TARGET_SIZE,
    values: Float64Array.from(plan.pixel, (k) => (k >= 0 ? picked[k] : 0)),
  };
}
