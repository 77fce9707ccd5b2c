/**
 * NPZ window caches: how many windows a file has and, per window, how many label samples are
 * > 0. Reads the ZIP directory from the tail, inflates only the `labels` member, and only the
 * first bytes (the `.npy` header) of `windows`, which holds ~95% of the file.
 */
import { Category, windowCategory } from './category';
import { MAX_COUNTED_ROWS, PositiveCounts } from '../numpy/counting';
import { crc32, inflateChunks, inflateRawAll, inflateRawPrefix } from '../io/inflate';
import { NpyHeader, parseNpyHeader } from '../numpy/npy';
import { ByteSource, FormatError, readChunks, readExact } from '../io/source';
import { memberDataOffset, readZipDirectory, ZipMember } from '../io/zip';

export interface NpzSummary {
  /** labels.shape[0] when there are labels (what training iterates), else windows.shape[0]. */
  windowCount: number;
  hasLabels: boolean;
  /** Per window, the number of label samples > 0 (empty without labels or when windows have 0 samples). */
  positives: number[];
  /** Label samples per window: labels[w].size. */
  samplesPerWindow: number;
  windowsShape?: number[];
  labelsShape?: number[];
  labelsDtype?: string;
  /** Oddities worth telling the user that do not make the file unreadable. */
  notes: string[];
}

/**
 * Most windows NeuroCache counts or lists for one file. Real caches hold tens to thousands; a
 * file claiming more is corrupt or hostile (a 200-byte file can declare 10^8 empty windows).
 */
export const MAX_WINDOWS_PER_FILE = 1_000_000;

/** Category of window `w`; files without labels put every window in no_seizure. */
export function categoryOf(summary: NpzSummary, window: number): Category {
  return summary.hasLabels ? windowCategory(windowPositives(summary, window), summary.samplesPerWindow) : 'no_seizure';
}

/** Label samples > 0 in window `w`. Windows of 0 samples have no stored counts (all are 0). */
export function windowPositives(summary: NpzSummary, window: number): number {
  return summary.samplesPerWindow === 0 ? 0 : summary.positives[window];
}

/** np.load's key lookup: a member `name.npy`, or one named exactly `name`. */
function findMember(members: Map<string, ZipMember>, key: string): ZipMember | undefined {
  return members.get(`${key}.npy`) ?? members.get(key);
}

export async function summarizeNpz(source: ByteSource): Promise<NpzSummary> {
  const members = await readZipDirectory(source);
  const windows = findMember(members, 'windows');
  const labels = findMember(members, 'labels');
  const notes: string[] = [];
  const windowsHeader = windows ? (await readMemberHeader(source, windows)).header : undefined;
  if (windows && windowsHeader) {
    const note = lyingMemberNote(windows, windowsHeader);
    if (note) notes.push(note);
  }
  if (!labels) {
    if (!windowsHeader) throw new FormatError('has neither a windows nor a labels array');
    if (windowsHeader.shape.length === 0) throw new FormatError('windows is a 0-d array');
    return { windowCount: windowsHeader.shape[0], hasLabels: false, positives: [], samplesPerWindow: 0, windowsShape: windowsHeader.shape, notes };
  }
  const counts = await countLabels(source, labels);
  const labelsShape = counts.header.shape;
  if (windowsHeader && windowsHeader.shape[0] !== labelsShape[0]) {
    notes.push(`labels has ${labelsShape[0]} windows but windows has ${windowsHeader.shape[0]}; training follows labels`);
  }
  if (counts.counter.rowSize === 0 && labelsShape[0] > 0) {
    notes.push(
      `labels has shape ${pythonShape(labelsShape)}: its windows hold no label samples, so each window's seizure ratio is NaN ` +
        `(numpy's mean of an empty slice) and the Python builder lists all ${labelsShape[0]} windows as partial_seizure`,
    );
  }
  return {
    windowCount: labelsShape[0],
    hasLabels: true,
    positives: Array.from(counts.counter.counts),
    samplesPerWindow: counts.counter.rowSize,
    windowsShape: windowsHeader?.shape,
    labelsShape,
    labelsDtype: counts.header.dtype.name,
    notes,
  };
}

function pythonShape(shape: number[]): string {
  return `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
}

/**
 * A member whose size disagrees with its `.npy` header (e.g. a 128-byte `windows` claiming
 * (10^11, 15360)): numpy allocates the claimed shape first, then reads. Nothing of ours reads
 * `windows` data, so this is a note, computed from the directory alone.
 */
function lyingMemberNote(member: ZipMember, header: NpyHeader): string | undefined {
  const declared = header.dataOffset + header.dataBytes;
  if (member.uncompressedSize === declared) return undefined;
  return (
    `${member.name}'s .npy header declares shape ${pythonShape(header.shape)} (${declared} bytes) but the member holds ${member.uncompressedSize}: ` +
    `np.load(f)['${member.name.replace(/\.npy$/, '')}'] raises MemoryError (a shape too large to allocate) or ValueError, so training cannot read it; the manifest builder reads only labels`
  );
}

// Deflate expands at most ~1032x: a 256-byte compressed prefix (numpy's 128-byte headers need
// less) inflates to at most ~260 KB even when the array after the header is all zeros.
const HEADER_PREFIX = 256;
const MAX_HEADER = 1 << 20;

/** Reads a member's `.npy` header without touching the rest of the member. */
async function readMemberHeader(source: ByteSource, member: ZipMember): Promise<{ header: NpyHeader; dataOffset: number }> {
  const dataOffset = await memberDataOffset(source, member);
  for (let prefixLength = HEADER_PREFIX; ; prefixLength *= 4) {
    const length = Math.min(prefixLength, member.compressedSize);
    const raw = await readExact(source, dataOffset, length, `${member.name} header`);
    const prefix = member.method === 0 ? raw : inflateRawPrefix(raw);
    const header = parseNpyHeader(prefix);
    if (header) return { header, dataOffset };
    if (length === member.compressedSize || prefix.length > MAX_HEADER) {
      throw new FormatError(`${member.name}: truncated or oversized .npy header`);
    }
  }
}

/**
 * Per window, positives in each of `bins` equal slices of the window's samples: the data of
 * the seizure-label trace pictures. Bins must divide the samples per window; C-order only.
 */
export async function labelTrace(source: ByteSource, maxBins = 240): Promise<{ windows: number; bins: number; samplesPerBin: number; counts: number[] }> {
  const members = await readZipDirectory(source);
  const labels = findMember(members, 'labels');
  if (!labels) throw new FormatError('has no labels array');
  const { header } = await readMemberHeader(source, labels);
  const samples = header.shape.slice(1).reduce((a, b) => a * b, 1);
  // Bins of all windows are counted at once: keep the counter's rows bounded.
  const binsAllowed = Math.max(1, Math.floor(MAX_COUNTED_ROWS / Math.max(1, header.shape[0])));
  let bins = header.fortranOrder && samples > 1 ? 1 : Math.min(maxBins, samples, binsAllowed);
  while (bins > 1 && samples % bins !== 0) bins--;
  const { counter } = await countLabels(source, labels, Math.max(1, bins));
  return { windows: header.shape[0], bins, samplesPerBin: samples / Math.max(1, bins), counts: Array.from(counter.counts) };
}

// Labels up to this size (a 1,000-window cache of float32 is 61 MB) inflate in one call into an
// exactly sized buffer: measured 2x faster than the stream, whose per-chunk copies dominate.
// Larger ones stream, so memory stays bounded whatever the cache.
const ONE_SHOT_LIMIT = 64 << 20;

async function* memberAtOnce(source: ByteSource, member: ZipMember, dataOffset: number, expected: number): AsyncGenerator<Uint8Array> {
  const raw = await readExact(source, dataOffset, member.compressedSize, `${member.name} data`);
  if (member.method === 0) return yield raw;
  // One byte of headroom: output beyond the declared size shows up as a longer result.
  yield inflateRawAll(raw, expected + 1);
}

function memberStream(source: ByteSource, member: ZipMember, dataOffset: number): AsyncIterable<Uint8Array> {
  const compressed = readChunks(source, dataOffset, member.compressedSize);
  return member.method === 0 ? compressed : inflateChunks(compressed, 'raw');
}

async function countLabels(source: ByteSource, member: ZipMember, binsPerWindow = 1): Promise<{ header: NpyHeader; counter: PositiveCounts }> {
  const { header, dataOffset } = await readMemberHeader(source, member);
  if (header.shape.length === 0) throw new FormatError('labels is a 0-d array');
  const expected = header.dataOffset + header.dataBytes;
  // The directory's size must agree with the header; a member that claims (or turns out) to be
  // larger is a ZIP bomb or a lying header, and we stop rather than inflate it.
  if (member.uncompressedSize !== expected) {
    throw new FormatError(
      `labels member is ${member.uncompressedSize} bytes but its .npy header (shape ${JSON.stringify(header.shape)}, ${header.dtype.name}) requires ${expected}`,
    );
  }
  const windows = header.shape[0];
  const elements = header.dataBytes / header.dtype.size;
  // Windows of 0 samples hold no bytes and need no counts: (10^8, 0) costs nothing.
  if (elements > 0 && windows > MAX_WINDOWS_PER_FILE) {
    throw new FormatError(`labels has ${windows} windows, more than the ${MAX_WINDOWS_PER_FILE} NeuroCache reads per file (corrupt or not a window cache)`);
  }
  const counter = new PositiveCounts(header.dtype, elements, elements === 0 ? 0 : windows * binsPerWindow, header.fortranOrder);
  const stream = expected <= ONE_SHOT_LIMIT ? memberAtOnce(source, member, dataOffset, expected) : memberStream(source, member, dataOffset);
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
