/**
 * NPZ window caches: how many windows a file has and, per window, how many label samples are
 * > 0. Reads the ZIP directory from the tail, inflates only the `labels` member, and only the
 * first bytes (the `.npy` header) of `windows`, which holds ~95% of the file.
 *
 * A file numpy cannot load is reported with the exception numpy raises for it (numpyLoad.ts),
 * found by following the builder's own steps: `np.load` looks at the first bytes, opens the ZIP,
 * opens `labels`, reads its magic, header and data (CRC-checked only when it reads to the end),
 * then the builder takes `labels.shape[0]` and compares `labels[w] > 0`.
 *
 * On network storage every read is a round trip, so the bytes those steps read are fetched
 * first, side by side (`readNpzSpans`): usually one round of two reads (the file's start, the
 * last 64 KiB). The steps then run on memory; the pool does the fetching on the main thread,
 * many files at once, and hands the bytes to a worker thread for the inflating.
 */
import { Category, windowCategory } from './category';
import { MAX_COUNTED_ROWS, PositiveCounts } from '../numpy/counting';
import type { ElementType } from '../numpy/elements';
import { crc32, inflateChunks, InflateError, inflateRawAll, inflateRawPieces, inflateRawPrefix } from '../io/inflate';
import { NonNumericDtype, NpyHeader, NpyHeaderError, npyHeaderLength, parseNpyHeader } from '../numpy/npy';
import { ByteSource, FormatError, readChunks, readExact, SpanCache } from '../io/source';
import { memberDataOffset, memberSpan, readZipDirectory, TAIL_READ, ZipMember, ZipMemberError } from '../io/zip';
import { NumpyLoadError, PythonException, UnsupportedByNeuroCache } from './numpyLoad';
import { concatBytes } from '../io/concatBytes';
import { CheckedCounter } from '../numpy/checkedCount';
import { countingBuffer, returnCountingBuffer } from '../numpy/simdCount';

/** Fingerprint-store kind of NpzSummary results; bump when the summary's meaning changes. */
export const NPZ_SUMMARY_KIND = 'npz-v3';

export interface NpzSummary {
  /** labels.shape[0] when there are labels (what the builder iterates), else windows.shape[0] (0 when unknown). */
  windowCount: number;
  /** False: no `labels` array, and the builder leaves the file out. */
  hasLabels: boolean;
  /** Per window, the number of label samples > 0 (empty without labels or when windows have 0 samples). */
  positives: number[];
  /** Label samples per window: labels[w].size. */
  samplesPerWindow: number;
  windowsShape?: number[];
  labelsShape?: number[];
  labelsDtype?: string;
  /** `windows`' element type as numpy writes it (e.g. `<f4`) and its order, from its header. */
  windowsDtype?: string;
  windowsFortranOrder?: boolean;
  /** Per member, bytes stored in the ZIP and bytes inflated: what each `np.load(f)[key]` reads whole. */
  members: { windows?: MemberBytes; labels?: MemberBytes };
  /** `windows` cannot be read (the builder never reads it; training fails on it). */
  windowsError?: string;
  /** Oddities worth telling the user that do not make the file unreadable. */
  notes: string[];
}

export interface MemberBytes {
  /** Bytes of the member in the file (compressed, or as stored). */
  stored: number;
  /** Bytes zipfile delivers: the whole `.npy` stream numpy reads. */
  inflated: number;
}

const memberBytesOf = (member: ZipMember | undefined): MemberBytes | undefined =>
  member && { stored: member.compressedSize, inflated: member.uncompressedSize };

/**
 * Most windows NeuroCache counts or lists for one file. Real caches hold tens to thousands; a
 * file claiming more is corrupt or hostile (a 200-byte file can declare 10^8 empty windows).
 */
export const MAX_WINDOWS_PER_FILE = 1_000_000;

/** Category of window `w` of a file with labels. */
export function categoryOf(summary: NpzSummary, window: number): Category {
  return windowCategory(windowPositives(summary, window), summary.samplesPerWindow);
}

/** Label samples > 0 in window `w`. Windows of 0 samples have no stored counts (all are 0). */
export function windowPositives(summary: NpzSummary, window: number): number {
  return summary.samplesPerWindow === 0 ? 0 : summary.positives[window];
}

/**
 * The ZIP directory of a file whose bytes were fetched (a SpanCache), parsed once: the reading
 * steps below each ask for it. Of any other source, parsed at each call.
 */
export function npzDirectory(source: ByteSource): Promise<Map<string, ZipMember>> {
  if (!(source instanceof SpanCache)) return readZipDirectory(source);
  let directory = directories.get(source);
  if (!directory) directories.set(source, (directory = readZipDirectory(source)));
  return directory;
}
const directories = new WeakMap<SpanCache, Promise<Map<string, ZipMember>>>();

/** np.load's key lookup: a member named exactly `name` first, then `name.npy`. */
export function findMember(members: Map<string, ZipMember>, key: string): ZipMember | undefined {
  return members.get(key) ?? members.get(`${key}.npy`);
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
const startsWith = (bytes: Uint8Array, prefix: number[]) => prefix.every((b, i) => bytes[i] === b);

/**
 * np.load's first step: it reads 6 bytes and picks a reader. A ZIP (`PK\3\4` or `PK\5\6`) goes on;
 * anything else ends here with what numpy raises.
 */
async function checkMagic(source: ByteSource): Promise<void> {
  const head = await readExact(source, 0, Math.min(6, source.size), 'file start');
  if (head.length === 0) {
    throw new NumpyLoadError('empty file', 'EOFError', { exception: 'ValueError', upTo: '1.24' });
  }
  if (startsWith(head, [0x50, 0x4b, 3, 4]) || startsWith(head, [0x50, 0x4b, 5, 6])) return;
  if (head.length === 6 && startsWith(head, NPY_MAGIC)) {
    // A plain .npy named .npz: np.load returns an array (if it loads at all), which `with` refuses.
    const header = await plainNpyHeader(source);
    if (source.size < header.dataOffset + header.dataBytes)
      throw new NumpyLoadError('a truncated plain .npy array, not an .npz archive', 'ValueError');
    throw new NumpyLoadError(
      "a plain .npy array, not an .npz archive: the builder's `with np.load(...)` fails on it",
      'TypeError',
    );
  }
  throw new NumpyLoadError('not a ZIP archive (numpy then tries to unpickle it and refuses)', 'ValueError');
}

/** The file's first bytes, read with its tail: np.load's magic, and (numpy writes it first) `windows`' headers. */
export const HEAD_READ = 4 << 10;

export interface NpzReadOptions {
  /** Compressed `labels` larger than this (default 64 MiB) are not fetched ahead but streamed while counting. */
  maxLabelsInMemory?: number;
  /** false: only the window count is wanted, not `labels`. */
  labels?: boolean;
}

/**
 * The I/O half: fetches what the reading steps below will read, in at most two rounds of reads
 * side by side. First the start of the file and its last 64 KiB, which usually hold np.load's
 * magic, `windows`' headers, the end records, the central directory and the whole `labels`
 * member; then, from the directory, whatever of those members' headers and `labels`' data
 * they missed. Returns a source answering from the fetched bytes (and reading anything else).
 */
export async function readNpzSpans(source: ByteSource, options: NpzReadOptions = {}): Promise<SpanCache> {
  const cache = SpanCache.over(source);
  await cache.prefetch([
    [0, HEAD_READ],
    [source.size - TAIL_READ, source.size],
  ]);
  let members: Map<string, ZipMember>;
  try {
    members = await npzDirectory(cache);
  } catch {
    return cache; // not a readable ZIP: the steps report it as numpy would
  }
  const wanted: [number, number][] = [];
  const windows = findMember(members, 'windows');
  if (windows) wanted.push(memberSpan(windows, HEADER_PREFIX, source.size));
  const labels = findMember(members, 'labels');
  if (labels && options.labels !== false) {
    const whole = labels.compressedSize <= (options.maxLabelsInMemory ?? ONE_SHOT_LIMIT);
    wanted.push(memberSpan(labels, whole ? labels.compressedSize : HEADER_PREFIX, source.size));
  }
  await cache.prefetch(wanted);
  return cache;
}

export async function summarizeNpz(file: ByteSource, options: NpzReadOptions = {}): Promise<NpzSummary> {
  const source = await readNpzSpans(file, options);
  // Both reads at once (one round trip on network storage); np.load's magic check decides first.
  const [magic, directory] = await Promise.allSettled([checkMagic(source), npzDirectory(source)]);
  if (magic.status === 'rejected') throw magic.reason;
  if (directory.status === 'rejected') badZip(directory.reason);
  const members = directory.value;
  const windows = findMember(members, 'windows');
  const labels = findMember(members, 'labels');
  const notes: string[] = [];
  // The builder never reads windows: a damaged one is noted, not fatal (training fails on it).
  let windowsShape: number[] | undefined;
  let windowsDtype: string | undefined;
  let windowsFortranOrder: boolean | undefined;
  let windowsError: string | undefined;
  const memberSizes = { windows: memberBytesOf(windows), labels: memberBytesOf(labels) };
  if (windows) {
    try {
      const { header } = await readMemberHeader(source, windows);
      windowsShape = header.shape;
      windowsDtype = header.dtype.name;
      windowsFortranOrder = header.fortranOrder;
      const note = lyingMemberNote(windows, header);
      if (note) notes.push(note);
      if (windowsShape.length === 0) windowsError = 'windows is a 0-d array';
    } catch (error) {
      if (!(error instanceof FormatError)) throw error;
      windowsError = error.message;
    }
  } else windowsError = 'has no windows array';
  if (!labels) {
    return {
      windowCount: windowsShape?.[0] ?? 0,
      hasLabels: false,
      positives: [],
      samplesPerWindow: 0,
      windowsShape,
      windowsDtype,
      windowsFortranOrder,
      members: memberSizes,
      windowsError,
      notes,
    };
  }
  const counts = await countLabels(source, labels);
  const labelsShape = counts.header.shape;
  // labels.shape[0] against windows.shape[0] is a coded finding (windowHeaders.ts), not a note.
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
    windowsShape,
    labelsShape,
    labelsDtype: counts.header.dtype.name,
    windowsDtype,
    windowsFortranOrder,
    members: memberSizes,
    windowsError,
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

/** `windows.shape[0]` from its `.npy` header only: what training counts for `_dataset_index.json`. */
export async function readWindowCount(file: ByteSource): Promise<number> {
  const source = await readNpzSpans(file, { labels: false });
  const windows = findMember(await npzDirectory(source), 'windows');
  if (!windows) throw new FormatError('has no windows array');
  const { shape } = (await readMemberHeader(source, windows)).header;
  if (shape.length === 0) throw new FormatError('windows is a 0-d array');
  return shape[0];
}

/**
 * Where `windows`' bytes start in the file, and how they are stored: for the deep check, which
 * streams the whole member (the reads before it are the usual two: start and tail).
 */
export async function locateWindowsMember(source: ByteSource): Promise<{ member: ZipMember; dataOffset: number }> {
  const windows = findMember(await npzDirectory(source).catch(badZip), 'windows');
  if (!windows) throw new FormatError('has no windows array');
  if (windows.encrypted || (windows.method !== 0 && windows.method !== 8)) {
    throw new UnsupportedByNeuroCache(
      `windows is ${windows.encrypted ? 'encrypted' : `compressed with method ${windows.method}`}, which the deep check cannot read`,
    );
  }
  const dataOffset = await memberDataOffset(source, windows).catch((error) => {
    throw classifyOpenError(error);
  });
  return { member: windows, dataOffset };
}

async function plainNpyHeader(source: ByteSource): Promise<NpyHeader> {
  for (let length = HEADER_PREFIX; ; length *= 4) {
    const prefix = await readExact(source, 0, Math.min(length, source.size), 'file start');
    let header: NpyHeader | undefined;
    try {
      header = parseMemberHeader(prefix);
    } catch (error) {
      if (error instanceof NonNumericDtype)
        throw new NumpyLoadError('a plain .npy array, not an .npz archive', 'TypeError');
      throw error;
    }
    if (header) return header;
    if (prefix.length === source.size)
      throw new NumpyLoadError('a truncated plain .npy array, not an .npz archive', 'ValueError');
  }
}

function badZip(error: unknown): never {
  if (error instanceof FormatError) throw new NumpyLoadError(error.message, 'zipfile.BadZipFile');
  throw error;
}

// Deflate expands at most ~1032x: a 256-byte compressed prefix (numpy's 128-byte headers need
// less) inflates to at most ~260 KB even when the array after the header is all zeros.
const HEADER_PREFIX = 256;
const MAX_HEADER = 1 << 20;
/** Bytes of output inflated per byte of compressed prefix while looking for a header. */
const HEADER_EXPANSION = 16;

/** Reads a member's `.npy` header without touching the rest of the member. */
export async function readMemberHeader(
  source: ByteSource,
  member: ZipMember,
): Promise<{ header: NpyHeader; dataOffset: number }> {
  const dataOffset = await memberDataOffset(source, member);
  for (let prefixLength = HEADER_PREFIX; ; prefixLength *= 4) {
    const length = Math.min(prefixLength, member.compressedSize);
    const raw = await readExact(source, dataOffset, length, `${member.name} header`);
    // Inflated as far as a header this long can need (numpy's 128-byte headers: 4 KiB, not the
    // ~260 KB a prefix of zeros holds); a longer one is looked for with a longer prefix.
    const outputLimit = prefixLength * HEADER_EXPANSION;
    const prefix = member.method === 0 ? raw : inflateRawPrefix(raw, outputLimit);
    const header = knownNpyHeader(prefix);
    if (header) return { header, dataOffset };
    const cut = member.method !== 0 && prefix.length === outputLimit;
    if ((length === member.compressedSize && !cut) || prefix.length > MAX_HEADER) {
      throw new FormatError(`${member.name}: truncated or oversized .npy header`);
    }
  }
}

/**
 * Per window, positives in each of `bins` equal slices of the window's samples: the data of
 * the seizure-label trace pictures. Bins must divide the samples per window; C-order only.
 */
export async function labelTrace(
  file: ByteSource,
  maxBins = 240,
): Promise<{ windows: number; bins: number; samplesPerBin: number; counts: number[] }> {
  const source = await readNpzSpans(file);
  const members = await npzDirectory(source);
  const labels = findMember(members, 'labels');
  if (!labels) throw new FormatError('has no labels array');
  const { header } = await readMemberHeader(source, labels);
  const samples = header.shape.slice(1).reduce((a, b) => a * b, 1);
  // Bins of all windows are counted at once: keep the counter's rows bounded.
  const binsAllowed = Math.max(1, Math.floor(MAX_COUNTED_ROWS / Math.max(1, header.shape[0])));
  let bins = header.fortranOrder && samples > 1 ? 1 : Math.min(maxBins, samples, binsAllowed);
  while (bins > 1 && samples % bins !== 0) bins--;
  const { counter } = await countLabels(source, labels, Math.max(1, bins));
  return {
    windows: header.shape[0],
    bins,
    samplesPerBin: samples / Math.max(1, bins),
    counts: Array.from(counter.counts),
  };
}

// Labels up to this size (a 1,000-window cache of float32 is 61 MB) inflate in one call into an
// exactly sized buffer: measured 2x faster than the stream, whose per-chunk copies dominate.
// Larger ones stream, so memory stays bounded whatever the cache.
const ONE_SHOT_LIMIT = 64 << 20;
/**
 * The piece a whole `labels` member is inflated into and counted from, in WebAssembly memory:
 * 1 MiB, a core's L2 cache here (AMD EPYC, 1 MiB per core). Fewer pieces mean fewer turns of the
 * JavaScript loop around the kernels, and fewer runs cut at a piece's end, which a short process
 * runs before its JIT has compiled it. Measured with farm-bench, 30 paired whole-process runs of
 * the bench's 160-file local build: CPU 0.91x and wall 0.95x of 256 KiB pieces (4 MiB pieces gave
 * the same); at 40 files 0.99x (within the noise). A NIfTI's pieces stay at PIECE_SIZE: the
 * bench's lesion counts measured the same with 1 MiB (1.44-1.50x their bound either way).
 */
const LABELS_PIECE_SIZE = 1 << 20;

/** The member's bytes as zipfile delivers them, cut at `limit`; inflate problems are thrown as InflateError. */
export async function* memberBytes(
  source: ByteSource,
  member: ZipMember,
  dataOffset: number,
  limit: number,
): AsyncGenerator<Uint8Array> {
  if (member.method === 0) {
    const length = Math.min(member.compressedSize, limit);
    // One read when it fits (one round trip on network storage), chunks beyond.
    if (length <= ONE_SHOT_LIMIT) return yield await readExact(source, dataOffset, length, `${member.name} data`);
    for await (const chunk of readChunks(source, dataOffset, length)) yield chunk;
    return;
  }
  if (limit <= ONE_SHOT_LIMIT && member.uncompressedSize <= limit) {
    const raw = await readExact(source, dataOffset, member.compressedSize, `${member.name} data`);
    try {
      return yield inflateRawAll(raw, limit + 1).subarray(0, limit);
    } catch (error) {
      // Invalid, truncated or longer than declared: the stream below finds where, as zipfile would.
      if (!(error instanceof FormatError)) throw error;
    }
  }
  let produced = 0;
  for await (const chunk of inflateChunks(readChunks(source, dataOffset, member.compressedSize), 'raw')) {
    const take = chunk.subarray(0, limit - produced);
    produced += take.length;
    yield take;
    if (produced === limit) return;
  }
}

/**
 * Makes the counter for an array once its header is known (undefined: nothing to count, for a
 * 0-d array); the counter is fed the data bytes and, with them, their CRC (checkedCount.ts).
 */
type CounterFor = (header: NpyHeader) => PositiveCounts | undefined;

/** Feeds `counter`'s data and extends `crc` by it; without a counter, only the CRC. */
function checkedPush(checked: CheckedCounter | undefined, data: Uint8Array, crc: number): number {
  return checked ? checked.push(data, crc) : crc32(data, crc);
}

/**
 * What numpy's read_array does with a ZIP member's stream: the `.npy` header, then exactly the
 * data bytes it declares. zipfile delivers at most the member's declared size, raises
 * zlib.error on an invalid stream, and checks the CRC only when a read reaches the member's
 * end (so bytes after the array are never checked). Returns the header; the counter `counterFor`
 * makes receives the data. The exact way, for any member: readWholeArray is the quick one.
 */
async function readArray(
  source: ByteSource,
  dataOffset: number,
  member: ZipMember,
  counterFor: CounterFor,
): Promise<NpyHeader> {
  const declared = member.uncompressedSize;
  let header: NpyHeader | undefined;
  let limit = declared; // what numpy reads: until the header is known, anything up to the declared size
  let produced = 0;
  let crc = 0;
  let pending: Uint8Array = new Uint8Array(0);
  let checked: CheckedCounter | undefined;
  try {
    for await (const chunk of memberBytes(source, member, dataOffset, declared)) {
      // Bytes past `limit` only ever enter the CRC when it is never checked (limit < declared).
      const data = chunk.subarray(0, limit - produced);
      produced += data.length;
      if (header) crc = checkedPush(checked, data, crc);
      else {
        crc = crc32(data, crc);
        pending = concatBytes(pending, data);
        header = parseMemberHeader(pending);
        if (!header) continue;
        limit = Math.min(declared, header.dataOffset + header.dataBytes);
        produced = Math.min(produced, limit);
        checked = checkedCounterOf(counterFor(header));
        // The data already in `pending` is in the CRC: it is only counted.
        if (produced > header.dataOffset) checked?.counter.push(pending.subarray(header.dataOffset, produced));
        pending = new Uint8Array(0);
      }
      if (produced >= limit) break;
    }
  } catch (error) {
    // A stream that ends early is a short read (below); an invalid one is zlib's error.
    if (!(error instanceof InflateError)) throw error;
    if (!error.truncated) throw new NumpyLoadError(`${member.name}: ${error.message}`, 'zlib.error');
  }
  const crcFails = () => crc >>> 0 !== member.crc32;
  const needed = header ? header.dataOffset + header.dataBytes : Infinity;
  if (produced < needed) {
    // The read reached the member's end: zipfile checks the CRC before numpy sees the short read.
    if (crcFails())
      throw new NumpyLoadError(`${member.name} fails its CRC-32 check (corrupt data)`, 'zipfile.BadZipFile');
    throw new NumpyLoadError(
      `${member.name} ends after ${produced} bytes, in the middle of its ${header ? 'data' : '.npy header'} (truncated)`,
      'ValueError',
    );
  }
  if (produced === declared && crcFails())
    throw new NumpyLoadError(`${member.name} fails its CRC-32 check (corrupt data)`, 'zipfile.BadZipFile');
  return header!;
}

const checkedCounterOf = (counter: PositiveCounts | undefined) => counter && new CheckedCounter(counter);

/**
 * The usual case, at inflate speed: a deflated member read whole whose stream ends where the
 * member does, with its declared size and CRC, holding a valid array. Each piece of output is
 * checked and counted in one pass while it is in the core's cache, then overwritten by the next.
 * Anything else (or any doubt) returns undefined, and the caller reads the member again the
 * exact way (readArray), from a fresh counter, to say what numpy says.
 */
async function readWholeArray(
  source: ByteSource,
  dataOffset: number,
  member: ZipMember,
  counterFor: CounterFor,
): Promise<NpyHeader | undefined> {
  if (member.method !== 8 || member.compressedSize > ONE_SHOT_LIMIT) return undefined;
  const declared = member.uncompressedSize;
  try {
    const raw = await readExact(source, dataOffset, member.compressedSize, `${member.name} data`);
    // Inflated where the SIMD kernels read the pieces in place (runs found, positives counted).
    const output = countingBuffer(LABELS_PIECE_SIZE);
    const pieces = inflateRawPieces(raw, declared, output);
    try {
      return readPieces(pieces, member, counterFor);
    } finally {
      pieces.return(false); // closes the inflater when the pieces were left early
      if (output) returnCountingBuffer(output);
    }
  } catch {
    return undefined;
  }
}

/** The pieces of one member's stream, checked and counted; the header when all of it holds. */
function readPieces(
  pieces: Generator<Uint8Array, boolean>,
  member: ZipMember,
  counterFor: CounterFor,
): NpyHeader | undefined {
  const declared = member.uncompressedSize;
  let header: NpyHeader | undefined;
  let checked: CheckedCounter | undefined;
  let pending: Uint8Array = new Uint8Array(0);
  let limit = declared;
  let produced = 0;
  let crc = 0;
  for (let next = pieces.next(); ; next = pieces.next()) {
    if (next.done) return next.value && produced === declared && crc >>> 0 === member.crc32 ? header : undefined;
    const piece = next.value;
    const at = produced;
    produced += piece.length;
    /** Where the array's data starts in this piece (0 once the header is behind). */
    let dataStart = 0;
    if (!header) {
      // The header is looked for in the piece itself; only a header longer than a piece is kept (copied: the piece is reused).
      const start = pending.length ? concatBytes(pending, piece) : piece;
      header = parseMemberHeader(start);
      if (!header) {
        crc = crc32(piece, crc);
        pending = start === piece ? piece.slice() : start;
        continue;
      }
      pending = new Uint8Array(0);
      limit = header.dataOffset + header.dataBytes;
      if (limit > declared) return undefined; // data cut short: numpy's ValueError, found the exact way
      checked = checkedCounterOf(counterFor(header));
      dataStart = Math.min(piece.length, header.dataOffset - at);
      crc = crc32(piece.subarray(0, dataStart), crc);
    }
    const dataEnd = Math.max(dataStart, Math.min(piece.length, limit - at));
    crc = checkedPush(checked, piece.subarray(dataStart, dataEnd), crc);
    // Bytes after the array: in the member's CRC, never counted.
    if (dataEnd < piece.length) crc = crc32(piece.subarray(dataEnd), crc);
  }
}

function parseMemberHeader(prefix: Uint8Array): NpyHeader | undefined {
  try {
    return knownNpyHeader(prefix);
  } catch (error) {
    throw classifyHeaderError(error);
  }
}

/**
 * Headers parsed before, by their bytes: the caches of one folder repeat a few headers (every
 * `labels` is `{'descr': '<f4', 'fortran_order': False, 'shape': (60, 15360), }`), and parsing
 * the dict literal cost ~20 µs a header in a short process, running cold.
 */
const parsedHeaders = new Map<string, NpyHeader>();
const MAX_PARSED_HEADERS = 64;
const latin1 = new TextDecoder('latin1');

/** parseNpyHeader(prefix), from the headers parsed before when these bytes were one of them. */
function knownNpyHeader(prefix: Uint8Array): NpyHeader | undefined {
  const length = npyHeaderLength(prefix);
  if (length === undefined || length > prefix.length || length > 1024) return parseNpyHeader(prefix);
  const key = latin1.decode(prefix.subarray(0, length));
  let header = parsedHeaders.get(key);
  if (!header) {
    header = parseNpyHeader(prefix)!;
    if (parsedHeaders.size >= MAX_PARSED_HEADERS) parsedHeaders.clear();
    parsedHeaders.set(key, header);
  }
  // A copy: callers may keep the shape.
  return { ...header, shape: [...header.shape] };
}

function classifyHeaderError(error: unknown): unknown {
  if (error instanceof NpyHeaderError) return new NumpyLoadError(error.message, error.python);
  if (error instanceof NonNumericDtype) return error;
  if (error instanceof FormatError) return new NumpyLoadError(error.message, 'ValueError');
  return error;
}

/** zipfile's `open()` of a member: the exception for each way it refuses. */
function classifyOpenError(error: unknown): unknown {
  if (!(error instanceof ZipMemberError)) return error;
  const exception: Record<ZipMemberError['reason'], PythonException> = {
    'local-header': 'zipfile.BadZipFile',
    encrypted: 'RuntimeError',
    method: 'NotImplementedError',
    'past-end': 'EOFError',
  };
  return new NumpyLoadError(error.message, exception[error.reason]);
}

// Python's zipfile also decodes these (bz2 and lzma are in the standard library); we cannot.
const PYTHON_ONLY_METHODS: Record<number, string> = { 12: 'bzip2', 14: 'LZMA' };

async function countLabels(
  source: ByteSource,
  member: ZipMember,
  binsPerWindow = 1,
): Promise<{ header: NpyHeader; counter: PositiveCounts }> {
  if (!member.encrypted && PYTHON_ONLY_METHODS[member.method]) {
    throw new UnsupportedByNeuroCache(
      `${member.name} is compressed with ${PYTHON_ONLY_METHODS[member.method]}, which numpy reads but NeuroCache cannot decode`,
    );
  }
  const dataOffset = await memberDataOffset(source, member).catch((error) => {
    throw classifyOpenError(error);
  });
  let counter: PositiveCounts | undefined;
  const counterFor: CounterFor = (h) => {
    counter = undefined;
    if (h.shape.length === 0) return undefined;
    const windows = h.shape[0];
    const elements = h.dataBytes / h.dtype.size;
    // Windows of 0 samples hold no bytes and need no counts: (10^8, 0) costs nothing.
    if (elements > 0 && windows > MAX_WINDOWS_PER_FILE) {
      throw new UnsupportedByNeuroCache(
        `labels has ${windows} windows, more than the ${MAX_WINDOWS_PER_FILE} NeuroCache reads per file (corrupt or not a window cache)`,
      );
    }
    return (counter = new PositiveCounts(
      h.dtype,
      elements,
      elements === 0 ? 0 : windows * binsPerWindow,
      h.fortranOrder,
    ));
  };
  let header: NpyHeader | undefined;
  try {
    // The quick way first: a member it reads whole is a valid array, so numpy's magic check
    // (which reads the member's start once more) is needed only on the exact way.
    header = await readWholeArray(source, dataOffset, member, counterFor);
    if (!header) {
      await checkMemberMagic(source, member, dataOffset);
      header = await readArray(source, dataOffset, member, counterFor);
    }
  } catch (error) {
    if (!(error instanceof NonNumericDtype)) throw error;
    // The builder takes labels.shape[0], then compares each window with 0.
    if (error.shape.length === 0)
      throw new NumpyLoadError('labels is a 0-d array: the builder fails on labels.shape[0]', 'IndexError');
    if (error.shape[0] > 0)
      throw new NumpyLoadError(`${error.message}: the builder fails on labels[w] > 0`, 'TypeError');
    // No windows: the builder never compares anything, and the file contributes nothing.
    const dtype: ElementType = { kind: 'bool', size: 1, littleEndian: true, name: error.descr };
    return {
      header: { dataOffset: 0, dtype, fortranOrder: false, shape: error.shape, dataBytes: 0 },
      counter: new PositiveCounts(dtype, 0, 0),
    };
  }
  // numpy has loaded the array; the builder's first use of it is labels.shape[0].
  if (header.shape.length === 0)
    throw new NumpyLoadError('labels is a 0-d array: the builder fails on labels.shape[0]', 'IndexError');
  if (!counter?.complete) throw new FormatError('labels data ended early');
  return { header, counter };
}

/** The first `wanted` bytes of a member (fewer if it is shorter), from a small compressed prefix. */
async function memberPrefix(
  source: ByteSource,
  member: ZipMember,
  dataOffset: number,
  wanted: number,
): Promise<Uint8Array> {
  for (let length = HEADER_PREFIX; ; length *= 4) {
    const raw = await readExact(source, dataOffset, Math.min(length, member.compressedSize), `${member.name} start`);
    let prefix: Uint8Array;
    try {
      prefix = member.method === 0 ? raw : inflateRawPrefix(raw, wanted);
    } catch (error) {
      if (error instanceof InflateError) throw new NumpyLoadError(`${member.name}: ${error.message}`, 'zlib.error');
      throw error;
    }
    if (prefix.length >= wanted || raw.length === member.compressedSize)
      return prefix.subarray(0, Math.min(wanted, member.uncompressedSize));
  }
}

/**
 * numpy reads a member's first 6 bytes before treating it as an array; anything else is
 * returned as raw bytes (read whole, CRC-checked), on which the builder's `labels.shape` fails.
 */
async function checkMemberMagic(source: ByteSource, member: ZipMember, dataOffset: number): Promise<void> {
  const head = await memberPrefix(source, member, dataOffset, 6);
  if (head.length === 6 && startsWith(head, NPY_MAGIC)) return;
  let crc = 0;
  try {
    for await (const chunk of memberBytes(source, member, dataOffset, member.uncompressedSize)) crc = crc32(chunk, crc);
  } catch (error) {
    if (!(error instanceof InflateError)) throw error;
    if (!error.truncated) throw new NumpyLoadError(`${member.name}: ${error.message}`, 'zlib.error');
  }
  if (crc >>> 0 !== member.crc32)
    throw new NumpyLoadError(`${member.name} fails its CRC-32 check (corrupt data)`, 'zipfile.BadZipFile');
  throw new NumpyLoadError(
    `${member.name} is not a .npy array (numpy returns its raw bytes, which have no shape)`,
    'AttributeError',
  );
}
