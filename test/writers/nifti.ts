// Fixture writer for single-file NIfTI images (.nii / .nii.gz), NIfTI-1 (348-byte header,
// magic "n+1\0") and NIfTI-2 (540-byte header, magic "n+2\0\r\n\x1a\n"), per the
// nifti1.h / nifti2.h standards. Both versions share one writer: only field offsets and
// widths differ, so each version is a table of (offset, type) per field.
// Layout: header | 4 extension flag bytes | extensions (esize, ecode, data; esize a multiple
// of 16) | zero padding up to vox_offset | voxel data.

import { gzipSync } from 'node:zlib';
import { encodeValues, parseDescr } from './npy';

type FieldType = 'u8' | 'i16' | 'i32' | 'i64' | 'f32' | 'f64';
type Field = [offset: number, type: FieldType];
interface Layout {
  headerSize: number;
  magic: string;
  magicAt: number;
  fields: Record<
    | 'sizeof_hdr'
    | 'dim'
    | 'datatype'
    | 'bitpix'
    | 'pixdim'
    | 'vox_offset'
    | 'scl_slope'
    | 'scl_inter'
    | 'xyzt_units'
    | 'qform_code'
    | 'sform_code'
    | 'quatern'
    | 'qoffset'
    | 'srow_x'
    | 'srow_y'
    | 'srow_z',
    Field
  >;
  descripAt: number;
}

const LAYOUTS: Record<1 | 2, Layout> = {
  1: {
    headerSize: 348,
    magic: 'n+1\0',
    magicAt: 344,
    descripAt: 148,
    fields: {
      sizeof_hdr: [0, 'i32'],
      dim: [40, 'i16'],
      datatype: [70, 'i16'],
      bitpix: [72, 'i16'],
      pixdim: [76, 'f32'],
      vox_offset: [108, 'f32'],
      scl_slope: [112, 'f32'],
      scl_inter: [116, 'f32'],
      xyzt_units: [123, 'u8'],
      qform_code: [252, 'i16'],
      sform_code: [254, 'i16'],
      quatern: [256, 'f32'],
      qoffset: [268, 'f32'],
      srow_x: [280, 'f32'],
      srow_y: [296, 'f32'],
      srow_z: [312, 'f32'],
    },
  },
  2: {
    headerSize: 540,
    magic: 'n+2\0\r\n\x1a\n',
    magicAt: 4,
    descripAt: 240,
    fields: {
      sizeof_hdr: [0, 'i32'],
      datatype: [12, 'i16'],
      bitpix: [14, 'i16'],
      dim: [16, 'i64'],
      pixdim: [104, 'f64'],
      vox_offset: [168, 'i64'],
      scl_slope: [176, 'f64'],
      scl_inter: [184, 'f64'],
      qform_code: [344, 'i32'],
      sform_code: [348, 'i32'],
      quatern: [352, 'f64'],
      qoffset: [376, 'f64'],
      srow_x: [400, 'f64'],
      srow_y: [432, 'f64'],
      srow_z: [464, 'f64'],
      xyzt_units: [500, 'i32'],
    },
  },
};

/** NIfTI datatype code -> numpy kind+size (the descr without its byte order). */
const DATATYPES: Record<number, string> = {
  2: 'u1',
  4: 'i2',
  8: 'i4',
  16: 'f4',
  64: 'f8',
  256: 'i1',
  512: 'u2',
  768: 'u4',
  1024: 'i8',
  1280: 'u8',
};

/** The numpy descr nibabel reports for a NIfTI datatype code, e.g. (4, false) -> '>i2'. */
export function niftiDescr(datatype: number, littleEndian: boolean): string {
  const t = DATATYPES[datatype];
  if (!t) throw new Error(`unsupported NIfTI datatype ${datatype}`);
  return (t.endsWith('1') ? '|' : littleEndian ? '<' : '>') + t;
}

/** Raw voxel bytes of `values` for a NIfTI datatype code, in the given byte order. */
export function encodeVoxels(datatype: number, values: ArrayLike<number | bigint>, littleEndian = true): Uint8Array {
  return encodeValues(niftiDescr(datatype, littleEndian), values);
}

export interface NiftiOptions {
  version?: 1 | 2;
  /** Sizes of each dimension, e.g. [256, 256, 256]; up to 7. */
  dims: number[];
  /** NIfTI code: 2 uint8, 4 int16, 8 int32, 16 float32, 64 float64, 256 int8, 512 uint16, 768 uint32, 1024 int64, 1280 uint64. */
  datatype: number;
  /** Raw voxel bytes (column-major, x fastest) in the header's byte order. */
  data: Uint8Array;
  littleEndian?: boolean;
  sclSlope?: number;
  sclInter?: number;
  /** pixdim[1..], voxel sizes per dimension; default 1. pixdim[0] (qfac) is always 1. */
  pixdims?: number[];
  extensions?: { code: number; data: Uint8Array }[];
  /** Up to 80 bytes (ASCII). */
  description?: string;
  /** 4x4 voxel-to-world matrix written as the sform; default diag(pixdim1..3, 1). */
  affine?: number[][];
  /** sform_code; default 2 ("aligned to another file's coordinates"). */
  sformCode?: number;
  /** A qform (quaternion b, c, d, offset, qfac in pixdim[0]) with its code; default none. */
  qform?: { code: number; quatern: [number, number, number]; offset: [number, number, number]; qfac?: number };
  gzip?: boolean;
  /** Data start; default right after the extensions (352 / 544 without any). */
  voxOffset?: number;
}

function put(dv: DataView, [offset, type]: Field, values: number[], le: boolean): void {
  const width = { u8: 1, i16: 2, i32: 4, i64: 8, f32: 4, f64: 8 }[type];
  values.forEach((v, i) => {
    const at = offset + i * width;
    if (type === 'u8') dv.setUint8(at, v);
    else if (type === 'i16') dv.setInt16(at, v, le);
    else if (type === 'i32') dv.setInt32(at, v, le);
    else if (type === 'i64') dv.setBigInt64(at, BigInt(v), le);
    else if (type === 'f32') dv.setFloat32(at, v, le);
    else dv.setFloat64(at, v, le);
  });
}

/** A complete single-file NIfTI image (.nii, or .nii.gz bytes when gzip is set). */
export function encodeNifti(opts: NiftiOptions): Uint8Array {
  const version = opts.version ?? 1;
  const layout = LAYOUTS[version];
  const le = opts.littleEndian ?? true;
  const { dims } = opts;
  if (dims.length < 1 || dims.length > 7) throw new Error('NIfTI images have 1 to 7 dimensions');
  if (version === 1 && dims.some((d) => d > 0x7fff)) throw new Error('NIfTI-1 dims are int16; use version 2');
  const bytesPerVoxel = parseDescr(niftiDescr(opts.datatype, le)).size;
  const expected = dims.reduce((a, b) => a * b, 1) * bytesPerVoxel;
  if (opts.data.length !== expected) throw new Error(`data has ${opts.data.length} bytes, dims need ${expected}`);

  // Extensions: 8-byte (esize, ecode) header + data, zero padded to a multiple of 16.
  const exts = (opts.extensions ?? []).map(({ code, data }) => {
    const b = new Uint8Array(Math.ceil((8 + data.length) / 16) * 16);
    const edv = new DataView(b.buffer);
    edv.setInt32(0, b.length, le);
    edv.setInt32(4, code, le);
    b.set(data, 8);
    return b;
  });
  const minOffset = layout.headerSize + 4 + exts.reduce((a, e) => a + e.length, 0);
  const voxOffset = opts.voxOffset ?? minOffset;
  if (voxOffset < minOffset)
    throw new Error(`voxOffset ${voxOffset} overlaps the header/extensions (min ${minOffset})`);

  const head = new Uint8Array(voxOffset);
  const dv = new DataView(head.buffer);
  const f = layout.fields;
  const pixdims = dims.map((_, i) => opts.pixdims?.[i] ?? 1);
  const [px, py, pz] = [pixdims[0], pixdims[1] ?? 1, pixdims[2] ?? 1];
  const affine = opts.affine ?? [
    [px, 0, 0, 0],
    [0, py, 0, 0],
    [0, 0, pz, 0],
    [0, 0, 0, 1],
  ];

  put(dv, f.sizeof_hdr, [layout.headerSize], le);
  put(dv, f.dim, [dims.length, ...dims, ...Array(7 - dims.length).fill(1)], le);
  put(dv, f.datatype, [opts.datatype], le);
  put(dv, f.bitpix, [bytesPerVoxel * 8], le);
  put(dv, f.pixdim, [opts.qform?.qfac ?? 1, ...pixdims, ...Array(7 - dims.length).fill(1)], le);
  put(dv, f.vox_offset, [voxOffset], le);
  put(dv, f.scl_slope, [opts.sclSlope ?? 1], le);
  put(dv, f.scl_inter, [opts.sclInter ?? 0], le);
  put(dv, f.xyzt_units, [2 | 8], le); // millimetres, seconds
  put(dv, f.qform_code, [opts.qform?.code ?? 0], le); // default: no quaternion transform
  if (opts.qform) {
    put(dv, f.quatern, opts.qform.quatern, le);
    put(dv, f.qoffset, opts.qform.offset, le);
  }
  put(dv, f.sform_code, [opts.sformCode ?? 2], le); // "aligned to another file's coordinates"
  put(dv, f.srow_x, affine[0], le);
  put(dv, f.srow_y, affine[1], le);
  put(dv, f.srow_z, affine[2], le);
  if (version === 1) head[38] = 'r'.charCodeAt(0); // "regular", as analyze-era readers expect

  const descrip = Buffer.from(opts.description ?? '', 'latin1');
  if (descrip.length > 80) throw new Error('description is limited to 80 bytes');
  head.set(descrip, layout.descripAt);
  head.set(Buffer.from(layout.magic, 'latin1'), layout.magicAt);
  head[layout.headerSize] = exts.length ? 1 : 0; // extension flag: extender[0]
  let at = layout.headerSize + 4;
  for (const e of exts) {
    head.set(e, at);
    at += e.length;
  }

  const file = Buffer.concat([head, opts.data]);
  return opts.gzip ? gzipSync(file) : file;
}
