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
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parseDatasetInfo } from '../engine/arc/datasetInfo';
import { pythonJsonDumpsIndented } from '../engine/json/pythonJsonDump';
import type { DownloadProgress, RowProblem } from '../protocol';
import { writeFileAtomic } from '../service/atomic';
import { firstOfEachName, NameClaims } from './claims';
import { DownloadError } from './errors';
import { DownloadJournal } from './journal';
import { describeFailure } from './hubErrors';
import { hubContext, listShards, ListingOptions } from './listing';
import { acquireLock, NIFTI_DIR, removeLeftoverTemps, removeLeftoverTempsIfIdle } from './local';
import { formatWait, NetOptions, RetryEvent } from './net';
import { ProgressTracker } from './progress';
import { runQueue } from './queue';
import { RunFiles } from './runFiles';
import {
  addBreakdown,
  Breakdown,
  describeBreakdown,
  DownloadFilters,
  emptyBreakdown,
  paperParityProblem,
} from './selection';
import { processShard, ShardContext } from './shard';

export interface DownloadOptions extends DownloadFilters, ListingOptions {
  out: string;
  jobs: number;
  force: boolean;
  paperParity: boolean;
  verifyCounts: boolean;
  /** The variable that forbids the network ("HF_HUB_OFFLINE=1"), or undefined. */
  offline: string | undefined;
  retryBaseMs?: number;
  /** The network's clock knobs (tests): see `netTimingFromEnv`. */
  idleTimeoutMs?: number;
  waitScale?: number;
}

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
  const shown = (id: string | null) =>
    id === null ? 'null' : JSON.stringify(id.length > 40 ? `${id.slice(0, 40)}…` : id);
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

/** A dataset_info.json whose lists agree and whose every file exists is complete. */
export async function isComplete(infoPath: string): Promise<boolean> {
  const content = await fs.readFile(infoPath, 'utf8').catch(() => undefined);
  if (content === undefined) return false;
  const parsed = parseDatasetInfo(content);
  if (!parsed.isDatasetInfo || parsed.schema.length > 0) return false;
  const dir = path.dirname(infoPath);
  const paths = parsed.samples
    .flatMap((s) => [s.image?.value, s.mask?.value])
    .filter((p): p is string => typeof p === 'string');
  const present = await Promise.all(
    paths.map((p) =>
      fs.stat(path.resolve(dir, p)).then(
        (st) => st.isFile(),
        () => false,
      ),
    ),
  );
  return present.every(Boolean);
}

export async function downloadArc(options: DownloadOptions, deps: DownloadDeps): Promise<DownloadResult> {
  const started = Date.now();
  const infoPath = path.join(options.out, 'dataset_info.json');
  if (!options.force && (await isComplete(infoPath))) {
    const samples = parseDatasetInfo(await fs.readFile(infoPath, 'utf8')).samples.length;
    // An interrupted `--force` run leaves a complete dataset_info.json and its temp files.
    const tempFilesRemoved = await removeLeftoverTempsIfIdle(options.out);
    return {
      status: 'up-to-date',
      datasetInfo: infoPath,
      samples,
      problems: [],
      shards: 0,
      shardsResumed: 0,
      bytesTransferred: 0,
      shardBytes: 0,
      tempFilesRemoved,
      elapsedMs: Date.now() - started,
    };
  }
  if (options.offline) {
    throw new DownloadError(
      `${options.offline} forbids network access and ${infoPath} is not a complete download; unset ${options.offline.split('=')[0]} to download`,
    );
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

/**
 * The download proper, holding the folder's lock: the shards listed, fetched by a fixed number
 * of workers (resumed from the journal where they can be), one session per name across them,
 * the count check, and dataset_info.json written last.
 */
async function download(
  options: DownloadOptions,
  deps: DownloadDeps,
  started: number,
): Promise<Omit<DownloadResult, 'tempFilesRemoved'>> {
  // Every file lands inside the output folder as it is now (the lock file is in it): a folder on the way swapped for a link later fails the write.
  const confine = [await fs.realpath(options.out)];
  const infoPath = path.join(options.out, 'dataset_info.json');
  // The first failing shard stops the others: nothing keeps writing once the run has failed.
  const stop = new AbortController();
  const signal = deps.signal ? AbortSignal.any([deps.signal, stop.signal]) : stop.signal;
  let bytes = 0;
  let progress: ProgressTracker | undefined;
  const net: NetOptions = {
    endpointOrigin: new URL(options.endpoint).origin,
    token: options.token,
    signal,
    retryBaseMs: options.retryBaseMs,
    idleTimeoutMs: options.idleTimeoutMs,
    waitScale: options.waitScale,
    onBytes: (n) => {
      bytes += n;
      progress?.bytesArrived();
    },
    onRetry: (retry) => {
      deps.log?.(
        retry.rateLimited
          ? `${retry.what}: rate limited by the Hub, resuming in ${formatWait(retry.delayMs)}`
          : `retrying ${retry.what} in ${(retry.delayMs / 1000).toFixed(1)} s (attempt ${retry.attempt} of ${retry.attempts}): ${retry.reason}`,
        'warn',
      );
      deps.onRetry?.(retry);
    },
  };

  const shards = await listShards(options, net, deps.signal);
  progress = new ProgressTracker(shards.length, started, () => bytes, deps.onProgress);
  await fs.mkdir(path.join(options.out, NIFTI_DIR), { recursive: true });
  const journal = await DownloadJournal.open(options.out, options, options.force, confine);
  const shardBytes = shards.reduce((n, s) => n + s.size, 0);
  const reportProblem = (problem: RowProblem) => {
    progress.problemFound();
    deps.log?.(describeProblem(problem), 'warn');
  };
  const context: ShardContext = {
    out: options.out,
    endpoint: options.endpoint,
    repo: options.repo,
    revision: options.revision,
    filters: options,
    net,
    signal,
    claims: new NameClaims(shards.length, signal),
    journal,
    files: new RunFiles(options.out, confine),
    progress,
    countLesion: deps.countLesion,
    reportProblem,
  };
  const hub = hubContext(options);
  // A shard's failure is named for what it is (the Hub's refusal, a network or server fault).
  const fetchShard = (index: number) =>
    processShard(shards[index], index, context).catch((error) => {
      throw signal.aborted ? error : describeFailure(error, hub);
    });
  const { results, failed } = await runQueue(shards.length, options.jobs, stop, signal, fetchShard, (index) =>
    progress!.shardFinished(index),
  );
  await journal.written();
  if (failed) throw deps.signal?.aborted ? deps.signal.reason : stop.signal.reason;

  const breakdown = emptyBreakdown();
  for (const r of results) addBreakdown(breakdown, r.rows);
  const problems = results.flatMap((r) => r.problems);
  const { sessions, duplicates } = firstOfEachName(
    results.map((r, index) => ({ path: shards[index].path, sessions: r.sessions })),
  );
  for (const { problem, acquisition } of duplicates) {
    problems.push(problem);
    reportProblem(problem);
    breakdown.kept--;
    breakdown.acquisitions[acquisition]--;
    breakdown.skipped.duplicate++;
  }
  deps.log?.(describeBreakdown(breakdown));
  if (options.paperParity && options.verifyCounts) {
    const problem = paperParityProblem(breakdown);
    if (problem)
      throw new DownloadError(
        `count verification failed: ${problem} (pass --no-verify-counts to accept it); dataset_info.json was not written`,
      );
  }
  const info = {
    num_samples: sessions.length,
    image_paths: sessions.map((s) => s.image),
    mask_paths: sessions.map((s) => s.mask),
    lesion_volumes: sessions.map((s) => s.lesionVolume),
    acquisition_types: sessions.map((s) => s.acquisition),
    subject_ids: sessions.map((s) => s.subject),
  };
  await writeFileAtomic(infoPath, pythonJsonDumpsIndented(info), { confine });
  return {
    status: 'downloaded',
    datasetInfo: infoPath,
    samples: sessions.length,
    breakdown,
    problems,
    shards: shards.length,
    shardsResumed: progress.shardsResumed,
    bytesTransferred: bytes,
    shardBytes,
    elapsedMs: Date.now() - started,
  };
}
