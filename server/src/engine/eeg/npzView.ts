/**
 * What the NPZ view shows beyond the check's summary: every member's shape, element type and
 * sizes (from the ZIP directory and each `.npy` header, never the data), what one training read
 * costs, and one window's samples on demand. A window is read by inflating the member from its
 * start up to the window's end and stopping there (deflate cannot seek): one window in memory,
 * and nothing past it inflated.
 */
import { valueReader } from '../numpy/elements';
import type { NpyHeader } from '../numpy/npy';
import { ByteSource, FormatError } from '../io/source';
import { readZipDirectory, ZipMember } from '../io/zip';
import { findMember, memberBytes, readMemberHeader, readNpzSpans } from './npz';

export interface NpzMemberInfo {
  /** The name in the archive, e.g. `windows.npy`; `key` is what np.load calls it (`windows`). */
  name: string;
  key: string;
  /** 0 stored, 8 deflate, others as the ZIP directory says. */
  method: number;
  compressedBytes: number;
  uncompressedBytes: number;
  shape?: number[];
  /** numpy's dtype string, e.g. `<f4`. */
  dtype?: string;
  /** Bytes per element (`dtype.itemsize`). */
  elementBytes?: number;
  fortranOrder?: boolean;
  /** Why the `.npy` header could not be read (the member is then shown without a shape). */
  error?: string;
}

/** Most members listed (numpy's caches hold two; a hostile archive can name millions). */
export const MAX_LISTED_MEMBERS = 200;

/** The archive's members in directory order, each with its `.npy` header when it has one. */
export async function listNpzMembers(file: ByteSource): Promise<{ members: NpzMemberInfo[]; total: number }> {
  const source = await readNpzSpans(file, { labels: false });
  const directory = await readZipDirectory(source);
  const listed = [...directory.values()].slice(0, MAX_LISTED_MEMBERS);
  const members = await Promise.all(
    listed.map(async (member): Promise<NpzMemberInfo> => {
      const info: NpzMemberInfo = {
        name: member.name,
        key: member.name.replace(/\.npy$/, ''),
        method: member.method,
        compressedBytes: member.compressedSize,
        uncompressedBytes: member.uncompressedSize,
      };
      if (member.encrypted || (member.method !== 0 && member.method !== 8))
        return { ...info, error: member.encrypted ? 'encrypted' : `compression method ${member.method}` };
      try {
        const { header } = await readMemberHeader(source, member);
        return {
          ...info,
          shape: header.shape,
          dtype: header.dtype.name,
          elementBytes: header.dtype.size,
          fortranOrder: header.fortranOrder,
        };
      } catch (error) {
        return { ...info, error: (error as Error).message };
      }
    }),
  );
  return { members, total: directory.size };
}

/**
 * What `EEGWindowDataset.__getitem__` reads for one window: `np.load(cache)["windows"]` inflates
 * and CRC-checks the whole `windows` member before indexing `[window_idx]`, and the same for
 * `labels` (brain-go-brr-v2 src/brain_brr/data/datasets.py).
 */
export interface TrainingReadCost {
  /** Bytes inflated per `__getitem__`: the whole `windows` member, plus `labels` when present. */
  inflatedBytes: number;
  /** Compressed bytes read from the file for them. */
  readBytes: number;
  /** The bytes of the one window actually used (`windows[w]`). */
  windowBytes: number;
}

export function trainingReadCost(members: NpzMemberInfo[]): TrainingReadCost | undefined {
  const windows = members.find((m) => m.key === 'windows');
  if (!windows?.shape || windows.shape.length === 0 || windows.elementBytes === undefined) return undefined;
  const read = [windows, ...members.filter((m) => m.key === 'labels')];
  const rowElements = windows.shape.slice(1).reduce((a, b) => a * b, 1);
  return {
    inflatedBytes: read.reduce((n, m) => n + m.uncompressedBytes, 0),
    readBytes: read.reduce((n, m) => n + m.compressedBytes, 0),
    windowBytes: rowElements * windows.elementBytes,
  };
}

/** One row of a member (`member[row]`), decoded, and what reaching it cost. */
export interface MemberRow {
  /** The row's shape (the member's shape without its first axis). */
  shape: number[];
  dtype: string;
  /** The row's values as float64 (numpy's cast), C order. */
  values: Float64Array;
  /** Bytes inflated (or read, for a stored member) to reach the row's end, header included. */
  inflatedBytes: number;
}

/** Largest row read (a 19-channel, 60 s window of float32 is 1.2 MB). */
export const MAX_ROW_BYTES = 64 << 20;

/**
 * `np.load(f)[key][row]` for one row, inflating only up to the row's end. A row past the end, a
 * Fortran-order array (whose rows are not contiguous) or a damaged stream is a FormatError.
 */
export async function readMemberRow(file: ByteSource, key: string, row: number): Promise<MemberRow> {
  const source = await readNpzSpans(file, { labels: false });
  const member = findMember(await readZipDirectory(source), key);
  if (!member) throw new FormatError(`has no ${key} array`);
  const { header, dataOffset } = await readMemberHeader(source, member);
  const rowBytes = checkRow(member, header, row);
  const start = header.dataOffset + row * rowBytes;
  const end = start + rowBytes;
  const bytes = new Uint8Array(rowBytes);
  let position = 0;
  for await (const chunk of memberBytes(source, member, dataOffset, end)) {
    const from = Math.max(start, position);
    const to = Math.min(end, position + chunk.length);
    if (to > from) bytes.set(chunk.subarray(from - position, to - position), from - start);
    position += chunk.length;
    if (position >= end) break;
  }
  if (position < end)
    throw new FormatError(`${member.name} ends after ${position} bytes, before row ${row} ends at ${end} (truncated)`);
  const read = valueReader(header.dtype);
  const view = new DataView(bytes.buffer);
  const size = header.dtype.size;
  const values = new Float64Array(rowBytes / size);
  for (let i = 0; i < values.length; i++) values[i] = read(view, i * size);
  return { shape: header.shape.slice(1), dtype: header.dtype.name, values, inflatedBytes: position };
}

function checkRow(member: ZipMember, header: NpyHeader, row: number): number {
  if (header.shape.length === 0) throw new FormatError(`${member.name} is a 0-d array: it has no rows`);
  const rows = header.shape[0];
  if (!Number.isInteger(row) || row < 0 || row >= rows)
    throw new FormatError(`row ${row} is outside ${member.name}'s ${rows} rows`);
  const rowBytes = rows === 0 ? 0 : header.dataBytes / rows;
  if (header.fortranOrder && header.shape.slice(1).some((n) => n > 1))
    throw new FormatError(`${member.name} is stored in Fortran order: a row is not one contiguous range`);
  if (rowBytes > MAX_ROW_BYTES)
    throw new FormatError(
      `a row of ${member.name} holds ${rowBytes} bytes, more than the ${MAX_ROW_BYTES} NeuroCache reads`,
    );
  return rowBytes;
}

/** One window for the view: each channel's range per column (an EEG trace), and its label trace. */
export interface WindowTrace {
  window: number;
  /** windows.shape[1:], e.g. [19, 15360]. */
  shape: number[];
  /** Samples per channel, and how many fall into each column. */
  samples: number;
  samplesPerColumn: number;
  /** Per channel, the smallest and largest sample in each column (null where a column holds none that is finite). */
  channels: { min: (number | null)[]; max: (number | null)[] }[];
  /** Per column of the label row, the share of label samples > 0; absent without labels. */
  labels?: number[];
  /** Bytes inflated to reach this window in `windows` (and in `labels`). */
  inflatedBytes: number;
}

/** Columns per channel trace: enough for a view's width, bounded whatever the window's length. */
export const TRACE_COLUMNS = 600;
/** Most channels drawn (a window of (10^5, 2) would otherwise send 10^5 traces). */
export const MAX_TRACE_CHANNELS = 64;

/** Window `window` of an EEG cache: `windows[window]` as per-channel ranges, `labels[window]` as fractions. */
export async function readWindowTrace(file: ByteSource, window: number): Promise<WindowTrace> {
  const windows = await readMemberRow(file, 'windows', window);
  const [channelCount, samples] =
    windows.shape.length >= 2
      ? [windows.shape[0], windows.values.length / Math.max(1, windows.shape[0])]
      : [1, windows.values.length];
  const columns = Math.max(1, Math.min(TRACE_COLUMNS, samples));
  const samplesPerColumn = Math.ceil(samples / columns);
  const channels = Array.from({ length: Math.min(channelCount, MAX_TRACE_CHANNELS) }, (_, c) =>
    ranges(windows.values.subarray(c * samples, (c + 1) * samples), samplesPerColumn, (slice) => finiteRange(slice)),
  ).map((cols) => ({ min: cols.map((r) => r[0]), max: cols.map((r) => r[1]) }));
  let labels: number[] | undefined;
  let inflatedBytes = windows.inflatedBytes;
  const labelRow = await readMemberRow(file, 'labels', window).catch((error) => {
    if (error instanceof FormatError && /has no labels array/.test(error.message)) return undefined;
    throw error;
  });
  if (labelRow) {
    inflatedBytes += labelRow.inflatedBytes;
    const perColumn = Math.ceil(labelRow.values.length / Math.max(1, Math.min(TRACE_COLUMNS, labelRow.values.length)));
    labels = ranges(labelRow.values, perColumn, (slice) => [
      slice.reduce((n, v) => n + (v > 0 ? 1 : 0), 0) / slice.length,
    ]).map((r) => r[0]);
  }
  return { window, shape: windows.shape, samples, samplesPerColumn, channels, labels, inflatedBytes };
}

function ranges<T>(values: Float64Array, perColumn: number, measure: (slice: Float64Array) => T[]): T[][] {
  const out: T[][] = [];
  for (let at = 0; at < values.length; at += perColumn) out.push(measure(values.subarray(at, at + perColumn)));
  return out;
}

function finiteRange(slice: Float64Array): (number | null)[] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of slice) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? [min, max] : [null, null];
}
