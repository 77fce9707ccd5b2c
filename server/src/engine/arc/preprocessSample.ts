/**
 * The facts about one sample that the preprocessing findings, `stats --preprocessing` and the
 * hover need, from the image's header and the mask's header and lesion voxels. Plain JSON, so
 * that they are remembered by fingerprint and a re-check reads no voxels.
 */
import { FormatError } from '../io/source';
import type { LesionMask } from './lesionMask';
import type { NiftiContent, NiftiSummary } from './nifti';
import type { Affine } from './nibabelAffine';
import {
  Canonical,
  canonical,
  centroid,
  conformMask,
  dice,
  OutputMask,
  RESAMPLE_METHODS,
  ResampleMethod,
  scipyZoomMask,
  spacingOf,
  zoomAxis,
} from './preprocessing';
import type { Grid } from './orientation';

/** nnU-Net's verify_dataset_integrity compares image and label geometry with np.isclose(rtol=1e-3, atol=1e-4). */
export const GEOMETRY_RTOL = 1e-3;
export const GEOMETRY_ATOL = 1e-4;

/** How the lesion moves, in one method, against where the other file's header puts it. */
export interface Displacement {
  /** Dice between the mask training builds and the mask placed consistently with the image. */
  dice: number | null;
  /** Distance between their lesion centroids, in mm (the 1 mm output grid). */
  shiftMm: number;
  /** What "placed consistently" means here: the mask's voxels on the image's grid, or its header. */
  against: 'image-grid' | 'mask-header';
}

export interface PreprocessingFacts {
  /** Lesion voxels (> 0) of the mask as stored. */
  originalVoxels: number;
  /** The lesion's volume in mm³ (voxels × the mask's voxel volume): about what a 1 mm grid keeps. */
  lesionVolumeMm3: number;
  lesionVoxels: Record<ResampleMethod, number>;
  croppedVoxels: Record<ResampleMethod, number>;
  diceBetweenMethods: number | null;
  /** Methods in which the headers' disagreement moves the lesion relative to the image. */
  moved: Partial<Record<ResampleMethod, Displacement>>;
  /** Canonical header differences beyond nnU-Net's tolerances ("spacing 1 vs 0.9 mm", ...). */
  headerDifferences: string[];
}

export type PreprocessingOutcome = { ok: true; facts: PreprocessingFacts } | { ok: false; error: string };

function gridOf(summary: NiftiSummary, what: string): Grid {
  if (summary.shape.length !== 3) {
    throw new FormatError(
      `the ${what} is ${summary.shape.length}-D; preprocess_volume needs 3-D volumes (ndimage.zoom and conform raise)`,
    );
  }
  if (!summary.affine) throw new FormatError(`nibabel refuses the ${what}'s qform (nib.load raises)`);
  return { shape: summary.shape as [number, number, number], affine: summary.affine };
}

function isClose(a: number, b: number): boolean {
  return Math.abs(a - b) <= GEOMETRY_ATOL + GEOMETRY_RTOL * Math.abs(b);
}

const fmt = (values: number[]) => values.map((v) => Number(v.toPrecision(4))).join(' × ');

/** Shape, spacing, origin and direction of the canonical grids, compared as nnU-Net does. */
export function headerDifferences(mask: Grid, image: Grid): string[] {
  const out: string[] = [];
  if (mask.shape.some((n, k) => n !== image.shape[k]))
    out.push(`shape ${mask.shape.join('×')} vs ${image.shape.join('×')}`);
  const ms = spacingOf(mask.affine);
  const is = spacingOf(image.affine);
  if (ms.some((s, k) => !isClose(s, is[k]))) out.push(`spacing ${fmt(ms)} vs ${fmt(is)} mm`);
  const mo = [0, 1, 2].map((i) => mask.affine[i][3]);
  const io = [0, 1, 2].map((i) => image.affine[i][3]);
  if (mo.some((v, i) => !isClose(v, io[i]))) out.push(`origin (${fmt(mo)}) vs (${fmt(io)}) mm`);
  const direction = (a: Affine, s: number[]) => [0, 1, 2].flatMap((j) => [0, 1, 2].map((i) => a[i][j] / s[j]));
  const md = direction(mask.affine, ms);
  const id = direction(image.affine, is);
  if (md.some((v, i) => !isClose(v, id[i]))) out.push('direction cosines differ');
  return out;
}

function displacement(actual: OutputMask, consistent: OutputMask, against: Displacement['against']): Displacement {
  const a = centroid(actual);
  const b = centroid(consistent);
  const shiftMm = a && b ? Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]) : 0;
  return { dice: dice(actual, consistent), shiftMm, against };
}

/** Whether scipy's zoom maps both canonical grids' voxels identically (then voxels stay aligned). */
function sameZoom(mask: Canonical, image: Canonical): boolean {
  const ms = spacingOf(mask.grid.affine);
  const is = spacingOf(image.grid.affine);
  return [0, 1, 2].every(
    (k) =>
      mask.grid.shape[k] === image.grid.shape[k] &&
      zoomAxis(mask.grid.shape[k], ms[k]).zoomed === zoomAxis(image.grid.shape[k], is[k]).zoomed,
  );
}

/** A centroid shift of at least one output voxel moves the lesion; less is resampling noise. */
export const MOVED_MM = 1;
/** Or an overlap this poor with the consistently placed mask (a stretched or squeezed lesion whose centroid stays). */
export const MOVED_DICE = 0.5;

const moves = (d: Displacement) => d.shiftMm >= MOVED_MM || (d.dice ?? 1) < MOVED_DICE;

export function preprocessingFacts(mask: NiftiContent, image: NiftiSummary): PreprocessingOutcome {
  try {
    const lesion: LesionMask | undefined = mask.lesionMask;
    const maskGrid = gridOf(mask, 'mask');
    const imageGrid = gridOf(image, 'image');
    if (!lesion) throw new FormatError('the mask voxels were not read');
    const m = canonical(maskGrid);
    const i = canonical(imageGrid);
    const zoom = scipyZoomMask(lesion, m);
    const conform = conformMask(lesion, m, i);
    const spacing = spacingOf(m.grid.affine);
    const sameShape = m.grid.shape.every((n, k) => n === i.grid.shape[k]);
    const moved: PreprocessingFacts['moved'] = {};
    if (!sameZoom(m, i)) {
      // The mask's voxels resampled by its own header; consistent: by the image's (same array), else where the headers put it.
      const consistent = sameShape
        ? scipyZoomMask(lesion, { ...m, grid: { ...m.grid, affine: i.grid.affine } }).mask
        : conform.mask;
      const d = displacement(zoom.mask, consistent, sameShape ? 'image-grid' : 'mask-header');
      if (moves(d)) moved.scipy_zoom = d;
    }
    if (sameShape) {
      // conform places the mask by its header; consistent with the image's grid: the same array with the image's affine.
      const consistent = conformMask(lesion, { ...m, grid: { ...m.grid, affine: i.grid.affine } }, i).mask;
      const d = displacement(conform.mask, consistent, 'image-grid');
      if (moves(d)) moved.nibabel_conform = d;
    }
    const counts = (pick: (r: { mask: OutputMask; cropped: number }) => number) =>
      Object.fromEntries(
        RESAMPLE_METHODS.map((method) => [method, pick(method === 'scipy_zoom' ? zoom : conform)]),
      ) as Record<ResampleMethod, number>;
    return {
      ok: true,
      facts: {
        originalVoxels: lesion.count,
        lesionVolumeMm3: lesion.count * spacing[0] * spacing[1] * spacing[2],
        lesionVoxels: counts((r) => r.mask.count),
        croppedVoxels: counts((r) => r.cropped),
        diceBetweenMethods: dice(zoom.mask, conform.mask),
        moved,
        headerDifferences: headerDifferences(m.grid, i.grid),
      },
    };
  } catch (error) {
    if (error instanceof FormatError) return { ok: false, error: error.message };
    throw error;
  }
}
