/**
 * What arc-meshchop's `preprocess_volume` (src/arc_meshchop/data/preprocessing.py) makes of a
 * sample's mask, computed from the two headers and the mask's lesion voxels, never from
 * resampled volumes. Both methods start from `nib.as_closest_canonical` (a flip/permute of
 * indices, see orientation.ts) and end with `(mask > 0)` in a 256³ grid of 1 mm voxels:
 * - scipy_zoom: `ndimage.zoom(mask, spacing / 1, order=0)` then a centred crop/pad. Zoom is
 *   separable: each output index along an axis reads one input index (or cval 0), so the result
 *   is a product of per-axis maps. Established by running scipy (test/reference): output length
 *   round(n * zoom) (Python's round), input coordinate o * (n - 1) / (m - 1), rounded as
 *   floor(c + 0.5), and a coordinate beyond n - 1 (float error at the last index) reads cval 0.
 * - nibabel_conform: the mask resampled with `resample_from_to(mask, conform(image), order=0)`,
 *   an affine map from output voxels to mask voxels; only the lesion's bounding box mapped into
 *   the output grid is visited. affine_transform(mode='constant') reads cval 0 for a coordinate
 *   outside [0, n - 1] on any axis, else the voxel floor(c + 0.5).
 */
import { FormatError } from '../io/source';
import { forEachVoxel, LesionMask } from './lesionMask';
import { blasMatmul } from './extended';
import type { Affine } from './nibabelAffine';
import { canonicalGrid, Grid, ioOrientation, Orientation } from './orientation';

export const RESAMPLE_METHODS = ['scipy_zoom', 'nibabel_conform'] as const;
export type ResampleMethod = (typeof RESAMPLE_METHODS)[number];
/** arc-meshchop's default (`--resample-method scipy_zoom`). */
export const DEFAULT_RESAMPLE_METHOD: ResampleMethod = 'scipy_zoom';

/** preprocess_volume's target_shape (256,256,256) and target_spacing (1,1,1) mm. */
export const TARGET_SIZE = 256;
export const TARGET_SPACING_MM = 1;
/** Output voxels the conform model visits at most (the lesion's box in the 1 mm grid, crop included). */
const MAX_VISITED = 2 ** 28;

/** A 256³ set of output voxels, one bit each (2 MiB). */
export class OutputMask {
  readonly bits = new Uint32Array(TARGET_SIZE ** 3 / 32);
  count = 0;
  set(x: number, y: number, z: number): void {
    const i = x + TARGET_SIZE * (y + TARGET_SIZE * z);
    const word = i >>> 5;
    const bit = 1 << (i & 31);
    if (!(this.bits[word] & bit)) {
      this.bits[word] |= bit;
      this.count++;
    }
  }
  has(x: number, y: number, z: number): boolean {
    const i = x + TARGET_SIZE * (y + TARGET_SIZE * z);
    return (this.bits[i >>> 5] & (1 << (i & 31))) !== 0;
  }
}

export function popcount(word: number): number {
  word -= (word >>> 1) & 0x55555555;
  word = (word & 0x33333333) + ((word >>> 2) & 0x33333333);
  return (((word + (word >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** 2|A ∩ B| / (|A| + |B|), or null when both are empty (numpy would give nan). */
export function dice(a: OutputMask, b: OutputMask): number | null {
  if (a.count + b.count === 0) return null;
  let both = 0;
  for (let i = 0; i < a.bits.length; i++) if (a.bits[i] & b.bits[i]) both += popcount(a.bits[i] & b.bits[i]);
  return (2 * both) / (a.count + b.count);
}

/** Mean output voxel (x, y, z) of a set, in the 1 mm grid; undefined when empty. */
export function centroid(mask: OutputMask): [number, number, number] | undefined {
  if (mask.count === 0) return undefined;
  const sum = [0, 0, 0];
  for (let w = 0; w < mask.bits.length; w++) {
    let word = mask.bits[w];
    while (word !== 0) {
      const bit = 31 - Math.clz32(word & -word);
      word &= word - 1;
      const i = w * 32 + bit;
      sum[0] += i % TARGET_SIZE;
      sum[1] += Math.floor(i / TARGET_SIZE) % TARGET_SIZE;
      sum[2] += Math.floor(i / (TARGET_SIZE * TARGET_SIZE));
    }
  }
  return sum.map((s) => s / mask.count) as [number, number, number];
}

/** Python's round(): half to even. */
function pythonRound(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** One axis of scipy's zoom(order=0) followed by crop_or_pad to TARGET_SIZE. */
export interface ZoomAxis {
  /** Length after zoom, before the crop/pad. */
  zoomed: number;
  /** For each output index 0..255: the input index it reads, or -1 (padding, crop, cval). */
  source: Int32Array;
  /** For each input index: how many zoomed indices (before the crop) read it. */
  before: Int32Array;
}

export function zoomAxis(n: number, spacing: number): ZoomAxis {
  const zoomed = pythonRound(n * (spacing / TARGET_SPACING_MM));
  const ratio = zoomed > 1 ? (n - 1) / (zoomed - 1) : 1;
  const read = (o: number) => {
    const c = o * ratio;
    return c > n - 1 ? -1 : Math.floor(c + 0.5);
  };
  const before = new Int32Array(n);
  for (let o = 0; o < zoomed; o++) {
    const i = read(o);
    if (i >= 0) before[i]++;
  }
  // crop_or_pad: crop start (m - 256) // 2 when longer, else pad start (256 - m) // 2.
  const shift = zoomed > TARGET_SIZE ? Math.floor((zoomed - TARGET_SIZE) / 2) : -Math.floor((TARGET_SIZE - zoomed) / 2);
  const source = new Int32Array(TARGET_SIZE).fill(-1);
  for (let p = 0; p < TARGET_SIZE; p++) {
    const o = p + shift;
    if (o >= 0 && o < zoomed) source[p] = read(o);
  }
  return { zoomed, source, before };
}

/** get_spacing: the column norms of the affine's 3x3 part. */
export function spacingOf(affine: Affine): [number, number, number] {
  return [0, 1, 2].map((j) => Math.sqrt(affine[0][j] ** 2 + affine[1][j] ** 2 + affine[2][j] ** 2)) as [
    number,
    number,
    number,
  ];
}

/** A file's geometry after `as_closest_canonical`, with the map back to file indices. */
export interface Canonical {
  file: Grid;
  orientation: Orientation;
  grid: Grid;
}

export function canonical(file: Grid): Canonical {
  const orientation = ioOrientation(file.affine);
  if (!orientation)
    throw new FormatError('the affine is singular: nibabel cannot orient it (as_closest_canonical fails)');
  return { file, orientation, grid: canonicalGrid(file, orientation) };
}

/**
 * The file's linear voxel index of canonical voxel c as base + Σ coef[a] c[a]: the canonical
 * array is the file's flipped and transposed, so each canonical axis is one file axis times ±1.
 */
function canonicalToFile(mask: LesionMask, geometry: Canonical): { base: number; coef: number[] } {
  const strides = [1, mask.shape[0], mask.shape[0] * mask.shape[1]];
  const coef = [0, 0, 0];
  let base = 0;
  for (let k = 0; k < 3; k++) {
    const a = geometry.orientation.axis[k];
    if (geometry.orientation.flip[k]) {
      coef[a] = -strides[k];
      base += (mask.shape[k] - 1) * strides[k];
    } else coef[a] = strides[k];
  }
  return { base, coef };
}

export interface MethodResult {
  mask: OutputMask;
  /** Lesion voxels of the resampled mask that the 256³ box leaves out. */
  cropped: number;
}

/** scipy_zoom: the mask alone, by its own canonical shape and voxel sizes. */
export function scipyZoomMask(mask: LesionMask, geometry: Canonical): MethodResult {
  const spacing = spacingOf(geometry.grid.affine);
  const axes = [0, 1, 2].map((k) => zoomAxis(geometry.grid.shape[k], spacing[k]));
  // For each canonical input index: the output indices that read it.
  const readers = axes.map((axis, k) => {
    const lists: number[][] = Array.from({ length: geometry.grid.shape[k] }, () => []);
    axis.source.forEach((i, p) => {
      if (i >= 0) lists[i].push(p);
    });
    return lists;
  });
  const out = new OutputMask();
  let before = 0;
  const o = geometry.orientation;
  const c = [0, 0, 0];
  forEachVoxel(mask, (x, y, z) => {
    const f = [x, y, z];
    for (let k = 0; k < 3; k++) c[o.axis[k]] = o.flip[k] ? mask.shape[k] - 1 - f[k] : f[k];
    before += axes[0].before[c[0]] * axes[1].before[c[1]] * axes[2].before[c[2]];
    for (const px of readers[0][c[0]])
      for (const py of readers[1][c[1]]) for (const pz of readers[2][c[2]]) out.set(px, py, pz);
  });
  return { mask: out, cropped: before - out.count };
}

/**
 * numpy.linalg.inv (LAPACK gesv against the identity, as OpenBLAS computes it): left-looking LU
 * with partial pivoting, multipliers and back substitution scaled by the reciprocal of the
 * pivot, not divided by it. The order matters: conform puts output voxels exactly on mask voxel
 * centres and edges, where one unit in the last place decides whether a voxel is read.
 */
export function invertAffine(m: Affine): Affine {
  const n = 4;
  const a = m.map((row) => [...row]);
  const pivots: number[] = [];
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      let sum = a[i][j];
      for (let k = 0; k < Math.min(i, j); k++) sum -= a[i][k] * a[k][j];
      a[i][j] = sum;
    }
    let p = j;
    for (let i = j + 1; i < n; i++) if (Math.abs(a[i][j]) > Math.abs(a[p][j])) p = i;
    pivots.push(p);
    if (a[p][j] === 0 || !Number.isFinite(a[p][j]))
      throw new FormatError('the mask affine is singular (numpy.linalg.inv raises LinAlgError)');
    [a[j], a[p]] = [a[p], a[j]];
    const reciprocal = 1 / a[j][j];
    for (let i = j + 1; i < n; i++) a[i][j] *= reciprocal;
  }
  const b = [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j) => (i === j ? 1 : 0)));
  pivots.forEach((p, j) => ([b[j], b[p]] = [b[p], b[j]]));
  for (let col = 0; col < n; col++) {
    for (let k = 0; k < n; k++) for (let i = k + 1; i < n; i++) b[i][col] -= b[k][col] * a[i][k];
    for (let k = n - 1; k >= 0; k--) {
      b[k][col] *= 1 / a[k][k];
      for (let i = 0; i < k; i++) b[i][col] -= b[k][col] * a[i][k];
    }
  }
  return b;
}

/**
 * nibabel.processing.conform(image, (256,)*3, (1,)*3, orientation='RAS')'s affine (nibabel 5):
 * the canonical image reoriented to RAS, then rescale_affine: the image's direction cosines at
 * 1 mm, centred so that output voxel (255 // 2) sits on image voxel (shape - 1) // 2.
 */
export function conformedAffine(image: Canonical): Affine {
  const again = canonical(image.grid).grid;
  const a = again.affine;
  const s = spacingOf(a);
  const rzs = [0, 1, 2].map((i) => [0, 1, 2].map((j) => (a[i][j] * TARGET_SPACING_MM) / s[j]));
  const centre = again.shape.map((n) => Math.floor((n - 1) / 2));
  const half = Math.floor((TARGET_SIZE - 1) / 2);
  return [
    ...[0, 1, 2].map((i) => {
      const centroid = a[i][0] * centre[0] + a[i][1] * centre[1] + a[i][2] * centre[2] + a[i][3];
      return [...rzs[i], centroid - (rzs[i][0] * half + rzs[i][1] * half + rzs[i][2] * half)];
    }),
    [0, 0, 0, 1],
  ];
}

/** nibabel_conform: output voxel p reads mask voxel round(V p + t) of the canonical mask. */
export function conformMask(mask: LesionMask, geometry: Canonical, image: Canonical): MethodResult {
  const out = new OutputMask();
  if (mask.count === 0) return { mask: out, cropped: 0 };
  const v = blasMatmul(invertAffine(geometry.grid.affine), conformedAffine(image));
  const n = geometry.grid.shape;
  // The lesion's box in canonical mask indices, widened by half a voxel, mapped into the output grid.
  const lo = [0, 0, 0];
  const hi = [0, 0, 0];
  const corners: number[][] = [];
  const fileMin = mask.min!;
  const fileMax = mask.max!;
  for (let k = 0; k < 3; k++) {
    // File axis k becomes canonical axis o.axis[k] (flipped or not): the box is the same set.
    const axis = geometry.orientation.axis[k];
    const flip = geometry.orientation.flip[k];
    lo[axis] = flip ? mask.shape[k] - 1 - fileMax[k] : fileMin[k];
    hi[axis] = flip ? mask.shape[k] - 1 - fileMin[k] : fileMax[k];
  }
  for (const x of [lo[0] - 0.5, hi[0] + 0.5])
    for (const y of [lo[1] - 0.5, hi[1] + 0.5]) for (const z of [lo[2] - 0.5, hi[2] + 0.5]) corners.push([x, y, z]);
  const back = invertAffine(v);
  const mapped = corners.map((c) =>
    [0, 1, 2].map((i) => back[i][0] * c[0] + back[i][1] * c[1] + back[i][2] * c[2] + back[i][3]),
  );
  const from = [0, 1, 2].map((i) => Math.floor(Math.min(...mapped.map((p) => p[i]))) - 1);
  const to = [0, 1, 2].map((i) => Math.ceil(Math.max(...mapped.map((p) => p[i]))) + 1);
  const visits = (to[0] - from[0] + 1) * (to[1] - from[1] + 1) * (to[2] - from[2] + 1);
  if (!(visits <= MAX_VISITED))
    throw new FormatError(
      `the lesion spans ${visits} voxels of the 1 mm grid, more than the ${MAX_VISITED} the model visits (implausible voxel sizes?)`,
    );
  let outside = 0;
  const { base, coef } = canonicalToFile(mask, geometry);
  const bits = mask.bits;
  const [v0, v1, v2] = v;
  for (let pz = from[2]; pz <= to[2]; pz++) {
    for (let py = from[1]; py <= to[1]; py++) {
      for (let px = from[0]; px <= to[0]; px++) {
        // affine_transform's coordinate: products summed in output-axis order, then the shift.
        const c0 = v0[0] * px + v0[1] * py + v0[2] * pz + v0[3];
        if (!(c0 >= 0 && c0 <= n[0] - 1)) continue;
        const c1 = v1[0] * px + v1[1] * py + v1[2] * pz + v1[3];
        if (!(c1 >= 0 && c1 <= n[1] - 1)) continue;
        const c2 = v2[0] * px + v2[1] * py + v2[2] * pz + v2[3];
        if (!(c2 >= 0 && c2 <= n[2] - 1)) continue;
        const i =
          base + coef[0] * Math.floor(c0 + 0.5) + coef[1] * Math.floor(c1 + 0.5) + coef[2] * Math.floor(c2 + 0.5);
        if ((bits[i >>> 5] & (1 << (i & 31))) === 0) continue;
        if (px >= 0 && px < TARGET_SIZE && py >= 0 && py < TARGET_SIZE && pz >= 0 && pz < TARGET_SIZE)
          out.set(px, py, pz);
        else outside++;
      }
    }
  }
  return { mask: out, cropped: outside };
}

export interface SampleGeometry {
  image: Grid;
  mask: Grid;
}

export interface PreprocessedMasks {
  scipy_zoom: MethodResult;
  nibabel_conform: MethodResult;
}

/** Both methods' preprocessed masks of one sample. */
export function preprocessMasks(mask: LesionMask, geometry: SampleGeometry): PreprocessedMasks {
  const maskCanonical = canonical(geometry.mask);
  const imageCanonical = canonical(geometry.image);
  return {
    scipy_zoom: scipyZoomMask(mask, maskCanonical),
    nibabel_conform: conformMask(mask, maskCanonical, imageCanonical),
  };
}
