// Fixture writer for .npz files, reproducing what np.savez / np.savez_compressed write through
// Python's zipfile (CPython 3.11+, `zipf.open(name, 'w', force_zip64=True)` on a seekable file):
// - local header: version 4.5, sizes 0xFFFFFFFF, a ZIP64 extra (id 1) with the real
//   uncompressed then compressed size; date 1980-01-01 00:00 (ZipInfo's default; numpy
//   never sets one), no data descriptor (zipfile seeks back and rewrites the header);
// - central directory: real sizes and offset, with a ZIP64 extra only for values above
//   zipfile's ZIP64_LIMIT (2^31 - 1), unix "-rw-------" attributes;
// - ZIP64 end records only when the directory's offset/size/count needs them.
// With `zip64: true` every ZIP64 structure is written even for small files, so readers'
// >4 GiB code paths can be tested without multi-GiB fixtures.
// Stored output is byte-identical to numpy's; deflated output is a valid raw deflate stream
// (node's zlib may choose different matches than Python's, so those bytes can differ).

import { closeSync, openSync, writeSync } from 'node:fs';
import * as zlib from 'node:zlib';
import { encodeValues, npyHeader } from './npy';

export interface NpzOptions {
  /** true: deflate (np.savez_compressed); false: stored (np.savez). */
  compress: boolean;
  /** Force every ZIP64 structure, as a writer of a > 4 GiB archive would. */
  zip64?: boolean;
}
export interface NpzMember {
  name: string;
  bytes: Uint8Array;
}
export interface NpzStreamMember {
  name: string;
  /** Produces the member's bytes in order; called once. */
  chunks: () => Iterable<Uint8Array>;
  /** Total uncompressed size, checked against what chunks() yields (plus holeBytes). */
  size: number;
  /**
   * Stored members only: this many bytes after the chunks are left as a hole in the file
   * (zeros, no disk space), for multi-GiB fixtures. The member's CRC then covers the chunks only.
   */
  holeBytes?: number;
}

const ZIP64_LIMIT = 2 ** 31 - 1; // Python zipfile's threshold, not 2^32 - 1
const ZIP_FILECOUNT_LIMIT = 0xffff;
const DOS_TIME = 0; // 00:00:00
const DOS_DATE = (0 << 9) | (1 << 5) | 1; // 1980-01-01
const VERSION = 45; // "4.5: ZIP64", what zipfile records once zip64 is forced
const CREATE_SYSTEM_UNIX = 3;
const EXTERNAL_ATTR = 0o600 << 16; // zipfile's default for files opened with mode 'w'
const UTF8_FLAG = 0x800;

// ---- CRC-32 -----------------------------------------------------------------------------

let crcTable: Uint32Array | undefined;
/** CRC-32 (ISO-HDLC) continuing from `crc`; zlib.crc32 exists from node 20.15. */
export function crc32(data: Uint8Array, crc = 0): number {
  if (typeof zlib.crc32 === 'function') return zlib.crc32(data, crc);
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

// ---- ZIP records ------------------------------------------------------------------------

interface Entry {
  name: Buffer;
  flags: number;
  method: number;
  crc: number;
  size: number;
  csize: number;
  offset: number;
}

function encodeName(name: string): { name: Buffer; flags: number } {
  // zipfile stores ASCII names as is and sets the UTF-8 flag only when it has to.
  const ascii = /^[\x00-\x7f]*$/.test(name);
  return { name: Buffer.from(name, ascii ? 'ascii' : 'utf8'), flags: ascii ? 0 : UTF8_FLAG };
}

function zip64Extra(values: number[]): Buffer {
  const b = Buffer.alloc(4 + 8 * values.length);
  b.writeUInt16LE(1, 0);
  b.writeUInt16LE(8 * values.length, 2);
  values.forEach((v, i) => b.writeBigUInt64LE(BigInt(v), 4 + 8 * i));
  return b;
}

/** Local file header; its length does not depend on the sizes, so it can be rewritten in place. */
function localHeader(e: Entry): Buffer {
  const extra = zip64Extra([e.size, e.csize]);
  const h = Buffer.alloc(30);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(VERSION, 4);
  h.writeUInt16LE(e.flags, 6);
  h.writeUInt16LE(e.method, 8);
  h.writeUInt16LE(DOS_TIME, 10);
  h.writeUInt16LE(DOS_DATE, 12);
  h.writeUInt32LE(e.crc, 14);
  h.writeUInt32LE(0xffffffff, 18); // compressed size: see the ZIP64 extra
  h.writeUInt32LE(0xffffffff, 22); // uncompressed size: see the ZIP64 extra
  h.writeUInt16LE(e.name.length, 26);
  h.writeUInt16LE(extra.length, 28);
  return Buffer.concat([h, e.name, extra]);
}

function centralHeader(e: Entry, force64: boolean): Buffer {
  // Same rule as zipfile._write_end_record: sizes and offset move to the extra when too big.
  const bigSizes = force64 || e.size > ZIP64_LIMIT || e.csize > ZIP64_LIMIT;
  const bigOffset = force64 || e.offset > ZIP64_LIMIT;
  const values = [...(bigSizes ? [e.size, e.csize] : []), ...(bigOffset ? [e.offset] : [])];
  const extra = values.length ? zip64Extra(values) : Buffer.alloc(0);
  const h = Buffer.alloc(46);
  h.writeUInt32LE(0x02014b50, 0);
  h[4] = VERSION;
  h[5] = CREATE_SYSTEM_UNIX;
  h.writeUInt16LE(VERSION, 6);
  h.writeUInt16LE(e.flags, 8);
  h.writeUInt16LE(e.method, 10);
  h.writeUInt16LE(DOS_TIME, 12);
  h.writeUInt16LE(DOS_DATE, 14);
  h.writeUInt32LE(e.crc, 16);
  h.writeUInt32LE(bigSizes ? 0xffffffff : e.csize, 20);
  h.writeUInt32LE(bigSizes ? 0xffffffff : e.size, 24);
  h.writeUInt16LE(e.name.length, 28);
  h.writeUInt16LE(extra.length, 30);
  // comment length, disk number start and internal attributes stay 0
  h.writeUInt32LE(EXTERNAL_ATTR, 38);
  h.writeUInt32LE(bigOffset ? 0xffffffff : e.offset, 42);
  return Buffer.concat([h, e.name, extra]);
}

/** Central directory plus end records, for a directory starting at `cdOffset`. */
function directory(entries: Entry[], cdOffset: number, force64: boolean): Buffer {
  const cd = Buffer.concat(entries.map((e) => centralHeader(e, force64)));
  const count = entries.length;
  const need64 = force64 || count > ZIP_FILECOUNT_LIMIT || cdOffset > ZIP64_LIMIT || cd.length > ZIP64_LIMIT;
  const parts = [cd];
  if (need64) {
    const rec = Buffer.alloc(56);
    rec.writeUInt32LE(0x06064b50, 0);
    rec.writeBigUInt64LE(44n, 4); // size of the rest of this record
    rec.writeUInt16LE(VERSION, 12);
    rec.writeUInt16LE(VERSION, 14);
    // this disk and the directory's disk are both 0
    rec.writeBigUInt64LE(BigInt(count), 24);
    rec.writeBigUInt64LE(BigInt(count), 32);
    rec.writeBigUInt64LE(BigInt(cd.length), 40);
    rec.writeBigUInt64LE(BigInt(cdOffset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(cdOffset + cd.length), 8); // where the ZIP64 end record is
    loc.writeUInt32LE(1, 16); // total number of disks
    parts.push(rec, loc);
  }
  // Classic end record: sentinels when forced, else zipfile's min(value, max) clamping.
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(force64 ? 0xffff : Math.min(count, 0xffff), 8);
  eocd.writeUInt16LE(force64 ? 0xffff : Math.min(count, 0xffff), 10);
  eocd.writeUInt32LE(force64 ? 0xffffffff : Math.min(cd.length, 0xffffffff), 12);
  eocd.writeUInt32LE(force64 ? 0xffffffff : Math.min(cdOffset, 0xffffffff), 16);
  parts.push(eocd);
  return Buffer.concat(parts);
}

function newEntry(name: string, compress: boolean, offset: number): Entry {
  return { ...encodeName(name), method: compress ? 8 : 0, crc: 0, size: 0, csize: 0, offset };
}

// ---- writers ----------------------------------------------------------------------------

/** An .npz held in memory. Member names should end in '.npy' (e.g. 'windows.npy'). */
export function writeNpz(members: NpzMember[], opts: NpzOptions): Uint8Array {
  const parts: Uint8Array[] = [];
  const entries: Entry[] = [];
  let offset = 0;
  for (const m of members) {
    const e = newEntry(m.name, opts.compress, offset);
    const body = opts.compress ? zlib.deflateRawSync(m.bytes) : m.bytes;
    Object.assign(e, { crc: crc32(m.bytes), size: m.bytes.length, csize: body.length });
    const header = localHeader(e);
    parts.push(header, body);
    entries.push(e);
    offset += header.length + body.length;
  }
  parts.push(directory(entries, offset, opts.zip64 ?? false));
  return Buffer.concat(parts);
}

// Deflate input is compressed in batches of this size: each batch ends with a sync flush
// (an empty stored block, not final), so the batches concatenate into one raw deflate stream.
const DEFLATE_BATCH = 8 << 20;

/**
 * Writes an .npz to `path` without holding members in memory (for > 2 GiB fixtures and
 * benchmark caches). Like zipfile, it writes each local header, streams the data, then seeks
 * back to rewrite the header with the CRC and sizes.
 */
export function writeNpzFile(path: string, members: NpzStreamMember[], opts: NpzOptions): void {
  const fd = openSync(path, 'w');
  try {
    let pos = 0;
    const write = (b: Uint8Array) => {
      writeSync(fd, b, 0, b.length, pos);
      pos += b.length;
    };
    const entries: Entry[] = [];
    for (const m of members) {
      const e = newEntry(m.name, opts.compress, pos);
      write(localHeader(e)); // placeholder of the final length
      let pending: Uint8Array[] = [];
      let pendingSize = 0;
      const deflate = (flush: number) => {
        const out = zlib.deflateRawSync(Buffer.concat(pending), { finishFlush: flush });
        e.csize += out.length;
        write(out);
        pending = [];
        pendingSize = 0;
      };
      for (const chunk of m.chunks()) {
        e.crc = crc32(chunk, e.crc);
        e.size += chunk.length;
        if (!opts.compress) {
          e.csize += chunk.length;
          write(chunk);
          continue;
        }
        pending.push(chunk);
        pendingSize += chunk.length;
        if (pendingSize >= DEFLATE_BATCH) deflate(zlib.constants.Z_SYNC_FLUSH);
      }
      if (opts.compress) deflate(zlib.constants.Z_FINISH); // final block, possibly empty
      if (m.holeBytes) {
        if (opts.compress) throw new Error(`${m.name}: holes are only possible in stored members`);
        e.size += m.holeBytes;
        e.csize += m.holeBytes;
        pos += m.holeBytes;
      }
      if (e.size !== m.size) throw new Error(`${m.name}: chunks gave ${e.size} bytes, declared ${m.size}`);
      const final = localHeader(e);
      writeSync(fd, final, 0, final.length, e.offset);
      entries.push(e);
    }
    write(directory(entries, pos, opts.zip64 ?? false));
  } finally {
    closeSync(fd);
  }
}

// ---- EEG window caches (docs/formats.md) ---------------------------------------------------

export interface EegOptions {
  windows: number;
  channels?: number;
  samples?: number;
  /** Per-sample seizure mask, windows * samples values in C order; omitted: no labels member. */
  labels?: Float32Array | null;
  compress?: boolean;
  /** dtype of the labels member, default '<f4'. */
  labelsDescr?: string;
  /** Varies the pseudo-random signal; default 1. */
  seed?: number;
}

/** One window of fake EEG: xorshift32 noise in ±100 µV, quantised to 1/16 so it deflates a bit. */
function eegWindow(values: number, seed: number): Uint8Array {
  const w = new Float32Array(values);
  let x = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < values; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    w[i] = ((x >>> 0) % 3200) / 16 - 100;
  }
  return new Uint8Array(w.buffer); // float32 in host order: little-endian on our platforms
}

/**
 * Streaming members of an EEG cache: 'windows.npy' float32 (windows, channels, samples)
 * generated window by window, and 'labels.npy' (windows, samples) when labels are given.
 */
export function eegMembers(opts: EegOptions): NpzStreamMember[] {
  const channels = opts.channels ?? 19;
  const samples = opts.samples ?? 15360;
  const seed = opts.seed ?? 1;
  const header = npyHeader('<f4', [opts.windows, channels, samples]);
  const windowBytes = channels * samples * 4;
  const members: NpzStreamMember[] = [
    {
      name: 'windows.npy',
      size: header.length + opts.windows * windowBytes,
      *chunks() {
        yield header;
        for (let w = 0; w < opts.windows; w++) yield eegWindow(channels * samples, seed * 0x10001 + w);
      },
    },
  ];
  if (opts.labels) {
    if (opts.labels.length !== opts.windows * samples) throw new Error('labels must hold windows * samples values');
    const descr = opts.labelsDescr ?? '<f4';
    const bytes = Buffer.concat([npyHeader(descr, [opts.windows, samples]), encodeValues(descr, opts.labels)]);
    members.push({ name: 'labels.npy', size: bytes.length, chunks: () => [bytes] });
  }
  return members;
}

/** An EEG cache .npz in memory (see eegMembers for the content). */
export function eegNpz(opts: EegOptions): Uint8Array {
  const members = eegMembers(opts).map((m) => ({ name: m.name, bytes: Buffer.concat([...m.chunks()]) }));
  return writeNpz(members, { compress: opts.compress ?? false });
}
