/**
 * NPZ window caches: how many windows a file has and, per window, how many label samples are
 * > 0. Reads the ZIP directory from the tail, inflates only the `labels` member, and reads the
 * `.npy` header of `windows` (~95% of the file) only when its shape is asked for.
 *
 * Split in two halves so I/O and CPU can run in different places: `readNpzParts` makes the
 * few positional reads (on network storage each is a round trip: one speculative tail read
 * usually covers everything), `summarizeParts` inflates and counts.
 */
import { Category, windowCategory } from './category';
import { PositiveCounts } from '../numpy/counting';
import { crc32, inflateChunks, inflateRawAll, inflateRawPrefix } from '../io/inflate';
import { NpyHeader, parseNpyHeader } from '../numpy/npy';
import { ByteSource, FormatError, memorySource, prefetchTail, readChunks, readExact } from '../io/source';
import { memberDataOffset, readMemberData, readZipDirectory, TAIL_READ, ZipMember } from '../io/zip';

export interface NpzSummary {
  /** labels.shape[0] when there are labels (what training iterates), else windows.shape[0]. */
  windowCount: number;
  hasLabels: boolean;
  /** Per window, the number of label samples > 0 (empty without labels). */
  positives: number[];
  /** Label samples per window: labels[w].size. */
  samplesPerWindow: number;
  /** windows.shape: read only when asked for (`windowsShape` option) or when there are no labels. */
  windowsShape?: number[];
  labelsShape?: number[];
  labelsDtype?: string;
  /** Oddities worth telling the user that do not make the file unreadable. */
  notes: string[];
}

/** Category of window `w`; files without labels put every window in no_seizure. */
export function categoryOf(summary: NpzSummary, window: number): Category {
  return summary.hasLabels ? windowCategory(summary.positives[window], summary.samplesPerWindow) : 'no_seizure';
}

/** np.load's key lookup: a member `name.npy`, or one named exactly `name`. */
function findMember(members: Map<string, ZipMember>, key: string): ZipMember | undefined {
  return members.get(`${key}.npy`) ?? members.get(key);
}

export interface NpzReadOptions {
  /** Also read windows' `.npy` header (windows.shape): only `_dataset_index.json` checks need it. */
  windowsShape?: boolean;
  /** Compressed labels larger than this (default 64 MiB) are not read by `readNpzParts` but streamed while counting. */
  maxLabelsInMemory?: number;
}

/** What `readNpzParts` found: plain data, so it can cross to a worker thread. */
export interface NpzParts {
  windowsShape?: number[];
  labels?: {
    member: ZipMember;
    dataOffset: number;
    /** The member's compressed bytes; absent when they are to be streamed from the file. */
    compressed?: Uint8Array;
  };
}

/**
 * The I/O half: one speculative tail read (end records, directory and usually a small `labels`
 * member), then at most one more round of reads, side by side: the rest of `labels` and, when
 * asked for, the start of `windows`.
 */
export async function readNpzParts(source: ByteSource, options: NpzReadOptions = {}): Promise<NpzParts> {
  const cached = await prefetchTail(source, TAIL_READ);
  const members = await readZipDirectory(cached);
  const windows = findMember(members, 'windows');
  const labels = findMember(members, 'labels');
  if (!windows && !labels) throw new FormatError('has neither a windows nor a labels array');
  const readLabels = async (member: ZipMember): Promise<NpzParts['labels']> => {
    if (member.compressedSize > (options.maxLabelsInMemory ?? ONE_SHOT_LIMIT)) return { member, dataOffset: await memberDataOffset(cached, member) };
    const { dataOffset, data } = await readMemberData(cached, member);
    return { member, dataOffset, compressed: data };
  };
  // Side by side; when both fail, the windows error is the one reported (as when read in turn).
  const [windowsHeader, labelsPart] = await Promise.allSettled([
    windows && (options.windowsShape || !labels) ? readMemberHeader(cached, windows) : undefined,
    labels ? readLabels(labels) : undefined,
  ]);
  if (windowsHeader.status === 'rejected') throw windowsHeader.reason;
  if (labelsPart.status === 'rejected') throw labelsPart.reason;
  return { windowsShape: windowsHeader.value?.shape, labels: labelsPart.value };
}

/** The CPU half: inflates and counts labels. `source` is needed only for labels left to stream. */
export async function summarizeParts(parts: NpzParts, source?: ByteSource): Promise<NpzSummary> {
  const notes: string[] = [];
  const windowsShape = parts.windowsShape;
  if (!parts.labels) {
    if (!windowsShape) throw new FormatError('has neither a windows nor a labels array');
    if (windowsShape.length === 0) throw new FormatError('windows is a 0-d array');
    return { windowCount: windowsShape[0], hasLabels: false, positives: [], samplesPerWindow: 0, windowsShape, notes };
  }
  const { member, dataOffset, compressed } = parts.labels;
  if (!compressed && !source) throw new Error('labels were left to stream, but no source was given');
  const data = compressed ? memorySource(compressed) : memberSlice(source!, dataOffset, member.compressedSize);
  const counts = await countLabels(data, member);
  const labelsShape = counts.header.shape;
  if (windowsShape && windowsShape[0] !== labelsShape[0]) {
    notes.push(`labels has ${labelsShape[0]} windows but windows has ${windowsShape[0]}; training follows labels`);
  }
  return {
    windowCount: labelsShape[0],
    hasLabels: true,
    positives: Array.from(counts.counter.counts),
    samplesPerWindow: counts.counter.rowSize,
    windowsShape,
    labelsShape,
    labelsDtype: counts.header.dtype.name,
    notes,
  };
}

export async function summarizeNpz(source: ByteSource, options: NpzReadOptions = {}): Promise<NpzSummary> {
  return summarizeParts(await readNpzParts(source, options), source);
}

/** A member's compressed data as a source of its own (offset 0 = first data byte). */
function memberSlice(source: ByteSource, dataOffset: number, size: number): ByteSource {
  return { size, read: (offset, length) => source.read(dataOffset + offset, Math.min(length, size - offset)) };
}

// Deflate expands at most ~1032x: a 256-byte compressed prefix (numpy's 128-byte headers need
// less) inflates to at most ~260 KB even when the array after the header is all zeros.
const HEADER_PREFIX = 256;
const MAX_HEADER = 1 << 20;

/** Parses a member's `.npy` header from its data (`data` offset 0 = first data byte), given its first bytes. */
async function parseMemberHeader(member: ZipMember, first: Uint8Array, data: ByteSource): Promise<NpyHeader> {
  for (let raw = first; ; ) {
    const prefix = member.method === 0 ? raw : inflateRawPrefix(raw);
    const header = parseNpyHeader(prefix);
    if (header) return header;
    if (raw.length >= member.compressedSize || prefix.length > MAX_HEADER) {
      throw new FormatError(`${member.name}: truncated or oversized .npy header`);
    }
    raw = await readExact(data, 0, Math.min(raw.length * 4, member.compressedSize), `${member.name} header`);
  }
}

function memberHeader(data: ByteSource, member: ZipMember): Promise<NpyHeader> {
  return readExact(data, 0, Math.min(HEADER_PREFIX, member.compressedSize), `${member.name} header`).then((first) => parseMemberHeader(member, first, data));
}

/** Reads a member's `.npy` header (with its local header, in one read) without touching the rest of the member. */
async function readMemberHeader(source: ByteSource, member: ZipMember): Promise<NpyHeader> {
  const { dataOffset, data } = await readMemberData(source, member, HEADER_PREFIX);
  return parseMemberHeader(member, data, memberSlice(source, dataOffset, member.compressedSize));
}

/**
 * Per window, positives in each of `bins` equal slices of the window's samples: the data of
 * the seizure-label trace pictures. Bins must divide the samples per window; C-order only.
 */
export async function labelTrace(source: ByteSource, maxBins = 240): Promise<{ windows: number; bins: number; samplesPerBin: number; counts: number[] }> {
  const cached = await prefetchTail(source, TAIL_READ);
  const labels = findMember(await readZipDirectory(cached), 'labels');
  if (!labels) throw new FormatError('has no labels array');
  const data = memberSlice(cached, await memberDataOffset(cached, labels), labels.compressedSize);
  const header = await memberHeader(data, labels);
  const samples = header.shape.slice(1).reduce((a, b) => a * b, 1);
  let bins = header.fortranOrder && samples > 1 ? 1 : Math.min(maxBins, samples);
  while (bins > 1 && samples % bins !== 0) bins--;
  const { counter } = await countLabels(data, labels, Math.max(1, bins));
  return { windows: header.shape[0], bins, samplesPerBin: samples / Math.max(1, bins), counts: Array.from(counter.counts) };
}

// Labels up to this size (a 1,000-window cache of float32 is 61 MB) inflate in one call into an
// exactly sized buffer: measured 2x faster than the stream, whose per-chunk copies dominate.
// Larger ones stream, so memory stays bounded whatever the cache.
const ONE_SHOT_LIMIT = 64 << 20;

async function* memberAtOnce(data: ByteSource, member: ZipMember, expected: number): AsyncGenerator<Uint8Array> {
  const raw = await readExact(data, 0, member.compressedSize, `${member.name} data`);
  if (member.method === 0) return yield raw;
  // One byte of headroom: output beyond the declared size shows up as a longer result.
  yield inflateRawAll(raw, expected + 1);
}

function memberStream(data: ByteSource, member: ZipMember): AsyncIterable<Uint8Array> {
  const compressed = readChunks(data, 0, member.compressedSize);
  return member.method === 0 ? compressed : inflateChunks(compressed, 'raw');
}

/** Counts positives per window (or per bin) of `labels`; `data` holds its compressed bytes from offset 0. */
async function countLabels(data: ByteSource, member: ZipMember, binsPerWindow = 1): Promise<{ header: NpyHeader; counter: PositiveCounts }> {
  const header = await memberHeader(data, member);
  if (header.shape.length === 0) throw new FormatError('labels is a 0-d array');
  const expected = header.dataOffset + header.dataBytes;
  // The directory's size must agree with the header; a member that claims (or turns out) to be
  // larger is a ZIP bomb or a lying header, and we stop rather than inflate it.
  if (member.uncompressedSize !== expected) {
    throw new FormatError(
      `labels member is ${member.uncompressedSize} bytes but its .npy header (shape ${JSON.stringify(header.shape)}, ${header.dtype.name}) requires ${expected}`,
    );
  }
  const counter = new PositiveCounts(header.dtype, header.dataBytes / header.dtype.size, header.shape[0] * binsPerWindow, header.fortranOrder);
  const stream = expected <= ONE_SHOT_LIMIT ? memberAtOnce(data, member, expected) : memberStream(data, member);
  let produced = 0;
  let crc = 0;
  for await (const chunk of stream) {
    if (produced + chunk.length > expected) {
      throw new FormatError(`labels member inflates beyond the ${expected} bytes its .npy header declares (ZIP bomb or corrupt data)`);
    }
    crc = crc32(chunk, crc);
    const dataStart = Math.max(0, header.dataOffset - produced);
    if (dataStart < chunk.length) counter.push(chunk.subarray(dataStart));
    produced += chunk.length;
  }
  if (produced !== expected || !counter.complete) {
    throw new FormatError(`labels member ends after ${produced} of ${expected} bytes (truncated)`);
  }
  if ((crc >>> 0) !== member.crc32) throw new FormatError('labels member fails its CRC-32 check (corrupt data)');
  return { header, counter };
}
