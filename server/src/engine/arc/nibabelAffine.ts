/**
 * The affine nibabel gives an image (`header.get_best_affine()`), computed from the raw header
 * fields: the sform when sform_code != 0, else the qform when qform_code != 0, else the
 * shape-centred base affine with the x axis flipped. nifti-reader-js prefers the qform when its
 * code is higher, which is not what training sees, so the choice is made here again.
 */
import { FormatError } from '../io/source';
import { add, div, Extended, fromNumber, lessThan, mul, sqrt, sub, toNumber } from './extended';

export type Affine = number[][];

/** numpy's float32 machine epsilon: nibabel tolerates w² of the qform quaternion down to -3 eps. */
const FLOAT32_EPS = 2 ** -23;

interface RawGeometry {
  dims: number[];
  pixdim: number[];
  qformCode: number;
  sformCode: number;
  quatern: [number, number, number];
  qoffset: [number, number, number];
  srow: [number[], number[], number[]];
}

/** Reads the geometry fields of a NIfTI-1 (348-byte) or NIfTI-2 (540-byte) header. */
function rawGeometry(header: Uint8Array, littleEndian: boolean): RawGeometry {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const nifti2 = view.getInt32(0, littleEndian) === 540;
  const float = (at: number) => (nifti2 ? view.getFloat64(at, littleEndian) : view.getFloat32(at, littleEndian));
  const floats = (at: number, n: number) => Array.from({ length: n }, (_, i) => float(at + i * (nifti2 ? 8 : 4)));
  const dims = nifti2
    ? Array.from({ length: 8 }, (_, i) => Number(view.getBigInt64(16 + 8 * i, littleEndian)))
    : Array.from({ length: 8 }, (_, i) => view.getInt16(40 + 2 * i, littleEndian));
  const code = (at1: number, at2: number) =>
    nifti2 ? view.getInt32(at2, littleEndian) : view.getInt16(at1, littleEndian);
  const q = nifti2 ? 352 : 256;
  const s = nifti2 ? 400 : 280;
  const step = nifti2 ? 32 : 16;
  return {
    dims,
    pixdim: floats(nifti2 ? 104 : 76, 8),
    qformCode: code(252, 344),
    sformCode: code(254, 348),
    quatern: floats(q, 3) as [number, number, number],
    qoffset: floats(q + (nifti2 ? 24 : 12), 3) as [number, number, number],
    srow: [floats(s, 4), floats(s + step, 4), floats(s + 2 * step, 4)],
  };
}

/** nibabel's quaternions.quat2mat on [w, x, y, z], in longdouble as nibabel computes it. */
function quaternionMatrix(w: Extended, x: Extended, y: Extended, z: Extended): Extended[][] | undefined {
  const norm = add(add(add(mul(w, w), mul(x, x)), mul(y, y)), mul(z, z));
  if (lessThan(norm, fromNumber(Number.EPSILON))) return undefined;
  const s = div(fromNumber(2), norm);
  const [X, Y, Z] = [mul(x, s), mul(y, s), mul(z, s)];
  const [wX, wY, wZ] = [mul(w, X), mul(w, Y), mul(w, Z)];
  const [xX, xY, xZ] = [mul(x, X), mul(x, Y), mul(x, Z)];
  const [yY, yZ, zZ] = [mul(y, Y), mul(y, Z), mul(z, Z)];
  const one = fromNumber(1);
  return [
    [sub(one, add(yY, zZ)), sub(xY, wZ), add(xZ, wY)],
    [add(xY, wZ), sub(one, add(xX, zZ)), sub(yZ, wX)],
    [sub(xZ, wY), add(yZ, wX), sub(one, add(xX, yY))],
  ];
}

function qformAffine(g: RawGeometry): Affine {
  const [b, c, d] = g.quatern.map(fromNumber);
  // fillpositive: w² = 1 - xyz·xyz in longdouble; down to -3 float32 eps counts as 0.
  const w2 = sub(fromNumber(1), add(add(mul(b, b), mul(c, c)), mul(d, d)));
  if (lessThan(w2, fromNumber(-3 * FLOAT32_EPS))) {
    throw new FormatError(
      `qform quaternion (b, c, d) has length > 1 (nibabel: nib.load raises ValueError, "w2 should be positive")`,
    );
  }
  const w = lessThan(w2, fromNumber(0)) ? fromNumber(0) : sqrt(w2);
  const rotation = quaternionMatrix(w, b, c, d);
  const qfac = g.pixdim[0] === -1 ? -1 : 1; // nib.load fixes any other qfac to 1
  const voxel = [Math.abs(g.pixdim[1]), Math.abs(g.pixdim[2]), Math.abs(g.pixdim[3]) * qfac].map(fromNumber);
  const entry = (i: number, j: number) =>
    rotation ? toNumber(mul(rotation[i][j], voxel[j])) : i === j ? toNumber(voxel[j]) : 0;
  return [
    [entry(0, 0), entry(0, 1), entry(0, 2), g.qoffset[0]],
    [entry(1, 0), entry(1, 1), entry(1, 2), g.qoffset[1]],
    [entry(2, 0), entry(2, 1), entry(2, 2), g.qoffset[2]],
    [0, 0, 0, 1],
  ];
}

/** nibabel's shape_zoom_affine (x flipped), for headers with neither code set. */
function baseAffine(g: RawGeometry): Affine {
  const rank = g.dims[0];
  const shape = [0, 1, 2].map((i) => (i < rank ? g.dims[i + 1] : 1));
  const zooms = [0, 1, 2].map((i) => (i < rank ? Math.abs(g.pixdim[i + 1]) : 1));
  zooms[0] *= -1;
  const origin = shape.map((n) => (n - 1) / 2.0);
  return [
    [zooms[0], 0, 0, -origin[0] * zooms[0]],
    [0, zooms[1], 0, -origin[1] * zooms[1]],
    [0, 0, zooms[2], -origin[2] * zooms[2]],
    [0, 0, 0, 1],
  ];
}

/** `nib.load(path).affine`, from the header bytes (at least the 348 or 540 header bytes). */
export function nibabelAffine(header: Uint8Array, littleEndian: boolean): Affine {
  const g = rawGeometry(header, littleEndian);
  if (g.sformCode !== 0) return [...g.srow.map((row) => [...row]), [0, 0, 0, 1]];
  if (g.qformCode !== 0) return qformAffine(g);
  return baseAffine(g);
}
