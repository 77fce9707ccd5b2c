/**
 * "Download ARC dataset": lists the Parquet shards of the Hub dataset, reads from each only
 * the five needed columns with Range requests (the NIfTI bytes are written unchanged, never
 * recompressed), counts lesion volumes in the worker pool while other shards download, and
 * writes dataset_info.json last. Rows that cannot be used (ids that cannot name files, bytes
 * that are not a .nii.gz, a name an earlier row already has) are skipped and reported, never
 * written. A journal with each file's SHA-256 makes interrupted runs resume shard by shard;
 * an existing complete dataset_info.json short-circuits with no network at all; `force`
 * downloads and rewrites everything.
 */
import { listFiles } from '@huggingface/hub';
import { FileMetaData, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseDatasetInfo } from '../engine/arc/datasetInfo';
import { pythonJson } from '../engine/json/edits';
import type { DownloadProgress, RowProblem } from '../protocol';
import { writeFileAtomic } from '../service/atomic';
import { Holder, NameClaims } from './claims';
import { acquireLock, fileMatches, JOURNAL_NAME, NIFTI_DIR, removeLeftoverTemps, removeLeftoverTempsIfIdle, sha256, STATE_DIR } from './local';
import { HttpError, NetOptions, readRange, redactUrl, resolveDataUrl, RetryEvent, retryingFetch } from './net';
import { collisionKey, idProblem, niftiGzProblem } from './rows';
import { addBreakdown, Breakdown, decide, describeBreakdown, DownloadFilters, emptyBreakdown, HubRow, paperParityProblem, ProblemReason, tally } from './selection';

export const COLUMNS = ['subject_id', 'session_id', 't2w', 't2w_acquisition', 'lesion'];
const ID_COLUMNS = ['subject_id', 'session_id'];
/** Bumped when the journal's records change: an older journal is not trusted, its shards are fetched again. */
const JOURNAL_FORMAT = 2;

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
  /** Where this front end takes a token from, for the message when the Hub refuses (default: the CLI's). */
  tokenHint?: string;
}

export const CLI_TOKEN_HINT = '--token, HF_TOKEN or the token file under HF_HOME';

// The progress and row-problem types are part of the client/server contract.
export type { DownloadProgress, RetryEvent, RowProblem };

export interface DownloadResult {
  status: 'downloaded' | 'up-to-date';
  datasetInfo: string;
  samples: number;
  breakdown?: Breakdown;
  /** Every row skipped as unusable, in shard and row order (none for 'up-to-date'). */
  problems: RowProblem[];
  shards: number;
  shardsResumed: number;
  bytesTransferred: number;
  /** Total size of the shards listed, for the transferred/total ratio. */
  shardBytes: number;
  /** Temp files of an interrupted earlier run removed before starting. */
  tempFilesRemoved: number;
  elapsedMs: number;
}

/** "3 rows (1 bad-id, 2 duplicate)", for summaries. */
export function describeProblemCounts(problems: RowProblem[]): string {
  const counts = new Map<string, number>();
  for (const p of problems) counts.set(p.reason, (counts.get(p.reason) ?? 0) + 1);
  return `${problems.length} row${problems.length === 1 ? '' : 's'} (${[...counts].map(([r, n]) => `${n} ${r}`).join(', ')})`;
}

/** One line per problem, for logs; long ids are cut (the JSON summary has them whole). */
export function describeProblem(p: RowProblem): string {
  const shown = (id: string | null) => (id === null ? 'null' : JSON.stringify(id.length > 40 ? `${id.slice(0, 40)}…` : id));
  return `skipped ${p.shard} row ${p.row} (subject ${shown(p.subject)}, session ${shown(p.session)}): ${p.reason}: ${p.message}`;
}

export interface DownloadDeps {
  /** Voxels > 0 in a mask file (the worker pool). */
  countLesion(file: string): Promise<number>;
  signal?: AbortSignal;
  onProgress?(progress: DownloadProgress): void;
  /** A request failed transiently and is about to be tried again (after the wait it names). */
  onRetry?(retry: RetryEvent): void;
  /** What happened, for the log: 'warn' for retries and skipped rows, else 'info'. */
  log?(line: string, level?: 'info' | 'warn'): void;
}

/** One kept session, as recorded in the journal and in dataset_info.json. */
interface SessionRecord {
  row: number;
  subject: string;
  session: string;
  acquisition: string;
  image: string;
  imageSize: number;
  imageSha256: string;
  mask: string | null;
  maskSize: number;
  maskSha256: string | null;
  lesionVolume: number;
}

/** A shard as listed: its content id (the LFS sha256, else the git blob id) tells a re-uploaded shard of the same size. */
interface Shard {
  path: string;
  size: number;
  oid: string;
}

interface ShardRecord {
  size: number;
  oid: string;
  rows: Breakdown;
  sessions: SessionRecord[];
  problems: RowProblem[];
}

interface Journal {
  key: string;
  shards: Record<string, ShardRecord>;
}

export class DownloadError extends Error {
  /** The Hub's HTTP status when it refused (401, 403, 404), for clients that offer a fix. */
  constructor(message: string, readonly httpStatus?: number) {
    super(message);
  }
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

function describeHubError(error: unknown, options: DownloadOptions): Error {
  const status = (error as { statusCode?: number; status?: number }).statusCode ?? (error as HttpError).status;
  const where = `${options.repo} (revision ${options.revision}) on ${new URL(options.endpoint).origin}`;
  if (status === 401 || status === 403) {
    return new DownloadError(`access to ${where} was refused (HTTP ${status}): the dataset may be gated or private, or the token was not accepted — accept its terms on the Hub and give a token (${options.tokenHint ?? CLI_TOKEN_HINT})`, status);
  }
  if (status === 404) return new DownloadError(`${where} was not found (HTTP 404): check --repo and --revision`, status);
  const message = (error as Error).message ?? String(error);
  // Library messages may quote a token-bearing header or a signed URL: keep only our words.
  return new DownloadError(`listing ${where} failed: ${message.replace(/hf_[A-Za-z0-9]+/g, 'hf_***').replace(/\?[^\s"']*/g, '')}`);
}

export async function downloadArc(options: DownloadOptions, deps: DownloadDeps): Promise<DownloadResult> {
  const started = Date.now();
  const infoPath = path.join(options.out, 'dataset_info.json');
  if (!options.force && (await isComplete(infoPath))) {
    const samples = parseDatasetInfo(await fs.readFile(infoPath, 'utf8')).samples.length;
    // An interrupted `--force` run leaves a complete dataset_info.json and its temp files.
    const tempFilesRemoved = await removeLeftoverTempsIfIdle(options.out);
    return { status: 'up-to-date', datasetInfo: infoPath, samples, problems: [], shards: 0, shardsResumed: 0, bytesTransferred: 0, shardBytes: 0, tempFilesRemoved, elapsedMs: Date.now() - started };
  }
  if (options.offline) {
    throw new DownloadError(`HF_HUB_OFFLINE=1 forbids network access and ${infoPath} is not a complete download; unset HF_HUB_OFFLINE to download`);
  }
  const release = await acquireLock(options.out).catch((error: Error) => {
    throw new DownloadError(error.message);
  });
  try {
    const tempFilesRemoved = await removeLeftoverTemps(options.out);
    if (tempFilesRemoved) deps.log?.(`removed ${tempFilesRemoved} temp files left by an interrupted download`);
    return { ...(await download(options, deps, started)), tempFilesRemoved };
  } finally {
    await release();
  }
}

/** The download proper, holding the folder's lock. */
async function download(options: DownloadOptions, deps: DownloadDeps, started: number): Promise<Omit<DownloadResult, 'tempFilesRemoved'>> {
  const infoPath = path.join(options.out, 'dataset_info.json');
  // The first failing shard stops the others: nothing keeps writing once the run has failed.
  const stop = new AbortController();
  const signal = deps.signal ? AbortSignal.any([deps.signal, stop.signal]) : stop.signal;
  let bytes = 0;
  const net: NetOptions = {
    endpointOrigin: new URL(options.endpoint).origin,
    token: options.token,
    signal,
    retryBaseMs: options.retryBaseMs,
    onBytes: (n) => (bytes += n),
    onRetry: (retry) => {
      deps.log?.(`retrying ${retry.what} in ${(retry.delayMs / 1000).toFixed(1)} s (attempt ${retry.attempt} of ${retry.attempts}): ${retry.reason}`, 'warn');
      deps.onRetry?.(retry);
    },
  };

  const shards: Shard[] = [];
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
      if (entry.type === 'file' && entry.path.endsWith('.parquet')) shards.push({ path: entry.path, size: entry.lfs?.size ?? entry.size, oid: entry.lfs?.oid ?? entry.oid ?? '' });
    }
  } catch (error) {
    if (deps.signal?.aborted) throw deps.signal.reason;
    throw describeHubError(error, options);
  }
  if (shards.length === 0) throw new DownloadError(`${options.repo} has no Parquet shards under data/ at revision ${options.revision}`);
  shards.sort((a, b) => (a.path < b.path ? -1 : 1));

  await fs.mkdir(path.join(options.out, NIFTI_DIR), { recursive: true });
  const journalPath = path.join(options.out, STATE_DIR, JOURNAL_NAME);
  const key = JSON.stringify([JOURNAL_FORMAT, options.repo, options.revision, options.includeTse, options.requireMask]);
  // --force: start afresh, so every shard is fetched and every file rewritten.
  const loaded = options.force ? undefined : await fs.readFile(journalPath, 'utf8').then((t) => JSON.parse(t) as Partial<Journal> | null, () => undefined);
  const journal: Journal = loaded?.key === key && typeof loaded.shards === 'object' && loaded.shards !== null ? (loaded as Journal) : { key, shards: {} };
  let journalWrite = Promise.resolve();
  const saveJournal = () => (journalWrite = journalWrite.then(async () => {
    await fs.mkdir(path.dirname(journalPath), { recursive: true });
    await writeFileAtomic(journalPath, JSON.stringify(journal));
  }));

  let shardsDone = 0;
  let shardsResumed = 0;
  let sessionsWritten = 0;
  let problemCount = 0;
  const shardBytes = shards.reduce((n, s) => n + s.size, 0);
  // Per shard, the fraction of its rows read; resumed shards count as done from the start.
  const shardProgress = new Array<number>(shards.length).fill(0);
  const report = () => {
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? bytes / seconds : 0;
    const fraction = shardProgress.reduce((a, b) => a + b, 0) / shards.length;
    const fetched = fraction - shardsResumed / shards.length;
    const eta = fetched > 0 ? (seconds / fetched) * (1 - fraction) : undefined;
    deps.onProgress?.({ shards: shards.length, shardsDone, fraction, sessionsWritten, problems: problemCount, bytes, bytesPerSecond: rate, etaSeconds: eta });
  };
  const reportProblem = (problem: RowProblem) => {
    problemCount++;
    deps.log?.(describeProblem(problem), 'warn');
  };

  const claims = new NameClaims(shards.length, signal);
  /** Files written by this run (case-folded): a second write to one of them is a bug, never done silently. */
  const written = new Set<string>();

  /** A shard finished earlier, unchanged on the Hub, whose files all still hold what was written (size and SHA-256) is not fetched again. */
  const resumable = async (shard: Shard) => {
    const record = journal.shards[shard.path];
    if (!record || record.size !== shard.size || record.oid !== shard.oid) return undefined;
    for (const s of record.sessions) {
      if (!(await fileMatches(path.join(options.out, s.image), s.imageSize, s.imageSha256))) return undefined;
      if (s.mask && !(await fileMatches(path.join(options.out, s.mask), s.maskSize, s.maskSha256 ?? ''))) return undefined;
    }
    return record;
  };

  const writeNifti = async (name: string, data: Uint8Array): Promise<string> => {
    const relative = path.join(NIFTI_DIR, name);
    const claim = relative.toLowerCase();
    if (written.has(claim)) throw new Error(`internal error: ${relative} would be written twice in one run`);
    written.add(claim);
    await writeFileAtomic(path.join(options.out, relative), data);
    return relative.split(path.sep).join('/');
  };
  const unwrite = async (relative: string) => {
    written.delete(path.normalize(relative).toLowerCase());
    await fs.rm(path.join(options.out, relative), { force: true });
  };

  const processShard = async (shard: Shard, index: number): Promise<ShardRecord> => {
    const resumed = await resumable(shard);
    if (resumed) {
      shardsResumed++;
      claims.announceKept(index, resumed.sessions.map((s) => ({ key: collisionKey(s.subject, s.session), holder: { shard: shard.path, row: s.row, subject: s.subject, session: s.session } })));
      resumed.problems.forEach(reportProblem);
      return resumed;
    }
    const resolveUrl = `${options.endpoint.replace(/\/$/, '')}/datasets/${options.repo}/resolve/${encodeURIComponent(options.revision)}/${shard.path}`;
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
    )).then((groups) => claims.announce(index, groups.flat().map((row) => keyOf(text(row.subject_id), text(row.session_id)))));
    announcing.catch(() => undefined); // awaited below; a failure must not count as unhandled meanwhile

    const rows = emptyBreakdown();
    const sessions: (SessionRecord | undefined)[] = [];
    const problems: RowProblem[] = [];
    const counting: Promise<void>[] = [];
    const skip = (problem: RowProblem) => {
      problems.push(problem);
      reportProblem(problem);
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
          const decision = decide(row, options);
          const key = keyOf(row.subject, row.session);
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
            image: await writeNifti(`${base}_t2w.nii.gz`, row.t2w!),
            imageSize: row.t2w!.length,
            imageSha256: sha256(row.t2w!),
            mask: row.lesion ? await writeNifti(`${base}_lesion.nii.gz`, row.lesion) : null,
            maskSize: row.lesion?.length ?? 0,
            maskSha256: row.lesion ? sha256(row.lesion) : null,
            lesionVolume: 0,
          };
          const slot = sessions.push(record) - 1;
          sessionsWritten++;
          const kept: Holder = { shard: shard.path, row: rowIndex, subject: record.subject, session: record.session };
          if (!record.mask) {
            claims.settle(index, rowIndex, key, kept);
            continue;
          }
          // Counting reads the whole mask: a mask that fails it (truncated, corrupt) takes its row out again.
          counting.push(deps.countLesion(path.join(options.out, record.mask)).then(
            (n) => {
              record.lesionVolume = n;
              claims.settle(index, rowIndex, key, kept);
            },
            async (error: Error) => {
              if (signal.aborted) throw error;
              sessions[slot] = undefined;
              sessionsWritten--;
              await Promise.all([unwrite(record.image), unwrite(record.mask!)]);
              claims.settle(index, rowIndex, key, undefined);
              skip(problem({ reason: 'bad-mask', message: `lesion mask: not a readable NIfTI image: ${error.message}` }));
            },
          ));
        }
        rowStart = rowEnd;
        shardProgress[index] = rowEnd / totalRows;
        report();
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
    journal.shards[shard.path] = shardRecord;
    await saveJournal();
    return shardRecord;
  };

  // A fixed number of shard workers pull from one queue: latency hiding without unbounded memory.
  const results: ShardRecord[] = new Array(shards.length);
  let next = 0;
  const worker = async () => {
    while (next < shards.length && !signal.aborted) {
      const index = next++;
      results[index] = await processShard(shards[index], index);
      shardProgress[index] = 1;
      shardsDone++;
      report();
    }
  };
  const outcomes = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(options.jobs, shards.length)) }, () =>
    worker().catch((error) => {
      stop.abort(error);
      throw error;
    }),
  ));
  await journalWrite;
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) throw deps.signal?.aborted ? deps.signal.reason : stop.signal.reason;

  const breakdown = emptyBreakdown();
  for (const r of results) addBreakdown(breakdown, r.rows);
  const problems = results.flatMap((r) => r.problems);
  // The claims keep one row per name among the shards fetched now; a shard resumed from the
  // journal can still hold a row whose name an earlier, re-fetched shard took: the earlier wins.
  const holders = new Map<string, Holder>();
  const sessions = results.flatMap((r, index) => r.sessions.filter((s) => {
    const key = collisionKey(s.subject, s.session);
    const holder = holders.get(key);
    if (!holder) {
      holders.set(key, { shard: shards[index].path, row: s.row, subject: s.subject, session: s.session });
      return true;
    }
    const duplicate: RowProblem = { shard: shards[index].path, row: s.row, subject: s.subject, session: s.session, reason: 'duplicate', message: duplicateMessage(s.subject, s.session, holder) };
    problems.push(duplicate);
    reportProblem(duplicate);
    breakdown.kept--;
    breakdown.acquisitions[s.acquisition]--;
    breakdown.skipped.duplicate++;
    return false;
  }));
  deps.log?.(describeBreakdown(breakdown));
  if (options.paperParity && options.verifyCounts) {
    const problem = paperParityProblem(breakdown);
    if (problem) throw new DownloadError(`count verification failed: ${problem} (pass --no-verify-counts to accept it); dataset_info.json was not written`);
  }
  const info = {
    num_samples: sessions.length,
    image_paths: sessions.map((s) => s.image),
    mask_paths: sessions.map((s) => s.mask),
    lesion_volumes: sessions.map((s) => s.lesionVolume),
    acquisition_types: sessions.map((s) => s.acquisition),
    subject_ids: sessions.map((s) => s.subject),
  };
  await writeFileAtomic(infoPath, pythonJson(info));
  return { status: 'downloaded', datasetInfo: infoPath, samples: sessions.length, breakdown, problems, shards: shards.length, shardsResumed, bytesTransferred: bytes, shardBytes, elapsedMs: Date.now() - started };
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

/** The collision key of a row whose ids can name files, else undefined. */
function keyOf(subject: string | null, session: string | null): string | undefined {
  if (idProblem('subject_id', subject) || idProblem('session_id', session)) return undefined;
  return collisionKey(subject!, session!);
}

function duplicateMessage(subject: string, session: string, holder: Holder): string {
  const same = holder.subject === subject && holder.session === session;
  const why = same
    ? 'the same subject and session'
    : `ids that give the same file names once joined with "_"${`${holder.subject}_${holder.session}` === `${subject}_${session}` ? '' : ' (up to case, which case-insensitive file systems ignore)'}`;
  return `${holder.shard} row ${holder.row} (subject ${holder.subject}, session ${holder.session}) has ${why}; the first row is kept`;
}
