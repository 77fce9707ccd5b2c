/**
 * "Download ARC dataset": lists the Parquet shards of the Hub dataset, reads from each only
 * the five needed columns with Range requests (the NIfTI bytes are written unchanged, never
 * recompressed), counts lesion volumes in the worker pool while other shards download, and
 * writes dataset_info.json last. A journal makes interrupted runs resume shard by shard;
 * an existing complete dataset_info.json short-circuits with no network at all.
 */
import { listFiles } from '@huggingface/hub';
import { FileMetaData, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseDatasetInfo } from '../engine/arc/datasetInfo';
import { pythonJson } from '../engine/json/edits';
import type { DownloadProgress } from '../protocol';
import { writeFileAtomic } from '../service/atomic';
import { HttpError, NetOptions, readRange, redactUrl, resolveDataUrl, retryingFetch } from './net';
import { Breakdown, decide, describeBreakdown, DownloadFilters, emptyBreakdown, HubRow, paperParityProblem, tally } from './selection';

export const DEFAULT_REPO = 'hugging-science/arc-aphasia-bids';
export const COLUMNS = ['subject_id', 'session_id', 't2w', 't2w_acquisition', 'lesion'];
const NIFTI_DIR = path.join('cache', 'nifti_cache');
const JOURNAL = path.join('.neurocache', 'download-journal.json');

export interface DownloadOptions extends DownloadFilters {
  out: string;
  repo: string;
  revision: string;
  endpoint: string;
  token?: string;
  jobs: number;
  force: boolean;
  paperParity: boolean;
  verifyCounts: boolean;
  /** HF_HUB_OFFLINE=1: never touch the network. */
  offline: boolean;
  retryBaseMs?: number;
}

// The progress type is part of the client/server contract.
export type { DownloadProgress };

export interface DownloadResult {
  status: 'downloaded' | 'up-to-date';
  datasetInfo: string;
  samples: number;
  breakdown?: Breakdown;
  shards: number;
  shardsResumed: number;
  bytesTransferred: number;
  /** Total size of the shards listed, for the transferred/total ratio. */
  shardBytes: number;
  elapsedMs: number;
}

export interface DownloadDeps {
  /** Voxels > 0 in a mask file (the worker pool). */
  countLesion(file: string): Promise<number>;
  signal?: AbortSignal;
  onProgress?(progress: DownloadProgress): void;
  log?(line: string): void;
}

/** One kept session, as recorded in the journal and in dataset_info.json. */
interface SessionRecord {
  subject: string;
  session: string;
  acquisition: string;
  image: string;
  imageSize: number;
  mask: string | null;
  maskSize: number;
  lesionVolume: number;
}

interface ShardRecord {
  size: number;
  rows: Breakdown;
  sessions: SessionRecord[];
}

interface Journal {
  key: string;
  shards: Record<string, ShardRecord>;
}

export class DownloadError extends Error {}

/** A name used in a file path must not be able to leave the output folder. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function text(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return null;
}

function niftiBytes(value: unknown): Uint8Array | null {
  const bytes = (value as { bytes?: unknown } | null)?.bytes;
  return bytes instanceof Uint8Array && bytes.length > 0 ? bytes : null;
}

function toRow(row: Record<string, unknown>): HubRow {
  const runs = Array.isArray(row.t2w) ? row.t2w : [];
  return {
    subject: text(row.subject_id) ?? '',
    session: text(row.session_id) ?? '',
    acquisition: text(row.t2w_acquisition),
    t2w: niftiBytes(runs[0]), // the first T2w run, as the Python download takes
    lesion: niftiBytes(row.lesion),
  };
}

/** A dataset_info.json whose lists agree and whose every file exists is complete. */
export async function isComplete(infoPath: string): Promise<boolean> {
  const content = await fs.readFile(infoPath, 'utf8').catch(() => undefined);
  if (content === undefined) return false;
  const parsed = parseDatasetInfo(content);
  if (!parsed.isDatasetInfo || parsed.schema.length > 0) return false;
  const dir = path.dirname(infoPath);
  const paths = parsed.samples.flatMap((s) => [s.image?.value, s.mask?.value]).filter((p): p is string => typeof p === 'string');
  const present = await Promise.all(paths.map((p) => fs.stat(path.resolve(dir, p)).then((st) => st.isFile(), () => false)));
  return present.every(Boolean);
}

async function fileHasSize(file: string, size: number): Promise<boolean> {
  return fs.stat(file).then((s) => s.size === size, () => false);
}

function describeHubError(error: unknown, options: DownloadOptions): Error {
  const status = (error as { statusCode?: number; status?: number }).statusCode ?? (error as HttpError).status;
  const where = `${options.repo} (revision ${options.revision}) on ${new URL(options.endpoint).origin}`;
  if (status === 401 || status === 403) {
    return new DownloadError(`access to ${where} was refused (HTTP ${status}): the dataset may be gated or private — accept its terms on the Hub and pass a token with --token, HF_TOKEN or the token file under HF_HOME`);
  }
  if (status === 404) return new DownloadError(`${where} was not found (HTTP 404): check --repo and --revision`);
  const message = (error as Error).message ?? String(error);
  // Library messages may quote a token-bearing header or a signed URL: keep only our words.
  return new DownloadError(`listing ${where} failed: ${message.replace(/hf_[A-Za-z0-9]+/g, 'hf_***').replace(/\?[^\s"']*/g, '')}`);
}

export async function downloadArc(options: DownloadOptions, deps: DownloadDeps): Promise<DownloadResult> {
  const started = Date.now();
  const infoPath = path.join(options.out, 'dataset_info.json');
  if (!options.force && (await isComplete(infoPath))) {
    const samples = parseDatasetInfo(await fs.readFile(infoPath, 'utf8')).samples.length;
    return { status: 'up-to-date', datasetInfo: infoPath, samples, shards: 0, shardsResumed: 0, bytesTransferred: 0, shardBytes: 0, elapsedMs: Date.now() - started };
  }
  if (options.offline) {
    throw new DownloadError(`HF_HUB_OFFLINE=1 forbids network access and ${infoPath} is not a complete download; unset HF_HUB_OFFLINE to download`);
  }
  let bytes = 0;
  const net: NetOptions = {
    endpointOrigin: new URL(options.endpoint).origin,
    token: options.token,
    signal: deps.signal,
    retryBaseMs: options.retryBaseMs,
    onBytes: (n) => (bytes += n),
    onRetry: (what, attempt, reason) => deps.log?.(`retrying ${what} (attempt ${attempt + 1}): ${reason}`),
  };

  const shards: { path: string; size: number }[] = [];
  try {
    for await (const entry of listFiles({
      repo: { type: 'dataset', name: options.repo },
      revision: options.revision,
      recursive: true,
      path: 'data',
      hubUrl: options.endpoint,
      accessToken: options.token,
      fetch: retryingFetch(net),
    })) {
      if (entry.type === 'file' && entry.path.endsWith('.parquet')) shards.push({ path: entry.path, size: entry.lfs?.size ?? entry.size });
    }
  } catch (error) {
    if (deps.signal?.aborted) throw deps.signal.reason;
    throw describeHubError(error, options);
  }
  if (shards.length === 0) throw new DownloadError(`${options.repo} has no Parquet shards under data/ at revision ${options.revision}`);
  shards.sort((a, b) => (a.path < b.path ? -1 : 1));

  await fs.mkdir(path.join(options.out, NIFTI_DIR), { recursive: true });
  const journalPath = path.join(options.out, JOURNAL);
  const key = JSON.stringify([options.repo, options.revision, options.includeTse, options.requireMask]);
  const journal: Journal = await fs.readFile(journalPath, 'utf8').then((t) => JSON.parse(t) as Journal, () => ({ key, shards: {} }));
  if (journal.key !== key) journal.shards = {};
  let journalWrite = Promise.resolve();
  const saveJournal = () => (journalWrite = journalWrite.then(async () => {
    await fs.mkdir(path.dirname(journalPath), { recursive: true });
    await writeFileAtomic(journalPath, JSON.stringify(journal));
  }));

  let shardsDone = 0;
  let shardsResumed = 0;
  let sessionsWritten = 0;
  const shardBytes = shards.reduce((n, s) => n + s.size, 0);
  // Per shard, the fraction of its rows read; resumed shards count as done from the start.
  const shardProgress = new Array<number>(shards.length).fill(0);
  const report = () => {
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? bytes / seconds : 0;
    const fraction = shardProgress.reduce((a, b) => a + b, 0) / shards.length;
    const fetched = fraction - shardsResumed / shards.length;
    const eta = fetched > 0 ? (seconds / fetched) * (1 - fraction) : undefined;
    deps.onProgress?.({ shards: shards.length, shardsDone, fraction, sessionsWritten, bytes, bytesPerSecond: rate, etaSeconds: eta });
  };

  /** A shard finished earlier whose files are all still there is not fetched again. */
  const resumable = async (shard: { path: string; size: number }) => {
    const record = journal.shards[shard.path];
    if (!record || record.size !== shard.size) return undefined;
    for (const s of record.sessions) {
      if (!(await fileHasSize(path.join(options.out, s.image), s.imageSize))) return undefined;
      if (s.mask && !(await fileHasSize(path.join(options.out, s.mask), s.maskSize))) return undefined;
    }
    return record;
  };

  const writeNifti = async (name: string, data: Uint8Array): Promise<string> => {
    const relative = path.join(NIFTI_DIR, name);
    const target = path.join(options.out, relative);
    // Resume within a shard: an identical-size file from an earlier run is kept as it is.
    if (!(await fileHasSize(target, data.length))) await writeFileAtomic(target, data);
    return relative.split(path.sep).join('/');
  };

  const processShard = async (shard: { path: string; size: number }, index: number): Promise<ShardRecord> => {
    const resumed = await resumable(shard);
    if (resumed) {
      shardsResumed++;
      return resumed;
    }
    const resolveUrl = `${options.endpoint.replace(/\/$/, '')}/datasets/${options.repo}/resolve/${encodeURIComponent(options.revision)}/${shard.path}`;
    const dataUrl = await resolveDataUrl(resolveUrl, net);
    const file = { byteLength: shard.size, slice: async (start: number, end?: number) => (await readRange(dataUrl, start, end ?? shard.size, net)).slice().buffer };
    let metadata: FileMetaData;
    try {
      metadata = await parquetMetadataAsync(file, { initialFetchSize: 8192 });
    } catch (error) {
      if (error instanceof HttpError || deps.signal?.aborted) throw error;
      throw new DownloadError(`${shard.path} is not a readable Parquet file (${(error as Error).message}; from ${redactUrl(dataUrl)})`);
    }
    const rows = emptyBreakdown();
    const sessions: SessionRecord[] = [];
    const counting: Promise<void>[] = [];
    let rowStart = 0;
    const totalRows = Math.max(1, Number(metadata.num_rows));
    // Row group by row group: memory stays bounded by one group's needed column chunks.
    for (const group of metadata.row_groups) {
      const rowEnd = rowStart + Number(group.num_rows);
      const objects = await parquetReadObjects({ file, metadata, columns: COLUMNS, utf8: false, rowStart, rowEnd });
      rowStart = rowEnd;
      for (const object of objects) {
        const row = toRow(object);
        const decision = decide(row, options);
        tally(rows, decision);
        if (!decision.keep) continue;
        if (!SAFE_NAME.test(row.subject) || !SAFE_NAME.test(row.session)) throw new DownloadError(`${shard.path}: refusing unsafe subject/session names ${JSON.stringify([row.subject, row.session])}`);
        const base = `${row.subject}_${row.session}`;
        const record: SessionRecord = {
          subject: row.subject,
          session: row.session,
          acquisition: decision.acquisition,
          image: await writeNifti(`${base}_t2w.nii.gz`, row.t2w!),
          imageSize: row.t2w!.length,
          mask: row.lesion ? await writeNifti(`${base}_lesion.nii.gz`, row.lesion) : null,
          maskSize: row.lesion?.length ?? 0,
          lesionVolume: 0,
        };
        sessions.push(record);
        sessionsWritten++;
        if (record.mask) counting.push(deps.countLesion(path.join(options.out, record.mask)).then((n) => void (record.lesionVolume = n)));
      }
      shardProgress[index] = rowEnd / totalRows;
      report();
    }
    await Promise.all(counting);
    const shardRecord = { size: shard.size, rows, sessions };
    journal.shards[shard.path] = shardRecord;
    await saveJournal();
    return shardRecord;
  };

  // A fixed number of shard workers pull from one queue: latency hiding without unbounded memory.
  const results: ShardRecord[] = new Array(shards.length);
  let next = 0;
  const worker = async () => {
    while (next < shards.length) {
      const index = next++;
      results[index] = await processShard(shards[index], index);
      shardProgress[index] = 1;
      shardsDone++;
      report();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.jobs, shards.length)) }, worker));
  await journalWrite;

  const breakdown = emptyBreakdown();
  for (const r of results) {
    breakdown.rows += r.rows.rows;
    breakdown.kept += r.rows.kept;
    for (const [a, n] of Object.entries(r.rows.acquisitions)) breakdown.acquisitions[a] = (breakdown.acquisitions[a] ?? 0) + n;
    for (const [k, n] of Object.entries(r.rows.skipped)) breakdown.skipped[k as keyof Breakdown['skipped']] += n;
  }
  deps.log?.(describeBreakdown(breakdown));
  if (options.paperParity && options.verifyCounts) {
    const problem = paperParityProblem(breakdown);
    if (problem) throw new DownloadError(`count verification failed: ${problem} (pass --no-verify-counts to accept it); dataset_info.json was not written`);
  }
  const sessions = results.flatMap((r) => r.sessions);
  const info = {
    num_samples: sessions.length,
    image_paths: sessions.map((s) => s.image),
    mask_paths: sessions.map((s) => s.mask),
    lesion_volumes: sessions.map((s) => s.lesionVolume),
    acquisition_types: sessions.map((s) => s.acquisition),
    subject_ids: sessions.map((s) => s.subject),
  };
  await writeFileAtomic(infoPath, pythonJson(info));
  return { status: 'downloaded', datasetInfo: infoPath, samples: sessions.length, breakdown, shards: shards.length, shardsResumed, bytesTransferred: bytes, shardBytes, elapsedMs: Date.now() - started };
}
