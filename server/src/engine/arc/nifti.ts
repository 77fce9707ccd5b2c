/**
 * NIfTI-1/2 (.nii, .nii.gz) header summary and lesion-volume count. The header is parsed by
 * nifti-reader-js `readHeader` on the first inflated bytes (its async readers hang on some
 * files, see NOTES.md); voxels are streamed through the counter and never held as a volume.
 */
import { NIFTI1, NIFTI2, readHeader } from 'nifti-reader-js';
import { PositiveCounts } from '../numpy/counting';
import { niftiDatatypeName, niftiElementType, Scaling, valueReader } from '../numpy/elements';
import { inflateChunks } from '../io/inflate';
import { ByteSource, FormatError, readChunks } from '../io/source';

export interface NiftiSummary {
  version: 1 | 2;
  /** Shape as nibabel reports it: dim[1..dim[0]]. */
  shape: number[];
  /** Voxel sizes for the same axes: pixdim[1..dim[0]]. */
  voxelSize: number[];
  datatype: string;
  datatypeCode: number;
  littleEndian: boolean;
  /** The scaling nibabel applies, or null when scl_slope is 0 or not finite. */
  scaling: Scaling | null;
  affine: number[][];
  description: string;
  compressed: boolean;
  totalVoxels: number;
  /** Voxels whose scaled value is > 0; absent when counting was not asked for. */
  positiveVoxels?: number;
}

const GZIP_MAGIC = [0x1f, 0x8b];
// Headers plus extensions beyond this are not plausible NIfTI; refuse rather than buffer them.
const MAX_HEADER_BYTES = 64 << 20;

export interface NiftiOptions {
  /** Count voxels > 0 (the lesion volume). */
  countVoxels: boolean;
  /** Also count per axial slice (the third axis; for pictures of the largest lesion area). */
  perSlice?: boolean;
  /** Return this axial slice's scaled values (of the first volume). */
  slice?: number;
}

export interface NiftiContent extends NiftiSummary {
  /** Voxels > 0 per axial slice of the first volume, with `perSlice`. */
  positivesPerSlice?: number[];
  /** The requested axial slice, x fastest, as float64 after scaling. */
  slice?: { width: number; height: number; values: Float64Array };
}

export async function summarizeNifti(source: ByteSource, options: NiftiOptions): Promise<NiftiContent> {
  const head = await source.read(0, 2);
  const compressed = head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  const raw = readChunks(source, 0, source.size);
  const stream = compressed ? inflateChunks(raw, 'gzip') : raw;
  const iterator = stream[Symbol.asyncIterator]();
  try {
    const { prefix, rest } = await readPrefix(iterator);
    const header = parseHeader(prefix);
    const summary = describe(header, compressed);
    if (!options.countVoxels && options.slice === undefined) return summary;
    const type = niftiElementType(header.datatypeCode, header.littleEndian);
    const dataBytes = summary.totalVoxels * type.size;
    if (compressed ? dataBytes > source.size * 1100 : dataBytes > source.size) {
      throw new FormatError(`header declares ${summary.totalVoxels} voxels, more than the file can hold (truncated or lying header)`);
    }
    const [nx = 1, ny = 1] = summary.shape;
    const sliceVoxels = nx * ny;
    // Rows of the counter: axial slices (z and any further axes, in file order) or the whole volume.
    const rows = options.perSlice && sliceVoxels > 0 ? summary.totalVoxels / sliceVoxels : 1;
    const counter = options.countVoxels ? new PositiveCounts(type, summary.totalVoxels, rows, false, summary.scaling ?? undefined) : undefined;
    const capture = options.slice !== undefined ? captureSlice(options.slice, sliceVoxels, type.size, summary.shape[2] ?? 1) : undefined;
    let remaining = dataBytes;
    let position = 0;
    // Bytes already buffered after the header, then the rest of the stream until the volume is complete.
    let chunk: Uint8Array | undefined = rest;
    while (remaining > 0 && (counter || !capture!.done())) {
      if (!chunk) {
        const next = await iterator.next();
        if (next.done) throw new FormatError(`truncated file: voxel data ends ${remaining} bytes early`);
        chunk = next.value;
      }
      const take = chunk.subarray(0, Math.min(chunk.length, remaining));
      counter?.push(take);
      capture?.push(take, position);
      position += take.length;
      remaining -= take.length;
      chunk = undefined;
    }
    const content: NiftiContent = { ...summary };
    if (counter) {
      content.positiveVoxels = counter.counts.reduce((a, b) => a + b, 0);
      if (options.perSlice) content.positivesPerSlice = Array.from(counter.counts.subarray(0, summary.shape[2] ?? 1));
    }
    if (capture) {
      const values = new Float64Array(sliceVoxels);
      const read = valueReader(type);
      const view = new DataView(capture.bytes.buffer);
      const { slope, inter } = summary.scaling ?? { slope: 1, inter: 0 };
      for (let i = 0; i < sliceVoxels; i++) values[i] = read(view, i * type.size) * slope + inter;
      content.slice = { width: nx, height: ny, values };
    }
    return content;
  } finally {
    await iterator.return?.(undefined);
  }
}

/** Collects the bytes of one axial slice as they stream past. */
function captureSlice(z: number, sliceVoxels: number, size: number, depth: number) {
  if (!(z >= 0 && z < depth)) throw new FormatError(`slice ${z} is outside the volume (depth ${depth})`);
  const start = z * sliceVoxels * size;
  const bytes = new Uint8Array(sliceVoxels * size);
  let filled = 0;
  return {
    bytes,
    done: () => filled === bytes.length,
    push(chunk: Uint8Array, position: number) {
      const from = Math.max(start, position);
      const to = Math.min(start + bytes.length, position + chunk.length);
      if (from >= to) return;
      bytes.set(chunk.subarray(from - position, to - position), from - start);
      filled += to - from;
    },
  };
}

type Header = NIFTI1 | NIFTI2;

/** Collects decompressed bytes up to the voxel offset (header + extensions). */
async function readPrefix(iterator: AsyncIterator<Uint8Array>): Promise<{ prefix: Uint8Array; rest: Uint8Array }> {
  const parts: Uint8Array[] = [];
  let length = 0;
  let needed = 4;
  for (;;) {
    while (length < needed) {
      const next = await iterator.next();
      if (next.done) throw new FormatError(length < 348 ? 'not a NIfTI file (too short for a header)' : 'truncated NIfTI header or extensions');
      parts.push(next.value);
      length += next.value.length;
    }
    const buffered = Buffer.concat(parts);
    parts.length = 0;
    parts.push(buffered);
    const wanted = headerExtent(buffered);
    if (wanted > MAX_HEADER_BYTES) throw new FormatError(`implausible voxel offset ${wanted}`);
    if (buffered.length >= wanted) return { prefix: buffered.subarray(0, wanted), rest: buffered.subarray(wanted) };
    needed = wanted;
  }
}

/** How many leading bytes hold the header and its extensions (grows as more is known). */
function headerExtent(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sizeLE = view.getInt32(0, true);
  const sizeBE = view.getInt32(0, false);
  const size = sizeLE === 348 || sizeLE === 540 ? sizeLE : sizeBE === 348 || sizeBE === 540 ? sizeBE : 0;
  if (!size) throw new FormatError('not a NIfTI file (sizeof_hdr is neither 348 nor 540)');
  const le = size === sizeLE;
  if (bytes.length < size + 4) return size + 4;
  const offset = size === 348 ? Math.floor(view.getFloat32(108, le)) : Number(view.getBigInt64(168, le));
  return Math.max(size + 4, Number.isFinite(offset) ? offset : 0);
}

function parseHeader(prefix: Uint8Array): Header {
  // A fresh ArrayBuffer: Buffer views may sit inside a shared pool at a non-zero offset.
  const copy = new Uint8Array(prefix).buffer;
  let header: Header;
  try {
    header = readHeader(copy);
  } catch (error) {
    throw new FormatError(`unreadable NIfTI header: ${(error as Error).message}`);
  }
  const rank = header.dims[0];
  if (!(rank >= 1 && rank <= 7)) throw new FormatError(`invalid NIfTI dim[0] = ${rank}`);
  if (header.dims.slice(1, rank + 1).some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new FormatError(`invalid NIfTI dimensions ${JSON.stringify(header.dims.slice(1, rank + 1))}`);
  }
  return header;
}

/** nibabel's rule: slope 0 or non-finite means unscaled; a non-finite intercept with a valid slope is an error. */
function scalingOf(header: Header): Scaling | null {
  const slope = header.scl_slope;
  const inter = header.scl_inter;
  if (slope === 0 || !Number.isFinite(slope)) return null;
  if (!Number.isFinite(inter)) throw new FormatError(`valid scl_slope ${slope} but invalid scl_inter ${inter}`);
  return { slope, inter };
}

function describe(header: Header, compressed: boolean): NiftiSummary {
  const rank = header.dims[0];
  const shape = header.dims.slice(1, rank + 1);
  return {
    version: header instanceof NIFTI2 ? 2 : 1,
    shape,
    voxelSize: header.pixDims.slice(1, rank + 1),
    datatype: niftiDatatypeName(header.datatypeCode),
    datatypeCode: header.datatypeCode,
    littleEndian: header.littleEndian,
    scaling: scalingOf(header),
    affine: header.affine.map((row) => [...row]),
    description: header.description,
    compressed,
    totalVoxels: shape.reduce((a, b) => a * b, 1),
  };
}
