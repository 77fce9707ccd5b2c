// ARC-like Parquet shards for the download tests (docs/cli.md, `arc download`), written with hyparquet-writer so
// that the reader under test (hyparquet) is not checked against its own writer.
//
// Column layout is what Hugging Face `datasets` (pyarrow) writes for a NIfTI/Image feature,
// i.e. struct<bytes: binary, path: string>, and for a list of them:
//
//   optional binary subject_id (UTF8 / STRING)
//   optional binary session_id (UTF8 / STRING)
//   optional group t2w (LIST) {                 -- list<struct<bytes, path>>, 3-level LIST
//     repeated group list {
//       optional group element { optional binary bytes; optional binary path (UTF8); }
//     }
//   }
//   optional binary t2w_acquisition (UTF8)       -- nullable
//   optional group lesion { optional binary bytes; optional binary path (UTF8); }  -- nullable
//   optional group t1w (LIST) ...                -- unneeded, pseudo-random filler
//   optional group flair { bytes; path }         -- unneeded, pseudo-random filler
//
// `bytes` carries no logical type (plain BYTE_ARRAY), which is why readers need `utf8: false`.
// The unneeded columns hold most of the bytes, so a column projection has something to save.

import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parquetWriteBuffer, type SchemaElement } from 'hyparquet-writer';
import { encodeNifti, encodeVoxels } from '../writers/nifti';

export type Acquisition = 'space_2x' | 'space_no_accel' | 'turbo_spin_echo' | null;

/** One row as the downloader should see it; the truth the tests compare against. */
export interface ExpectedSession {
  /** null when a test wrote a null id (see `override`). */
  subjectId: string | null;
  sessionId: string | null;
  acquisition: Acquisition;
  /** Repo-relative shard path (`data/train-00000-of-00002.parquet`) and row within it. */
  shard: string;
  row: number;
  /** Number of t2w runs; 0 means an empty list (the session has no T2w). */
  t2wRuns: number;
  /** sha256 (hex) and size of the FIRST run's bytes, the one to keep; null without runs. */
  t2wSha256: string | null;
  t2wSize: number | null;
  /** The first run's `path` field (original BIDS file name). */
  t2wPath: string | null;
  /** sha256 of every run, first to last, to tell "took the first" from "took another". */
  t2wRunSha256: string[];
  hasMask: boolean;
  lesionSha256: string | null;
  lesionSize: number | null;
  lesionPath: string | null;
  /** Voxels > 0 in the mask (the lesion volume of docs/formats.md); null without a mask. */
  lesionVolume: number | null;
}

export interface ArcShardFile {
  /** Repo-relative path, e.g. `data/train-00001-of-00002.parquet`. */
  path: string;
  size: number;
  sha256: string;
}

export interface ArcShards {
  files: ArcShardFile[];
  sessions: ExpectedSession[];
}

export interface ArcShardOptions {
  /** Total rows (sessions) across all shards; default 12. */
  sessions?: number;
  /** Number of shard files; default 2. */
  shards?: number;
  /** PRNG seed for voxel values, mask voxels and filler; default 1. */
  seed?: number;
  /** Filler bytes per session in EACH unneeded column (t1w, flair); default 48 KiB. */
  fillerBytes?: number;
  /** Rows per row group (datasets uses 100 for images); default 4 so shards have several. */
  rowGroupSize?: number;
  /** T2w/mask grid; default [16, 16, 8]. */
  dims?: [number, number, number];
  /**
   * Replaces parts of session i (0-based over all shards) for the hostile-row tests: ids
   * (null allowed), the first T2w run's bytes, the mask's bytes (with the lesion volume it
   * should count, or null when the bytes are not a mask).
   */
  override?: (i: number) => RowOverride | undefined;
  /**
   * Write like pyarrow's `pq.write_table` defaults, as the real ARC shards are: every column
   * dictionary-encoded (binary ones too), no page index, and the footer padded with
   * key-value metadata (pyarrow's `ARROW:schema`, datasets' `huggingface`) to `footerBytes`.
   */
  pyarrowLike?: { footerBytes: number };
}

/** ARC's shards as written (SPEC 1.4): one session each, pyarrow-like, ~9.2 KB footers. */
export function realShardOptions(sessions: number, dims: [number, number, number] = [64, 64, 40]): ArcShardOptions {
  return { sessions, shards: sessions, rowGroupSize: 1, dims, pyarrowLike: { footerBytes: 9200 } };
}

export interface RowOverride {
  subjectId?: string | null;
  sessionId?: string | null;
  t2w?: Uint8Array;
  lesion?: { bytes: Uint8Array; volume: number | null };
}

/** xorshift32: tiny, seedable, and its output does not compress (snappy leaves it as is). */
function prng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

function randomBytes(next: () => number, n: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(n / 4));
  for (let i = 0; i < words.length; i++) words[i] = next();
  return new Uint8Array(words.buffer, 0, n);
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

// Session i's shape follows fixed patterns (not the PRNG) so that any count >= 12 covers
// every case: all four acquisition values, missing masks, two-run sessions, no T2w at all.
const ACQUISITIONS: Acquisition[] = [
  'space_2x',
  'space_no_accel',
  'turbo_spin_echo',
  'space_2x',
  null,
  'space_no_accel',
];
const runsOf = (i: number) => (i % 11 === 10 ? 0 : i % 3 === 1 ? 2 : 1);
const hasMaskOf = (i: number) => i % 7 !== 5;

/** A T2w-like int16 image: random, so every run and session has distinct bytes. */
function t2wImage(next: () => number, dims: number[]): Uint8Array {
  const n = dims.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, () => next() % 1200);
  return encodeNifti({ dims, datatype: 4, data: encodeVoxels(4, values), pixdims: [0.9, 0.9, 1.2], gzip: true });
}

/** A uint8 mask with exactly `volume` voxels > 0 (values 1 or 2), at random positions. */
function lesionImage(next: () => number, dims: number[], volume: number): Uint8Array {
  const n = dims.reduce((a, b) => a * b, 1);
  const mask = new Uint8Array(n);
  let set = 0;
  while (set < volume) {
    const at = next() % n;
    if (mask[at] === 0) {
      mask[at] = 1 + (next() % 2);
      set++;
    }
  }
  return encodeNifti({ dims, datatype: 2, data: mask, pixdims: [0.9, 0.9, 1.2], gzip: true });
}

// pyarrow writes strings with both the legacy converted type and the STRING logical type.
const str = (name: string): SchemaElement => ({
  name,
  type: 'BYTE_ARRAY',
  repetition_type: 'OPTIONAL',
  converted_type: 'UTF8',
  logical_type: { type: 'STRING' },
});
/** struct<bytes: binary, path: string>, the datasets Image/Nifti storage type. */
const fileStruct = (name: string): SchemaElement[] => [
  { name, repetition_type: 'OPTIONAL', num_children: 2 },
  { name: 'bytes', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
  str('path'),
];
/** list<struct<bytes, path>> in the standard 3-level LIST form (list / element). */
const fileList = (name: string): SchemaElement[] => [
  { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', logical_type: { type: 'LIST' }, num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  ...fileStruct('element'),
];

export const ARC_SCHEMA: SchemaElement[] = [
  { name: 'schema', num_children: 7 },
  str('subject_id'),
  str('session_id'),
  ...fileList('t2w'),
  str('t2w_acquisition'),
  ...fileStruct('lesion'),
  ...fileList('t1w'),
  ...fileStruct('flair'),
];

/** The columns the downloader needs (docs/cli.md, `arc download`), in file order. */
export const NEEDED_COLUMNS = ['subject_id', 'session_id', 't2w', 't2w_acquisition', 'lesion'];

type FileValue = { bytes: Uint8Array; path: string };

/**
 * Writes `dir/data/train-XXXXX-of-YYYYY.parquet` (so `dir` can be served as the repo root)
 * and returns what a correct downloader must produce from them. Deterministic per options.
 */
export function writeArcShards(dir: string, opts: ArcShardOptions = {}): ArcShards {
  const total = opts.sessions ?? 12;
  const shardCount = opts.shards ?? 2;
  const filler = opts.fillerBytes ?? 48 * 1024;
  const dims = opts.dims ?? [16, 16, 8];
  const next = prng(opts.seed ?? 1);
  if (shardCount < 1 || total < shardCount) throw new Error('need at least one session per shard');

  const files: ArcShardFile[] = [];
  const sessions: ExpectedSession[] = [];
  const perShard = Math.ceil(total / shardCount);
  mkdirSync(path.join(dir, 'data'), { recursive: true });

  for (let s = 0; s < shardCount; s++) {
    const name = `data/train-${String(s).padStart(5, '0')}-of-${String(shardCount).padStart(5, '0')}.parquet`;
    const rows = {
      subject_id: [] as (string | null)[],
      session_id: [] as (string | null)[],
      t2w: [] as FileValue[][],
      t2w_acquisition: [] as Acquisition[],
      lesion: [] as (FileValue | null)[],
      t1w: [] as FileValue[][],
      flair: [] as FileValue[],
    };
    for (let i = s * perShard; i < Math.min(total, (s + 1) * perShard); i++) {
      // Two sessions per subject, as ARC subjects mostly have several sessions.
      const edit = opts.override?.(i) ?? {};
      const subjectId = edit.subjectId !== undefined ? edit.subjectId : `sub-M${2001 + Math.floor(i / 2)}`;
      const sessionId = edit.sessionId !== undefined ? edit.sessionId : `ses-${(i % 2) + 1}`;
      const stem = `${subjectId}_${sessionId}`;
      const acquisition = ACQUISITIONS[i % ACQUISITIONS.length];
      const runs = Array.from({ length: runsOf(i) }, (_, r) => ({
        bytes: t2wImage(next, dims),
        path: `${stem}_run-${r + 1}_T2w.nii.gz`,
      }));
      if (edit.t2w && runs[0]) runs[0].bytes = edit.t2w;
      let volume = hasMaskOf(i) ? 1 + (next() % 200) : null;
      let lesion =
        volume === null ? null : { bytes: lesionImage(next, dims, volume), path: `${stem}_desc-lesion_mask.nii.gz` };
      if (edit.lesion) {
        lesion = { bytes: edit.lesion.bytes, path: `${stem}_desc-lesion_mask.nii.gz` };
        volume = edit.lesion.volume;
      }

      rows.subject_id.push(subjectId);
      rows.session_id.push(sessionId);
      rows.t2w.push(runs);
      rows.t2w_acquisition.push(acquisition);
      rows.lesion.push(lesion);
      rows.t1w.push([{ bytes: randomBytes(next, filler), path: `${stem}_T1w.nii.gz` }]);
      rows.flair.push({ bytes: randomBytes(next, filler), path: `${stem}_FLAIR.nii.gz` });

      sessions.push({
        subjectId,
        sessionId,
        acquisition,
        shard: name,
        row: rows.subject_id.length - 1,
        t2wRuns: runs.length,
        t2wSha256: runs[0] ? sha256(runs[0].bytes) : null,
        t2wSize: runs[0]?.bytes.length ?? null,
        t2wPath: runs[0]?.path ?? null,
        t2wRunSha256: runs.map((r) => sha256(r.bytes)),
        hasMask: lesion !== null,
        lesionSha256: lesion && sha256(lesion.bytes),
        lesionSize: lesion?.bytes.length ?? null,
        lesionPath: lesion?.path ?? null,
        lesionVolume: volume,
      });
    }
    const write = (kvMetadata?: { key: string; value: string }[]) =>
      new Uint8Array(
        parquetWriteBuffer({
          schema: ARC_SCHEMA,
          columnData: Object.entries(rows).map(([name, data]) => ({
            name,
            data,
            ...(opts.pyarrowLike
              ? { encoding: 'RLE_DICTIONARY' as const, offsetIndex: false, columnIndex: false }
              : {}),
          })),
          rowGroupSize: opts.rowGroupSize ?? 4,
          codec: 'SNAPPY', // pyarrow's default
          createdBy: opts.pyarrowLike
            ? 'parquet-cpp-arrow version 19.0.1'
            : 'hyparquet-writer (NeuroCache ARC fixture)',
          kvMetadata,
        }),
      );
    let bytes = write();
    if (opts.pyarrowLike) {
      // Pad to the footer size with what pyarrow and datasets put there (sizes from the real shards).
      const features = JSON.stringify({
        info: {
          features: Object.fromEntries(
            ARC_SCHEMA.slice(1)
              .filter((e) => e.name !== 'bytes' && e.name !== 'path')
              .map((e) => [e.name, { _type: 'Value' }]),
          ),
        },
      });
      const footer = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getUint32(b.length - 8, true) + 8;
      const pad = Math.max(0, opts.pyarrowLike.footerBytes - footer(bytes) - features.length - 40);
      bytes = write([
        { key: 'huggingface', value: features },
        { key: 'ARROW:schema', value: Buffer.from(randomBytes(next, Math.floor((pad * 3) / 4))).toString('base64') },
      ]);
    }
    writeFileSync(path.join(dir, name), bytes);
    files.push({ path: name, size: bytes.length, sha256: sha256(bytes) });
  }
  return { files, sessions };
}
