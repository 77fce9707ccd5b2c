/**
 * nibabel's `as_closest_canonical` on voxel indices: `io_orientation` picks, for each array axis,
 * the world axis it is closest to and its sign; the canonical array is the file's array flipped
 * and transposed so that axes run R, A, S. Nothing is resampled, so it is applied to indices.
 */
import { fma } from './extended';
import type { Affine } from './nibabelAffine';

/** For each array axis: the canonical axis it becomes and whether it is flipped. */
export interface Orientation {
  axis: number[];
  flip: boolean[];
}

const IDENTITY: Orientation = { axis: [0, 1, 2], flip: [false, false, false] };

function transpose(m: number[][]): number[][] {
  return m[0].map((_, j) => m.map((row) => row[j]));
}

function inverse3(m: number[][]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const A = e * i - f * h,
    B = -(d * i - f * g),
    C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [
    [A / det, -(b * i - c * h) / det, (b * f - c * e) / det],
    [B / det, (a * i - c * g) / det, -(a * f - c * d) / det],
    [C / det, -(a * h - b * g) / det, (a * e - b * d) / det],
  ];
}

/**
 * The rotation closest to `m` (the orthogonal factor of its polar decomposition, which nibabel
 * takes from an SVD), by Newton's iteration R <- (R + R^-T) / 2. Only the signs and the largest
 * entry of each column are used, so iterating to convergence is exact enough.
 */
function closestRotation(m: number[][]): number[][] | undefined {
  let r = m.map((row) => [...row]);
  for (let k = 0; k < 100; k++) {
    const inv = inverse3(r);
    if (!inv.every((row) => row.every(Number.isFinite))) return undefined;
    const next = r.map((row, i) => row.map((v, j) => (v + transpose(inv)[i][j]) / 2));
    const change = Math.max(...next.flat().map((v, i) => Math.abs(v - r.flat()[i])));
    r = next;
    if (change < 1e-15) break;
  }
  return r;
}

/** nibabel's `io_orientation(affine)` for a 3-D affine; undefined for a singular one. */
export function ioOrientation(affine: Affine): Orientation | undefined {
  const rzs = affine.slice(0, 3).map((row) => row.slice(0, 3));
  const zooms = [0, 1, 2].map((j) => Math.sqrt(rzs[0][j] ** 2 + rzs[1][j] ** 2 + rzs[2][j] ** 2) || 1);
  const rs = rzs.map((row) => row.map((v, j) => v / zooms[j]));
  const r = closestRotation(rs);
  if (!r) return undefined;
  const axis: number[] = [];
  const flip: boolean[] = [];
  for (let inAxis = 0; inAxis < 3; inAxis++) {
    const column = r.map((row) => row[inAxis]);
    let out = 0;
    for (let k = 1; k < 3; k++) if (Math.abs(column[k]) > Math.abs(column[out])) out = k;
    if (column[out] === 0) return undefined;
    axis.push(out);
    flip.push(column[out] < 0);
    for (let j = 0; j < 3; j++) r[out][j] = 0;
  }
  return new Set(axis).size === 3 ? { axis, flip } : undefined;
}

export function isIdentity(o: Orientation): boolean {
  return o.axis.every((a, i) => a === IDENTITY.axis[i]) && o.flip.every((f) => !f);
}

/** A 3-D array's geometry as nibabel holds it: shape and affine. */
export interface Grid {
  shape: [number, number, number];
  affine: Affine;
}

/**
 * The canonical grid (`as_closest_canonical(img)`): shape permuted, affine = affine @
 * inv_ornt_aff(ornt, shape), whose flipped columns move the origin to the far end (n - 1).
 */
export function canonicalGrid(grid: Grid, o: Orientation): Grid {
  if (isIdentity(o)) return grid;
  const shape = [0, 0, 0] as [number, number, number];
  const affine = grid.affine.map((row) => [...row]);
  for (let i = 0; i < 3; i++) shape[o.axis[i]] = grid.shape[i];
  for (let r = 0; r < 3; r++) {
    const row = grid.affine[r];
    // Translation: sum of a_k (n_k - 1) over flipped axes, then t, fused in axis order as numpy's dot (OpenBLAS dgemm) sums.
    let t = 0;
    for (let k = 0; k < 3; k++) t = fma(row[k], o.flip[k] ? grid.shape[k] - 1 : 0, t);
    affine[r][3] = fma(row[3], 1, t);
    for (let k = 0; k < 3; k++) affine[r][o.axis[k]] = o.flip[k] ? -row[k] : row[k];
  }
  return { shape, affine };
}

/** The file-array index along each axis of canonical index `c`. */
export function fileIndex(c: number[], o: Orientation, fileShape: number[]): number[] {
  return [0, 1, 2].map((k) => (o.flip[k] ? fileShape[k] - 1 - c[o.axis[k]] : c[o.axis[k]]));
}
