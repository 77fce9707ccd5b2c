/**
 * NIfTI-1/2 (.nii, .nii.gz) header summary and lesion-volume count. The header is parsed by
 * nifti-reader-js `readHeader` on the first inflated bytes (its async readers hang on some
 * files, see NOTES.md); voxels are streamed through the counter and never held as a volume.
 */
import { NIFTI1, NIFTI2 } from './niftiHeaderClasses';
import { PositiveCounts } from '../numpy/counting';
import {
  niftiDatatypeName,
  niftiDatatypeStatus,
  niftiElementType,
  niftiVoxelBytes,
  Scaling,
  valueReader,
} from '../numpy/elements';
import { inflateChunks, inflateRawPieceRunsOf, PIECE_SIZE } from '../io/inflate';
import { countingBuffer, returnCountingBuffer } from '../numpy/simdCount';
import { ByteSource, ChunkPlan, FormatError, readChunks, SpanCache } from '../io/source';
import { LesionCollector, LesionMask } from './lesionMask';
import { nibabelAffine } from './nibabelAffine';

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
  /** `nib.load(path).affine` (sform, else qform, else the base affine); null when nibabel refuses the qform. */
  affine: number[][] | null;
  description: string;
  compressed: boolean;
  totalVoxels: number;
  /** Voxels whose scaled value is > 0; absent when counting was not asked for. */
  positiveVoxels?: number;
}

const GZIP_MAGIC = [0x1f, 0x8b];
/** The start read first: a gzip header, the 348- or 540-byte NIfTI header compressed, typical extensions. */
export const HEAD_READ = 4 << 10;
/** Chunks after it when only the header is wanted (a file's header and extensions rarely reach past the first). */
const HEADER_ONLY_CHUNK = 16 << 10;
// Headers plus extensions beyond this are not plausible NIfTI; refuse rather than buffer them.
const MAX_HEADER_BYTES = 64 << 20;
// Deflate expands at most ~1032x: a gzip file cannot hold more voxel bytes than this many times its size.
const MAX_INFLATE_RATIO = 1100;

export interface NiftiOptions {
  /** Count voxels > 0 (the lesion volume). */
  countVoxels: boolean;
  /** Also count per axial slice (the third axis; for pictures of the largest lesion area). */
  perSlice?: boolean;
  /** Return this axial slice's scaled values (of the first volume). */
  slice?: number;
  /** The file's name: nibabel decompresses by the `.gz` extension, not by the bytes. */
  name?: string;
  /** Collect the lesion voxels (> 0) of a 3-D mask, for the preprocessing model. */
  lesionMask?: boolean;
  /** Return the scaled values of these voxels (linear indices into the first volume, ascending). */
  pick?: Float64Array;
}

export interface NiftiContent extends NiftiSummary {
  /** Voxels > 0 per axial slice of the first volume, with `perSlice`. */
  positivesPerSlice?: number[];
  /** The requested axial slice, x fastest, as float64 after scaling. */
  slice?: { width: number; height: number; values: Float64Array };
  /** The lesion voxels, with `lesionMask` (3-D images only). */
  lesionMask?: LesionMask;
  /** The values of the `pick` voxels, in the same order. */
  picked?: Float64Array;
}

/** What nibabel does with the same file, appended to our messages: what training will see. */
function nibabel(outcome: string): string {
  return ` (nibabel: ${outcome})`;
}

/** Adds nibabel's outcome to a FormatError that does not name one yet. */
function withOutcome(error: unknown, outcome: string): unknown {
  if (!(error instanceof FormatError) || error.message.includes('(nibabel:')) return error;
  const Kind = error instanceof EndedEarly ? EndedEarly : FormatError;
  return new Kind(error.message + nibabel(outcome));
}

/** nibabel's verdict on bytes it cannot recognise as an image of any kind. */
const NOT_A_FILE_TYPE = nibabel('nib.load raises ImageFileError, "Cannot work out file type"');

/** The decompressed stream ended before the bytes the header requires. */
class EndedEarly extends FormatError {}

/**
 * Header summary, plus voxel counts or a slice on request. Images (no count, no slice) get the
 * same validity checks nibabel applies, cheaply: header fields, the file's name against its
 * bytes, the file long enough for the data, and a gzip stream whose trailer agrees with the
 * expected size (only when it does not is the stream inflated to find out).
 */
export async function summarizeNifti(file: ByteSource, options: NiftiOptions): Promise<NiftiContent> {
  // One round of reads side by side: the start (gzip header, NIfTI header and usually its
  // extensions) and, for a .gz, the trailer that says whether the stream is whole.
  const source = SpanCache.over(file);
  const gzTrailer: [number, number][] = options.name?.endsWith('.gz') ? [[file.size - 4, file.size]] : [];
  await source.prefetch([[0, HEAD_READ], ...gzTrailer]);
  const head = await source.read(0, 2);
  const compressed = head.length === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  if (options.name !== undefined) {
    const gzName = options.name.endsWith('.gz');
    if (gzName && !compressed)
      throw new FormatError(
        `named .gz but not gzip-compressed${nibabel('nib.load raises ImageFileError, "not a gzip file"')}`,
      );
    if (!gzName && compressed)
      throw new FormatError(
        `gzip-compressed but not named .gz${nibabel('nib.load raises ImageFileError, "Cannot work out file type"')}`,
      );
  }
  if (!compressed) return summarizeStream(source, options, 'plain');
  try {
    return await summarizeStream(source, options, 'first-member');
  } catch (error) {
    // Python's gzip reads on into further members (bgzip writes many): retry as one stream of all.
    if (error instanceof EndedEarly) return summarizeStream(source, options, 'all-members');
    throw error;
  }
}

/**
 * 'first-member' inflates the first gzip member as raw deflate, as Python's gzip does up to the
 * bytes nibabel asks for: a damaged CRC, a missing trailer or garbage after the member are never
 * seen (nibabel loads such files). 'all-members' follows further members, for files split in many.
 */
async function summarizeStream(
  source: ByteSource,
  options: NiftiOptions,
  mode: 'plain' | 'first-member' | 'all-members',
): Promise<NiftiContent> {
  const compressed = mode !== 'plain';
  // The first chunk is the rest of the start already fetched. Reading voxels, 1 MiB chunks follow;
  // for the header alone, small ones: the inflate stream reads a chunk or two ahead of its reader.
  const plan = (from: number): ChunkPlan => ({
    first: Math.max(0, HEAD_READ - from),
    size:
      options.countVoxels || options.slice !== undefined || options.lesionMask || options.pick !== undefined
        ? 1 << 20
        : HEADER_ONLY_CHUNK,
  });
  let runs: AsyncIterable<Iterable<Uint8Array>>;
  let pieces: Uint8Array | undefined;
  if (mode === 'first-member') {
    const payload = await gzipPayloadOffset(source);
    // Inflated where the SIMD counters read them in place, while they are in the core's cache.
    if (options.countVoxels) pieces = countingBuffer(PIECE_SIZE);
    // Pieces of one reused buffer: every consumer below copies what it keeps before asking for more.
    runs = inflateRawPieceRunsOf(readChunks(source, payload, source.size - payload, plan(payload)), pieces);
  } else {
    const raw = readChunks(source, 0, source.size, plan(0));
    runs = runsOfOne(compressed ? inflateChunks(raw, 'gzip', 'ends') : raw);
  }
  const iterator = new ChunkReader(runs, compressed);
  try {
    const { prefix, rest } = await readPrefix(iterator);
    const header = parseHeader(prefix);
    const dataOffset = nibabelDataOffset(header);
    checkNibabelDatatype(header.datatypeCode);
    const summary = describe(header, compressed, prefix);
    const voxelBytes = niftiVoxelBytes(header.datatypeCode)!;
    const dataBytes = summary.totalVoxels * voxelBytes;
    const dataEnd = dataOffset + dataBytes;
    const holds = compressed ? source.size * MAX_INFLATE_RATIO : source.size;
    if (!Number.isSafeInteger(dataEnd) || dataEnd > holds) {
      throw new FormatError(
        `header declares ${summary.totalVoxels} voxels (${dataEnd} bytes with the header), more than the file can hold (${source.size} bytes): truncated or lying header` +
          nibabel(
            `get_fdata raises MemoryError when the shape cannot be allocated, else ${compressed ? 'EOFError' : 'OSError'}`,
          ),
      );
    }
    if (summary.datatype.startsWith('RGB')) {
      throw new FormatError(`${summary.datatype} voxels are not numbers${nibabel('get_fdata raises TypeError')}`);
    }
    const verify = compressed && !(await gzipTrailerAgrees(source, dataEnd));
    const collect = options.lesionMask === true && summary.shape.length === 3;
    const picking = options.pick !== undefined && options.pick.length > 0;
    if (!options.countVoxels && options.slice === undefined && !collect && !picking && !verify) return summary;
    const type =
      options.countVoxels || options.slice !== undefined || collect || picking
        ? niftiElementType(header.datatypeCode, header.littleEndian)
        : undefined;
    const [nx = 1, ny = 1] = summary.shape;
    const sliceVoxels = nx * ny;
    // Rows of the counter: axial slices (z and any further axes, in file order) or the whole volume.
    const rows = options.perSlice && sliceVoxels > 0 ? summary.totalVoxels / sliceVoxels : 1;
    const counter = options.countVoxels
      ? new PositiveCounts(type!, summary.totalVoxels, rows, false, summary.scaling ?? undefined)
      : undefined;
    const capture =
      options.slice !== undefined
        ? captureSlice(options.slice, sliceVoxels, type!.size, summary.shape[2] ?? 1)
        : undefined;
    const lesion = collect
      ? new LesionCollector(type!, summary.shape as [number, number, number], summary.scaling ?? undefined)
      : undefined;
    const picker = picking ? capturePicks(options.pick!, type!.size) : undefined;
    const wantsMore = () =>
      counter !== undefined ||
      verify ||
      (capture !== undefined && !capture.done()) ||
      (lesion !== undefined && !lesion.done) ||
      (picker !== undefined && !picker.done());
    let remaining = dataBytes;
    let position = 0;
    // nibabel reads from vox_offset, which 0 places at the file's first byte (inside the header).
    let chunk: Uint8Array | undefined =
      dataOffset < prefix.length ? Buffer.concat([prefix.subarray(dataOffset), rest]) : rest;
    while (remaining > 0 && wantsMore()) {
      if (!chunk) {
        // Pieces of a run are taken synchronously: an await, even of a value, costs a turn.
        const taken = iterator.next();
        const next = taken instanceof Promise ? await taken : taken;
        if (next.done) {
          throw new EndedEarly(
            `truncated file: voxel data ends ${remaining} bytes early${nibabel(compressed ? 'nib.load works, get_fdata raises EOFError' : 'get_fdata raises OSError')}`,
          );
        }
        chunk = next.value;
      }
      const take = chunk.subarray(0, Math.min(chunk.length, remaining));
      counter?.push(take);
      capture?.push(take, position);
      lesion?.push(take);
      picker?.push(take, position);
      position += take.length;
      remaining -= take.length;
      chunk = undefined;
    }
    const content: NiftiContent = { ...summary };
    if (lesion) content.lesionMask = lesion.result();
    if (picker) {
      const read = valueReader(type!);
      const view = new DataView(picker.bytes.buffer);
      const { slope, inter } = summary.scaling ?? { slope: 1, inter: 0 };
      content.picked = Float64Array.from(
        { length: options.pick!.length },
        (_, i) => read(view, i * type!.size) * slope + inter,
      );
    }
    if (counter) {
      content.positiveVoxels = counter.counts.reduce((a, b) => a + b, 0);
      if (options.perSlice) content.positivesPerSlice = Array.from(counter.counts.subarray(0, summary.shape[2] ?? 1));
    }
    if (capture) {
      const values = new Float64Array(sliceVoxels);
      const read = valueReader(type!);
      const view = new DataView(capture.bytes.buffer);
      const { slope, inter } = summary.scaling ?? { slope: 1, inter: 0 };
      for (let i = 0; i < sliceVoxels; i++) values[i] = read(view, i * type!.size) * slope + inter;
      content.slice = { width: nx, height: ny, values };
    }
    return content;
  } finally {
    await iterator.close();
    if (pieces) returnCountingBuffer(pieces);
  }
}

async function* runsOfOne(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array[]> {
  for await (const chunk of chunks) yield [chunk];
}

/**
 * The decompressed stream's chunks, taken from runs (inflateRawPieceRunsOf): synchronously while
 * the current run has more, awaiting only for the next run. Damaged deflate data: Python's gzip
 * raises zlib.error wherever nibabel reads it (nib.load or get_fdata).
 */
class ChunkReader {
  private readonly runs: AsyncIterator<Iterable<Uint8Array>>;
  private run: Iterator<Uint8Array> | undefined;

  constructor(
    runs: AsyncIterable<Iterable<Uint8Array>>,
    private readonly compressed: boolean,
  ) {
    this.runs = runs[Symbol.asyncIterator]();
  }

  /** The next chunk: at once from the current run, else a promise of the next run's first. */
  next(): IteratorResult<Uint8Array> | Promise<IteratorResult<Uint8Array>> {
    try {
      const next = this.run?.next();
      if (next && !next.done) return next;
    } catch (error) {
      throw this.named(error);
    }
    this.run = undefined;
    return this.nextRun();
  }

  private async nextRun(): Promise<IteratorResult<Uint8Array>> {
    try {
      for (;;) {
        const run = await this.runs.next();
        if (run.done) return { done: true, value: undefined };
        this.run = run.value[Symbol.iterator]();
        const next = this.run.next();
        if (!next.done) return next;
      }
    } catch (error) {
      throw this.named(error);
    }
  }

  private named(error: unknown): unknown {
    return this.compressed ? withOutcome(error, 'raises zlib.error') : error;
  }

  async close(): Promise<void> {
    await this.runs.return?.(undefined);
  }
}

/** Offset of the deflate data after a gzip member header (RFC 1952), as Python's gzip parses it. */
async function gzipPayloadOffset(source: ByteSource): Promise<number> {
  const fixed = await source.read(0, 10);
  if (fixed.length < 10) throw new EndedEarly('truncated gzip header');
  if (fixed[2] !== 8) throw new FormatError(`gzip compression method ${fixed[2]} is not deflate`);
  const flags = fixed[3];
  let at = 10;
  if (flags & 4) {
    const length = await source.read(at, 2);
    if (length.length < 2) throw new EndedEarly('truncated gzip header');
    at += 2 + (length[0] | (length[1] << 8));
  }
  for (const flag of [8, 16]) {
    if (!(flags & flag)) continue;
    // A zero-terminated name or comment, searched in bounded reads.
    for (;;) {
      const part = await source.read(at, 4096);
      if (part.length === 0) throw new EndedEarly('truncated gzip header');
      const zero = part.indexOf(0);
      if (zero >= 0) {
        at += zero + 1;
        break;
      }
      at += part.length;
      if (at > MAX_HEADER_BYTES) throw new FormatError('gzip header name or comment is not terminated');
    }
  }
  if (flags & 2) at += 2;
  if (at > source.size) throw new EndedEarly('truncated gzip header');
  return at;
}

/**
 * The gzip trailer's ISIZE (length mod 2^32) equals the length the header implies: then the
 * stream is complete with near certainty, at the cost of one 4-byte read. Otherwise (cut short,
 * padded, several members, garbage after) the caller inflates to see what nibabel would get.
 */
async function gzipTrailerAgrees(source: ByteSource, length: number): Promise<boolean> {
  if (source.size < 18) return false;
  const tail = await source.read(source.size - 4, 4);
  return tail.length === 4 && new DataView(tail.buffer, tail.byteOffset, 4).getUint32(0, true) === length % 2 ** 32;
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

/** Collects the bytes of chosen voxels (ascending linear indices) as they stream past. */
function capturePicks(indices: Float64Array, size: number) {
  const bytes = new Uint8Array(indices.length * size);
  let next = 0; // first index not yet complete
  return {
    bytes,
    done: () => next === indices.length,
    push(chunk: Uint8Array, position: number) {
      const end = position + chunk.length;
      for (let k = next; k < indices.length; k++) {
        const from = indices[k] * size;
        if (from >= end) break;
        const lo = Math.max(from, position);
        const hi = Math.min(from + size, end);
        if (lo < hi) bytes.set(chunk.subarray(lo - position, hi - position), k * size + (lo - from));
        if (from + size <= end && k === next) next++;
      }
    },
  };
}

type Header = NIFTI1 | NIFTI2;

/** Collects decompressed bytes up to the voxel offset (header + extensions). */
async function readPrefix(iterator: ChunkReader): Promise<{ prefix: Uint8Array; rest: Uint8Array }> {
  let parts: Uint8Array[] = [];
  let length = 0;
  let needed = 4;
  for (;;) {
    while (length < needed) {
      // What came so far is kept as a copy first: the next part may reuse its memory.
      if (parts.length > 0) parts = [Buffer.concat(parts)];
      const next = await iterator.next();
      if (next.done) {
        const what =
          length < 348 ? 'not a NIfTI file (too short for a header)' : 'truncated NIfTI header or extensions';
        throw new EndedEarly(what + NOT_A_FILE_TYPE);
      }
      parts.push(next.value);
      length += next.value.length;
    }
    // One part is used as it is: the rest of it is voxels, counted before the next part is asked
    // for (a piece inflater's parts are one reused buffer); only the prefix is kept, as a copy.
    const buffered = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    parts = [buffered];
    const wanted = headerExtent(buffered);
    if (wanted > MAX_HEADER_BYTES) {
      // nibabel loads the header, then fails to seek there (beyond a C long) or to read there.
      throw new FormatError(
        `implausible voxel offset ${wanted}${nibabel(`get_fdata raises ${wanted >= 2 ** 63 ? 'OverflowError' : 'OSError'}`)}`,
      );
    }
    if (buffered.length >= wanted)
      return { prefix: Buffer.from(buffered.subarray(0, wanted)), rest: buffered.subarray(wanted) };
    needed = wanted;
  }
}

/**
 * Where nibabel reads voxels: int(vox_offset), where 0 means the first byte of the file (nibabel
 * then reads the header as voxels), and anything else inside the header is refused at nib.load.
 */
function nibabelDataOffset(header: Header): number {
  const value = header.vox_offset;
  if (Number.isNaN(value)) throw new FormatError(`vox_offset is NaN${nibabel('nib.load raises ValueError')}`);
  if (!Number.isFinite(value))
    throw new FormatError(`vox_offset is ${value}${nibabel('nib.load raises OverflowError')}`);
  const minimum = (header instanceof NIFTI2 ? 540 : 348) + 4;
  const offset = Math.trunc(value);
  if (value !== 0 && offset < minimum) {
    throw new FormatError(
      `vox_offset ${value} lies inside the ${minimum}-byte header${nibabel('nib.load raises HeaderDataError, "vox offset too low"')}`,
    );
  }
  return offset;
}

function checkNibabelDatatype(code: number): void {
  const status = niftiDatatypeStatus(code);
  if (status === 'loads') return;
  const what =
    status === 'not supported'
      ? `NIfTI datatype ${niftiDatatypeName(code)} (code ${code})`
      : `unknown NIfTI datatype code ${code}`;
  throw new FormatError(`${what}${nibabel(`nib.load raises HeaderDataError, "data code ${code} ${status}"`)}`);
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

/** nifti-reader-js's `readHeader` on bytes already inflated: the magic picks the class (never an .hdr/.img pair). */
function readNiftiHeader(data: ArrayBuffer): Header {
  // Its isNIFTI1/isNIFTI2: at least 348 bytes, and the first three bytes of the magic.
  const bytes = new Uint8Array(data);
  const hasMagic = (at: number, magic: number[]) =>
    bytes.length >= NIFTI1.STANDARD_HEADER_SIZE && [0, 1, 2].every((i) => bytes[at + i] === magic[i]);
  const header = hasMagic(NIFTI1.MAGIC_NUMBER_LOCATION, NIFTI1.MAGIC_NUMBER)
    ? new NIFTI1()
    : hasMagic(NIFTI2.MAGIC_NUMBER_LOCATION, NIFTI2.MAGIC_NUMBER)
      ? new NIFTI2()
      : undefined;
  if (!header) throw new Error('That file does not appear to be NIFTI!');
  header.readHeader(data);
  return header;
}

function parseHeader(prefix: Uint8Array): Header {
  // A fresh ArrayBuffer: Buffer views may sit inside a shared pool at a non-zero offset.
  const copy = new Uint8Array(prefix).buffer;
  let header: Header;
  try {
    header = readNiftiHeader(copy);
  } catch (error) {
    throw new FormatError(`unreadable NIfTI header: ${(error as Error).message}${NOT_A_FILE_TYPE}`);
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
  if (!Number.isFinite(inter))
    throw new FormatError(
      `valid scl_slope ${slope} but invalid scl_inter ${inter}${nibabel('nib.load raises HeaderDataError')}`,
    );
  return { slope, inter };
}

/** nibabel's affine, or null where nibabel refuses the header's qform. */
function affineOf(header: Header, prefix: Uint8Array): number[][] | null {
  try {
    return nibabelAffine(prefix, header.littleEndian);
  } catch (error) {
    if (error instanceof FormatError) return null;
    throw error;
  }
}

function describe(header: Header, compressed: boolean, prefix: Uint8Array): NiftiSummary {
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
    affine: affineOf(header, prefix),
    description: header.description,
    compressed,
    totalVoxels: shape.reduce((a, b) => a * b, 1),
  };
}
