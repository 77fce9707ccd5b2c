/**
 * One shard, fetched: its Parquet footer, then the five needed columns row group by row group
 * with Range requests (memory stays bounded by one group); each kept row's NIfTI bytes written
 * unchanged, its lesion counted in the worker pool while the next rows download, and names
 * that collide with an earlier row's left to the first (claims.ts). A shard the journal holds,
 * unchanged, is taken from it instead.
 */
import { FileMetaData, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import * as path from 'node:path';
import type { RowProblem } from '../protocol';
import { claimKey, duplicateMessage, Holder, NameClaims } from './claims';
import { DownloadError } from './errors';
import type { DownloadJournal, SessionRecord, ShardRecord } from './journal';
import type { Shard } from './listing';
import { sha256 } from './local';
import { HttpError, NetOptions, readRange, redactUrl, resolveDataUrl } from './net';
import type { ProgressTracker } from './progress';
import { collisionKey, idProblem, niftiGzProblem } from './rows';
import type { RunFiles } from './runFiles';
import { decide, DownloadFilters, emptyBreakdown, HubRow, ProblemReason, tally } from './selection';

export const COLUMNS = ['subject_id', 'session_id', 't2w', 't2w_acquisition', 'lesion'];
const ID_COLUMNS = ['subject_id', 'session_id'];

/** What processing a shard needs from its run. */
export interface ShardContext {
  out: string;
  endpoint: string;
  repo: string;
  revision: string;
  filters: DownloadFilters;
  net: NetOptions;
  /** The run's signal: aborted by the caller or by the first failing shard. */
  signal: AbortSignal;
  claims: NameClaims;
  journal: DownloadJournal;
  files: RunFiles;
  progress: ProgressTracker;
  /** Voxels > 0 in a mask file (the worker pool). */
  countLesion(file: string): Promise<number>;
  /** A row skipped as unusable: counted and logged by the run. */
  reportProblem(problem: RowProblem): void;
}

export async function processShard(shard: Shard, index: number, ctx: ShardContext): Promise<ShardRecord> {
  const { claims, files, progress, signal, net } = ctx;
  const resumed = await ctx.journal.resumable(shard);
  if (resumed) {
    progress.shardResumed();
    claims.announceKept(index, resumed.sessions.map((s) => ({ key: collisionKey(s.subject, s.session), holder: { shard: shard.path, row: s.row, subject: s.subject, session: s.session } })));
    resumed.problems.forEach(ctx.reportProblem);
    return resumed;
  }
  const resolveUrl = `${ctx.endpoint.replace(/\/$/, '')}/datasets/${ctx.repo}/resolve/${encodeURIComponent(ctx.revision)}/${shard.path}`;
  const dataUrl = await resolveDataUrl(resolveUrl, net);
  const file = { byteLength: shard.size, slice: async (start: number, end?: number) => (await readRange(dataUrl, start, end ?? shard.size, net)).slice().buffer };
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file, { initialFetchSize: 8192 });
  } catch (error) {
    if (error instanceof HttpError || signal.aborted) throw error;
    throw new DownloadError(`${shard.path} is not a readable Parquet file (${(error as Error).message}; from ${redactUrl(dataUrl)})`);
  }
  // The ids (small column chunks; all row groups at once, alongside the first group's read):
  // later shards learn which names this one will claim.
  const groupStarts = metadata.row_groups.map((_, g) => metadata.row_groups.slice(0, g).reduce((n, group) => n + Number(group.num_rows), 0));
  const announcing = Promise.all(metadata.row_groups.map((group, g) =>
    parquetReadObjects({ file, metadata, columns: ID_COLUMNS, utf8: false, rowStart: groupStarts[g], rowEnd: groupStarts[g] + Number(group.num_rows) }),
  )).then((groups) => claims.announce(index, groups.flat().map((row) => claimKey(text(row.subject_id), text(row.session_id)))));
  announcing.catch(() => undefined); // awaited below; a failure must not count as unhandled meanwhile

  const rows = emptyBreakdown();
  const sessions: (SessionRecord | undefined)[] = [];
  const problems: RowProblem[] = [];
  const counting: Promise<void>[] = [];
  const skip = (problem: RowProblem) => {
    problems.push(problem);
    ctx.reportProblem(problem);
  };
  let rowStart = 0;
  const totalRows = Math.max(1, Number(metadata.num_rows));
  try {
    // Row group by row group: memory stays bounded by one group's needed column chunks.
    for (const group of metadata.row_groups) {
      const rowEnd = rowStart + Number(group.num_rows);
      const objects = await parquetReadObjects({ file, metadata, columns: COLUMNS, utf8: false, rowStart, rowEnd });
      await announcing; // this shard's rows are claimants before any of them is settled
      for (const [offset, object] of objects.entries()) {
        const rowIndex = rowStart + offset;
        const row = toRow(object);
        const decision = decide(row, ctx.filters);
        const key = claimKey(row.subject, row.session);
        const problem = ({ reason, message }: Unusable): RowProblem => ({ shard: shard.path, row: rowIndex, subject: row.subject, session: row.session, reason, message });
        if (!decision.keep) {
          tally(rows, decision);
          if (key) claims.settle(index, rowIndex, key, undefined);
          continue;
        }
        // Rows without a key are always `bad` (bad-id).
        const bad = await unusable(row);
        const holder = bad || !key ? undefined : await claims.earlierHolder(index, rowIndex, key);
        if (bad || holder || !key) {
          if (key) claims.settle(index, rowIndex, key, undefined);
          skip(problem(bad ?? { reason: 'duplicate', message: duplicateMessage(row.subject!, row.session!, holder!) }));
          continue;
        }
        const base = `${row.subject}_${row.session}`;
        const record: SessionRecord = {
          row: rowIndex,
          subject: row.subject!,
          session: row.session!,
          acquisition: decision.acquisition,
          image: await files.write(`${base}_t2w.nii.gz`, row.t2w!),
          imageSize: row.t2w!.length,
          imageSha256: sha256(row.t2w!),
          mask: row.lesion ? await files.write(`${base}_lesion.nii.gz`, row.lesion) : null,
          maskSize: row.lesion?.length ?? 0,
          maskSha256: row.lesion ? sha256(row.lesion) : null,
          lesionVolume: 0,
        };
        const slot = sessions.push(record) - 1;
        progress.sessionWritten();
        const kept: Holder = { shard: shard.path, row: rowIndex, subject: record.subject, session: record.session };
        if (!record.mask) {
          claims.settle(index, rowIndex, key, kept);
          continue;
        }
        // Counting reads the whole mask: a mask that fails it (truncated, corrupt) takes its row out again.
        counting.push(ctx.countLesion(path.join(ctx.out, record.mask)).then(
          (n) => {
            record.lesionVolume = n;
            claims.settle(index, rowIndex, key, kept);
          },
          async (error: Error) => {
            if (signal.aborted) throw error;
            sessions[slot] = undefined;
            progress.sessionRemoved();
            await Promise.all([files.remove(record.image), files.remove(record.mask!)]);
            claims.settle(index, rowIndex, key, undefined);
            skip(problem({ reason: 'bad-mask', message: `lesion mask: not a readable NIfTI image: ${error.message}` }));
          },
        ));
      }
      rowStart = rowEnd;
      progress.shardRead(index, rowEnd / totalRows);
    }
  } finally {
    // Failed or not, no count outlives its shard (nor writes or removes files after the run ends).
    await Promise.allSettled(counting);
  }
  await Promise.all(counting);
  const kept = sessions.filter((s): s is SessionRecord => s !== undefined);
  for (const s of kept) tally(rows, { keep: true, acquisition: s.acquisition });
  for (const p of problems) tally(rows, { keep: false, reason: p.reason });
  problems.sort((a, b) => a.row - b.row);
  const shardRecord: ShardRecord = { size: shard.size, oid: shard.oid, rows, sessions: kept, problems };
  await ctx.journal.record(shard.path, shardRecord);
  return shardRecord;
}

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
    subject: text(row.subject_id),
    session: text(row.session_id),
    acquisition: text(row.t2w_acquisition),
    t2w: niftiBytes(runs[0]), // the first T2w run, as the Python download takes
    lesion: niftiBytes(row.lesion),
  };
}

type Unusable = { reason: ProblemReason; message: string };

/** Why a row the filters keep cannot be used, whatever other rows hold: its ids or its bytes. */
async function unusable(row: HubRow): Promise<Unusable | undefined> {
  const badId = idProblem('subject_id', row.subject) ?? idProblem('session_id', row.session);
  if (badId) return { reason: 'bad-id', message: badId };
  const badImage = await niftiGzProblem(row.t2w!);
  if (badImage) return { reason: 'bad-image', message: `T2w: ${badImage}` };
  const badMask = row.lesion ? await niftiGzProblem(row.lesion) : undefined;
  if (badMask) return { reason: 'bad-mask', message: `lesion mask: ${badMask}` };
  return undefined;
}
