/**
 * One shard, fetched: its Parquet footer (one request for a typical footer, bounded), then
 * row group by row group the needed columns in stages, T2w only for the rows the other
 * columns keep (projection.ts), with Range requests through one resolve (remoteFile.ts;
 * memory stays bounded by one group); each kept row's NIfTI bytes written
 * unchanged, its lesion counted in the worker pool while the next rows download, and names
 * that collide with an earlier row's left to the first (claims.ts). A shard the journal holds,
 * unchanged, is taken from it instead.
 */
import type { FileMetaData } from 'hyparquet';
import * as path from 'node:path';
import type { RowProblem } from '../protocol';
import { claimKey, duplicateMessage, Holder, NameClaims } from './claims';
import { DownloadError } from './errors';
import type { DownloadJournal, SessionRecord, ShardRecord } from './journal';
import type { Shard } from './listing';
import { sha256 } from './local';
import { checkColumnChunks, NotParquet, readFooter } from './footer';
import { resolveUrl } from './lister';
import type { NetOptions } from './net';
import { COLUMNS, groupStarts, readGroupRows, readSmallColumns } from './projection';
import { RemoteFile } from './remoteFile';
import type { ProgressTracker } from './progress';
import { collisionKey, idProblem, niftiGzProblem } from './rows';
import type { RunFiles } from './runFiles';
import { DownloadFilters, emptyBreakdown, HubRow, ProblemReason, tally } from './selection';

export { COLUMNS };

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
    claims.announceKept(
      index,
      resumed.sessions.map((s) => ({
        key: collisionKey(s.subject, s.session),
        holder: { shard: shard.path, row: s.row, subject: s.subject, session: s.session },
      })),
    );
    resumed.problems.forEach(ctx.reportProblem);
    return resumed;
  }
  const remote = new RemoteFile(
    shard.path,
    resolveUrl(ctx.endpoint, ctx.repo, ctx.revision, shard.path),
    shard.size,
    net,
  );
  const file = {
    byteLength: shard.size,
    slice: async (start: number, end?: number) => arrayBuffer(await remote.read(start, end ?? shard.size)),
  };
  let metadata: FileMetaData;
  try {
    metadata = await readFooter((start, end) => remote.read(start, end), shard.size);
    checkColumnChunks(metadata, shard.size, COLUMNS);
  } catch (error) {
    // Only the data's own faults are "not Parquet"; network and server faults pass as they are.
    if (error instanceof NotParquet)
      throw new DownloadError(`${shard.path} is not a readable Parquet file: ${error.message}`);
    throw error;
  }
  // The ids and acquisitions (small column chunks, all row groups at once): later shards
  // learn which names this one will claim.
  const starts = groupStarts(metadata);
  const small = readSmallColumns(file, metadata);
  const announcing = small.then((groups) =>
    claims.announce(
      index,
      groups.flat().map((row) => claimKey(row.subject, row.session)),
    ),
  );
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
    for (const [g, group] of metadata.row_groups.entries()) {
      const rowEnd = rowStart + Number(group.num_rows);
      await announcing; // this shard's rows are claimants before any of them is settled
      const staged = await readGroupRows(file, metadata, g, starts[g], (await small)[g], ctx.filters);
      for (const [offset, { row, decision }] of staged.entries()) {
        const rowIndex = rowStart + offset;
        const key = claimKey(row.subject, row.session);
        const problem = ({ reason, message }: Unusable): RowProblem => ({
          shard: shard.path,
          row: rowIndex,
          subject: row.subject,
          session: row.session,
          reason,
          message,
        });
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
        counting.push(
          ctx.countLesion(path.join(ctx.out, record.mask)).then(
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
              skip(
                problem({ reason: 'bad-mask', message: `lesion mask: not a readable NIfTI image: ${error.message}` }),
              );
            },
          ),
        );
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

/** The ArrayBuffer hyparquet wants, without copying when the bytes fill their buffer. */
function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? (bytes.buffer as ArrayBuffer)
    : (bytes.slice().buffer as ArrayBuffer);
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
