/**
 * Generated ARC-like samples (image + mask NIfTI pairs) for the preprocessing model's tests and
 * benchmark: shapes, voxel sizes, orientations (permuted, flipped, oblique), qform or sform or
 * neither, lesions anywhere (edges, single voxels), integer and scaled float masks.
 */
import { encodeNifti, encodeVoxels } from '../writers/nifti';

export type Matrix = number[][];

export interface HeaderSpec {
  shape: [number, number, number];
  /** Voxel sizes (pixdim 1..3). */
  spacing: [number, number, number];
  /** 3x3 direction cosines times flips (columns are unit vectors). */
  rotation: Matrix;
  origin: [number, number, number];
  /** How the affine is stored: sform, qform (sform_code 0), or neither (base affine). */
  storage: 'sform' | 'qform' | 'none';
}

export interface MaskSpec {
  header: HeaderSpec;
  /** Lesion voxels (file indices) and the stored value each holds. */
  voxels: [number, number, number][];
  datatype: 2 | 4 | 16;
  slope?: number;
  gzip?: boolean;
}

export interface SampleSpec {
  name: string;
  image: HeaderSpec;
  mask: MaskSpec;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function affineOf(h: HeaderSpec): Matrix {
  return [0, 1, 2]
    .map((i) => [...[0, 1, 2].map((j) => h.rotation[i][j] * h.spacing[j]), h.origin[i]])
    .concat([[0, 0, 0, 1]]);
}

function det3(m: Matrix): number {
  return (
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
  );
}

/** Quaternion (b, c, d) and qfac of a rotation with flips, as NIfTI stores a qform. */
function quaternionOf(rotation: Matrix): { quatern: [number, number, number]; qfac: number } {
  const qfac = det3(rotation) < 0 ? -1 : 1;
  const r = rotation.map((row) => [row[0], row[1], row[2] * qfac]);
  const trace = r[0][0] + r[1][1] + r[2][2];
  let a: number, b: number, c: number, d: number;
  if (trace > 0) {
    a = 0.5 * Math.sqrt(1 + trace);
    b = (r[2][1] - r[1][2]) / (4 * a);
    c = (r[0][2] - r[2][0]) / (4 * a);
    d = (r[1][0] - r[0][1]) / (4 * a);
  } else if (r[0][0] > r[1][1] && r[0][0] > r[2][2]) {
    b = 0.5 * Math.sqrt(1 + r[0][0] - r[1][1] - r[2][2]);
    a = (r[2][1] - r[1][2]) / (4 * b);
    c = (r[0][1] + r[1][0]) / (4 * b);
    d = (r[0][2] + r[2][0]) / (4 * b);
  } else if (r[1][1] > r[2][2]) {
    c = 0.5 * Math.sqrt(1 + r[1][1] - r[0][0] - r[2][2]);
    a = (r[0][2] - r[2][0]) / (4 * c);
    b = (r[0][1] + r[1][0]) / (4 * c);
    d = (r[1][2] + r[2][1]) / (4 * c);
  } else {
    d = 0.5 * Math.sqrt(1 + r[2][2] - r[0][0] - r[1][1]);
    a = (r[1][0] - r[0][1]) / (4 * d);
    b = (r[0][2] + r[2][0]) / (4 * d);
    c = (r[1][2] + r[2][1]) / (4 * d);
  }
  if (a < 0) [b, c, d] = [-b, -c, -d];
  return { quatern: [b, c, d], qfac };
}

function headerOptions(h: HeaderSpec) {
  if (h.storage === 'sform') return { pixdims: [...h.spacing], affine: affineOf(h), sformCode: 2 };
  if (h.storage === 'none') return { pixdims: [...h.spacing], sformCode: 0 };
  const { quatern, qfac } = quaternionOf(h.rotation);
  return { pixdims: [...h.spacing], sformCode: 0, qform: { code: 1, quatern, offset: h.origin, qfac } };
}

/** The image: int16 zeros with the given header (its voxels never reach the mask model). */
export function encodeImage(h: HeaderSpec, gzip = true): Uint8Array {
  const n = h.shape[0] * h.shape[1] * h.shape[2];
  return encodeNifti({ dims: [...h.shape], datatype: 4, data: new Uint8Array(n * 2), gzip, ...headerOptions(h) });
}

export function encodeMask(m: MaskSpec): Uint8Array {
  const [nx, ny, nz] = m.header.shape;
  const values = new Float64Array(nx * ny * nz);
  for (const [x, y, z] of m.voxels) values[x + nx * (y + ny * z)] = 1;
  const data = encodeVoxels(m.datatype, m.datatype === 16 ? Float32Array.from(values) : Array.from(values));
  return encodeNifti({
    dims: [nx, ny, nz],
    datatype: m.datatype,
    data,
    sclSlope: m.slope ?? 1,
    gzip: m.gzip ?? true,
    ...headerOptions(m.header),
  });
}

const AXIS_PERMUTATIONS = [
  [0, 1, 2],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
];

function rotationAbout(axis: number, angle: number): Matrix {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  const m = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  const [i, j] = [0, 1, 2].filter((k) => k !== axis);
  m[i][i] = c;
  m[i][j] = -s;
  m[j][i] = s;
  m[j][j] = c;
  return m;
}

function multiply(a: Matrix, b: Matrix): Matrix {
  return a.map((row) => b[0].map((_, j) => row.reduce((sum, v, k) => sum + v * b[k][j], 0)));
}

export const IDENTITY: Matrix = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];

/** A random sample: mostly small shapes, headers shared or deliberately different. */
export function randomSample(seed: number, options: { large?: boolean } = {}): SampleSpec {
  const rand = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(items: T[]) => items[Math.floor(rand() * items.length)];
  const shape = [0, 1, 2].map(() =>
    options.large && rand() < 0.5 ? int(200, 400) : rand() < 0.1 ? int(1, 3) : int(4, 48),
  ) as [number, number, number];
  const iso = rand() < 0.4;
  const base = 0.5 + rand() * 2.5;
  const spacing = [0, 1, 2].map(() => (iso ? base : 0.5 + rand() * 2.5)) as [number, number, number];
  // Nice voxel sizes sometimes: exact .5 products in zoom's shape rounding.
  if (rand() < 0.3) for (let k = 0; k < 3; k++) spacing[k] = pick([0.5, 1, 1.5, 2, 2.5, 3]);
  const perm = pick(AXIS_PERMUTATIONS);
  let rotation: Matrix = perm.map((p) => [0, 1, 2].map((j) => (j === p ? 1 : 0)));
  rotation = multiply(
    rotation,
    [0, 1, 2].map((i) => [0, 1, 2].map((j) => (i === j ? (rand() < 0.3 ? -1 : 1) : 0))),
  );
  if (rand() < 0.3) rotation = multiply(rotationAbout(int(0, 2), (rand() - 0.5) * 0.8), rotation);
  const origin = [0, 1, 2].map(() => (rand() < 0.3 ? int(-150, 150) : (rand() - 0.5) * 300)) as [
    number,
    number,
    number,
  ];
  const storage = pick<HeaderSpec['storage']>(['sform', 'sform', 'qform', rand() < 0.3 ? 'none' : 'sform']);
  const image: HeaderSpec = { shape, spacing, rotation, origin, storage };
  let maskHeader: HeaderSpec = { ...image };
  const variant = rand();
  if (variant < 0.15)
    maskHeader = { ...image, origin: origin.map((v) => v + (rand() - 0.5) * 20) as [number, number, number] };
  else if (variant < 0.25)
    maskHeader = { ...image, spacing: spacing.map((s) => s * (0.8 + rand() * 0.4)) as [number, number, number] };
  else if (variant < 0.3)
    maskHeader = { ...image, shape: shape.map((n) => Math.max(1, n + int(-3, 3))) as [number, number, number] };
  else if (variant < 0.35) maskHeader = { ...image, storage: image.storage === 'sform' ? 'qform' : 'sform' };
  const [nx, ny, nz] = maskHeader.shape;
  const voxels: [number, number, number][] = [];
  const kind = rand();
  if (kind < 0.15) voxels.push([int(0, nx - 1), int(0, ny - 1), int(0, nz - 1)]);
  else if (kind < 0.2) {
    // Nothing: an empty mask.
  } else {
    const edge = rand() < 0.3;
    const size = [nx, ny, nz].map((n) => Math.max(1, Math.min(n, int(1, Math.ceil(n / 2)))));
    const start = [nx, ny, nz].map((n, k) =>
      edge && rand() < 0.5 ? (rand() < 0.5 ? 0 : n - size[k]) : int(0, n - size[k]),
    );
    for (let z = 0; z < size[2]; z++)
      for (let y = 0; y < size[1]; y++)
        for (let x = 0; x < size[0]; x++) {
          if (rand() < 0.8) voxels.push([start[0] + x, start[1] + y, start[2] + z]);
        }
  }
  const datatype = pick<2 | 4 | 16>([2, 4, 16]);
  const mask: MaskSpec = {
    header: maskHeader,
    voxels,
    datatype,
    slope: datatype === 16 && rand() < 0.5 ? 0.017 : undefined,
    gzip: rand() < 0.7,
  };
  return { name: `random-${seed}`, image, mask };
}

const grid = (
  shape: [number, number, number],
  spacing: [number, number, number],
  origin: [number, number, number] = [-100, -120, -60],
): HeaderSpec => ({
  shape,
  spacing,
  origin,
  rotation: IDENTITY,
  storage: 'sform',
});

function box(from: number[], to: number[]): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let z = from[2]; z <= to[2]; z++)
    for (let y = from[1]; y <= to[1]; y++) for (let x = from[0]; x <= to[0]; x++) out.push([x, y, z]);
  return out;
}

/** The planted cases (and a few more): the reference runs them with the unpatched conform call. */
export const PLANTED: Record<string, SampleSpec> = (() => {
  const fov300 = grid([300, 300, 24], [1, 1, 1], [-150, -150, -12]);
  const at09 = grid([160, 160, 24], [0.9, 0.9, 0.9]);
  const flipped: HeaderSpec = {
    ...at09,
    rotation: [
      [-1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ],
    origin: [at09.origin[0] + 159 * 0.9, at09.origin[1], at09.origin[2]],
  };
  const aniso = grid([120, 110, 30], [0.9, 0.9, 3]);
  const small = grid([60, 60, 20], [0.6, 0.6, 0.6]);
  return {
    'fov-300mm-edge-lesion': {
      name: 'fov300',
      image: fov300,
      mask: { header: fov300, voxels: box([2, 100, 5], [30, 130, 9]), datatype: 2 },
    },
    'mask-header-1.0mm-image-0.9mm': {
      name: 'mm10vs09',
      image: at09,
      mask: { header: { ...at09, spacing: [1, 1, 1] }, voxels: box([100, 40, 8], [125, 60, 14]), datatype: 2 },
    },
    'mask-8mm-offset': {
      name: 'offset8',
      image: at09,
      mask: {
        header: { ...at09, origin: [at09.origin[0] + 8, at09.origin[1], at09.origin[2]] },
        voxels: box([70, 70, 10], [80, 80, 14]),
        datatype: 2,
      },
    },
    // zoom reads x = 32 but not 31 (60 -> 36 voxels); conform samples 29 ± 5/3 k, so both: scipy_zoom keeps 1 voxel, nibabel_conform 2.
    'two-voxel-lesion-0.6mm': {
      name: 'two06',
      image: small,
      mask: {
        header: small,
        voxels: [
          [31, 29, 9],
          [32, 29, 9],
        ],
        datatype: 2,
      },
    },
    // No zoomed index reads y = 31: scipy_zoom keeps nothing of this voxel.
    'one-voxel-lesion-lost-0.6mm': {
      name: 'one06',
      image: small,
      mask: { header: small, voxels: [[31, 31, 10]], datatype: 2 },
    },
    'quiet-flipped-mask-matching-affine': {
      name: 'flipped',
      image: at09,
      mask: { header: flipped, voxels: box([159 - 90, 50, 5], [159 - 70, 70, 12]), datatype: 2 },
    },
    'quiet-anisotropic-shared-grid': {
      name: 'aniso',
      image: aniso,
      mask: { header: aniso, voxels: box([40, 40, 10], [70, 60, 14]), datatype: 4 },
    },
    'mask-origin-0.3mm-off': {
      name: 'origin03',
      image: at09,
      mask: {
        header: { ...at09, origin: [at09.origin[0] + 0.3, at09.origin[1], at09.origin[2]] },
        voxels: box([60, 60, 8], [90, 80, 12]),
        datatype: 2,
      },
    },
    'quiet-float-mask-0.017-slope': {
      name: 'float017',
      image: at09,
      mask: { header: at09, voxels: box([60, 60, 8], [90, 80, 12]), datatype: 16, slope: 0.017 },
    },
  };
})();
