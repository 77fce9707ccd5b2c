/**
 * ZIP / ZIP64 central-directory reader over positional reads. An NPZ's `windows` member is
 * ~95% of its bytes, so we never scan the file front to back: we read the end-of-central-
 * directory record from the tail, then the central directory, then only the members we need.
 */
import { ByteSource, FormatError, readExact } from './source';

export interface ZipMember {
  name: string;
  method: number; // 0 stored, 8 deflate
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
  localHeaderOffset: number;
  encrypted: boolean;
  /** The name's bytes as stored (compared with the local header's). */
  nameLength?: number;
  nameRaw?: Uint8Array;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
/**
 * The speculative tail read: without an archive comment (numpy writes none) it holds the end
 * record, the ZIP64 records, the central directory and usually a small last member. Round trips
 * cost far more than bytes on network storage, so one 64 KiB read beats several exact ones.
 */
export const TAIL_READ = 64 << 10;
// Fixed part of a local header plus room for its extra field (numpy's: a 20-byte ZIP64 extra).
const LOCAL_HEADER_ALLOWANCE = 30 + 512;
// A central directory larger than this is not an NPZ written by numpy; refuse instead of
// allocating whatever a corrupt header claims.
const MAX_CENTRAL_DIRECTORY = 64 << 20;

function u64(view: DataView, at: number): number {
  const value = view.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError('corrupt ZIP: 64-bit field out of range');
  return Number(value);
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Position of the end-of-central-directory record in `tail` (its comment must fit), or -1. */
function findEndRecord(tail: Uint8Array): number {
  const view = viewOf(tail);
  for (let at = tail.length - EOCD_SIZE; at >= 0; at--) {
    if (view.getUint32(at, true) === EOCD_SIG && at + EOCD_SIZE + view.getUint16(at + 20, true) <= tail.length)
      return at;
  }
  return -1;
}

// Made once: a decoder per name cost more than the rest of a directory's parsing.
const utf8 = new TextDecoder('utf-8');
const latin1 = new TextDecoder('latin1');

/** Lists the members of a ZIP archive (the last entry wins for duplicate names, as in Python). */
export async function readZipDirectory(source: ByteSource): Promise<Map<string, ZipMember>> {
  if (source.size < EOCD_SIZE) throw new FormatError('not a ZIP archive: file too small');
  // The usual tail first; only an archive comment longer than it makes a second read necessary.
  let tailLength = Math.min(source.size, TAIL_READ);
  let tail = await readExact(source, source.size - tailLength, tailLength, 'ZIP end record');
  let eocd = findEndRecord(tail);
  if (eocd < 0 && tailLength < Math.min(source.size, EOCD_SIZE + MAX_COMMENT)) {
    tailLength = Math.min(source.size, EOCD_SIZE + MAX_COMMENT);
    tail = await readExact(source, source.size - tailLength, tailLength, 'ZIP end record');
    eocd = findEndRecord(tail);
  }
  if (eocd < 0) throw new FormatError('not a ZIP archive (no end-of-central-directory record; truncated?)');
  const tailStart = source.size - tailLength;
  const tailView = viewOf(tail);
  // The ZIP64 records and the directory usually lie inside the tail already read.
  const readNear = (offset: number, length: number, what: string) =>
    offset >= tailStart && offset + length <= source.size
      ? Promise.resolve(tail.subarray(offset - tailStart, offset - tailStart + length))
      : readExact(source, offset, length, what);

  let entryCount = tailView.getUint16(eocd + 10, true);
  let directorySize = tailView.getUint32(eocd + 12, true);
  let directoryOffset = tailView.getUint32(eocd + 16, true);
  const locatorAt = tailStart + eocd - 20;
  if (locatorAt >= 0) {
    const locator = viewOf(await readNear(locatorAt, 20, 'ZIP64 locator'));
    if (locator.getUint32(0, true) === ZIP64_LOCATOR_SIG) {
      const recordAt = u64(locator, 8);
      const record = viewOf(await readNear(recordAt, 56, 'ZIP64 end record'));
      if (record.getUint32(0, true) !== ZIP64_EOCD_SIG)
        throw new FormatError('corrupt ZIP64 end-of-central-directory record');
      entryCount = u64(record, 32);
      directorySize = u64(record, 40);
      directoryOffset = u64(record, 48);
    }
  }
  if (directorySize > MAX_CENTRAL_DIRECTORY)
    throw new FormatError(`corrupt ZIP: central directory claims ${directorySize} bytes`);
  const directory = await readNear(directoryOffset, directorySize, 'ZIP central directory');
  const view = viewOf(directory);
  const members = new Map<string, ZipMember>();
  let at = 0;
  for (let index = 0; index < entryCount; index++) {
    if (at + 46 > directory.length || view.getUint32(at, true) !== CENTRAL_SIG) {
      throw new FormatError(`corrupt ZIP: central directory entry ${index} is damaged`);
    }
    const flags = view.getUint16(at + 8, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const end = at + 46 + nameLength + extraLength + commentLength;
    if (end > directory.length)
      throw new FormatError(`corrupt ZIP: central directory entry ${index} overruns the directory`);
    const nameBytes = directory.subarray(at + 46, at + 46 + nameLength);
    // Bit 11 marks UTF-8 names; numpy writes ASCII names, so latin1 is a safe fallback.
    const name = (flags & 0x800 ? utf8 : latin1).decode(nameBytes);
    let compressedSize = view.getUint32(at + 20, true);
    let uncompressedSize = view.getUint32(at + 24, true);
    let localHeaderOffset = view.getUint32(at + 42, true);
    // The ZIP64 extra holds, in this order, only the fields whose 32-bit slot is saturated.
    for (let extra = at + 46 + nameLength; extra + 4 <= at + 46 + nameLength + extraLength;) {
      const id = view.getUint16(extra, true);
      const size = view.getUint16(extra + 2, true);
      if (id === 0x0001) {
        let field = extra + 4;
        const take = () => {
          if (field + 8 > extra + 4 + size) throw new FormatError('corrupt ZIP64 extra field');
          const value = u64(view, field);
          field += 8;
          return value;
        };
        if (uncompressedSize === 0xffffffff) uncompressedSize = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
      }
      extra += 4 + size;
    }
    members.set(name, {
      name,
      method: view.getUint16(at + 10, true),
      compressedSize,
      uncompressedSize,
      crc32: view.getUint32(at + 16, true),
      localHeaderOffset,
      encrypted: (flags & 1) !== 0,
      nameLength,
      nameRaw: nameBytes.slice(),
    });
    at = end;
  }
  return members;
}

/** Why a member cannot be opened; each maps to a different exception in Python's zipfile. */
export class ZipMemberError extends FormatError {
  constructor(
    message: string,
    readonly reason: 'local-header' | 'encrypted' | 'method' | 'past-end',
  ) {
    super(message);
  }
}

/**
 * Offset of a member's first data byte (after its local header), checked against the file in
 * the order Python's zipfile opens a member: local header and name, encryption, method, size.
 */
export async function memberDataOffset(source: ByteSource, member: ZipMember): Promise<number> {
  // The name is read along with the fixed header (one read): zipfile refuses a member whose local name differs.
  const nameBytes = member.nameLength ?? 0;
  const local = await readExact(
    source,
    member.localHeaderOffset,
    Math.min(30 + nameBytes, source.size - member.localHeaderOffset),
    `local header of ${member.name}`,
  ).catch(() => {
    throw new ZipMemberError(`truncated file: no local header for ${member.name}`, 'local-header');
  });
  const view = viewOf(local);
  if (local.length < 30 || view.getUint32(0, true) !== LOCAL_SIG)
    throw new ZipMemberError(`corrupt ZIP: bad local header for ${member.name}`, 'local-header');
  const localNameLength = view.getUint16(26, true);
  const localName = local.subarray(30, 30 + localNameLength);
  if (localNameLength !== nameBytes || !localName.every((b, i) => b === member.nameRaw?.[i])) {
    throw new ZipMemberError(`corrupt ZIP: the local header of ${member.name} names another file`, 'local-header');
  }
  const dataOffset = member.localHeaderOffset + 30 + localNameLength + view.getUint16(28, true);
  if (member.encrypted) throw new ZipMemberError(`member ${member.name} is encrypted`, 'encrypted');
  if (member.method !== 0 && member.method !== 8) {
    throw new ZipMemberError(
      `member ${member.name} uses ZIP compression method ${member.method} (only stored and deflate are supported)`,
      'method',
    );
  }
  if (dataOffset + member.compressedSize > source.size) {
    throw new ZipMemberError(`truncated file: member ${member.name} extends past the end of the file`, 'past-end');
  }
  return dataOffset;
}

/**
 * The byte range that holds a member's local header and the first `dataLength` bytes of its
 * data, for reading both in one request. The local extra field's length is known only once the
 * header is read; numpy writes 20 bytes, and the allowance covers far longer ones.
 */
export function memberSpan(member: ZipMember, dataLength: number, fileSize: number): [number, number] {
  const start = member.localHeaderOffset;
  return [
    start,
    Math.min(fileSize, start + LOCAL_HEADER_ALLOWANCE + (member.nameLength ?? member.name.length) + dataLength),
  ];
}
