/**
 * `neurocache/downloadArc`: the ARC download runs in the server, next to the data, with its
 * progress (and every retry, at once) forwarded to the client's notification; cancelling the
 * request stops it (a re-run resumes). A relative output folder resolves against the
 * workspace folder and must stay inside it (never against the server's own working
 * directory). The log says where the token came from, never what it is.
 */
import { CancellationToken, ErrorCodes, LSPErrorCodes, ResponseError } from 'vscode-languageserver/node';
import { describeProblemCounts, downloadArc as download, DownloadResult } from '../download/arc';
import { DownloadError } from '../download/errors';
import {
  hubEndpoint,
  hubOfflineVariable,
  hubTokenWithSource,
  netTimingFromEnv,
  retryBaseFromEnv,
  TokenSource,
} from '../download/config';
import type { Breakdown, FilterReason } from '../download/selection';
import { plural } from '../engine/report';
import {
  ARC_DOWNLOAD_DEFAULTS,
  DEFAULT_MACHINE_SETTINGS,
  DownloadArcRequest,
  formatBytes,
  DownloadProgress,
  DownloadProgressNotification,
  DownloadRetry,
  NUMBER_OPTIONS,
} from '../protocol';
import { resolveFolderArgument } from '../service/documentFiles';
import { cappedSetting } from './settings';
import { sendNotification, ServerState } from './state';
import { statusChanged } from './status';

/** Progress notifications at most this often (the last one, and retries, always go out). */
const PROGRESS_INTERVAL_MS = 250;
/** A retry stays in the progress message for its wait, and at least this long. */
const RETRY_SHOWN_MS = 3000;

const TOKEN_SOURCES: Record<TokenSource, string> = {
  option: "the editor's secret storage",
  HF_TOKEN: 'HF_TOKEN',
  HUGGING_FACE_HUB_TOKEN: 'HUGGING_FACE_HUB_TOKEN',
  'token file': 'the token file (HF_TOKEN_PATH)',
};

/** What the filters left out, in plain words. */
const FILTERED_OUT: Record<FilterReason, string> = {
  'no-t2w': 'without a T2w image',
  'turbo-spin-echo': 'turbo spin echo',
  'other-acquisition': 'of another acquisition',
  'no-mask': 'without a lesion mask',
};

function parallelism(value: unknown): number {
  return cappedSetting(NUMBER_OPTIONS['download.parallel'], value) ?? DEFAULT_MACHINE_SETTINGS.download.parallel;
}

/** "Downloaded 7 samples from 2 shards (…). The filters left out 4 of 12 sessions: …": what was kept and dropped. */
export function describeDownload(result: DownloadResult): string {
  if (result.status === 'up-to-date') {
    return `${result.datasetInfo} is already complete (${plural(result.samples, 'sample')}); Force Re-download ARC dataset downloads it again.`;
  }
  const b: Breakdown | undefined = result.breakdown;
  const kept = b
    ? Object.entries(b.acquisitions)
        .filter(([, n]) => n)
        .map(([a, n]) => `${n} ${a}`)
        .join(' + ')
    : '';
  const resumed = result.shardsResumed ? `${result.shardsResumed} resumed; ` : '';
  const parts = [
    `Downloaded ${plural(result.samples, 'sample')} from ${plural(result.shards, 'shard')} (${kept ? `${kept}; ` : ''}${resumed}${formatBytes(result.bytesTransferred)}).`,
  ];
  if (b) {
    const left = (Object.keys(FILTERED_OUT) as FilterReason[])
      .filter((r) => b.skipped[r])
      .map((r) => `${b.skipped[r]} ${FILTERED_OUT[r]}`);
    const leftOut = (Object.keys(FILTERED_OUT) as FilterReason[]).reduce((n, r) => n + b.skipped[r], 0);
    parts.push(
      leftOut
        ? `The filters left out ${leftOut} of ${plural(b.rows, 'session')}: ${left.join(', ')}.`
        : `The filters kept all ${plural(b.rows, 'session')}.`,
    );
  }
  if (result.problems.length)
    parts.push(`Skipped ${describeProblemCounts(result.problems)} that could not be used: see the NeuroCache output.`);
  return parts.join(' ');
}

export async function downloadArc(
  state: ServerState,
  params: DownloadArcRequest.Params,
  cancel: CancellationToken,
): Promise<DownloadArcRequest.Result> {
  if (!state.workspace.trusted)
    throw new ResponseError(
      ErrorCodes.InvalidRequest,
      'NeuroCache does not download in a restricted (untrusted) workspace.',
    );
  const controller = new AbortController();
  cancel.onCancellationRequested(() => controller.abort(new Error('cancelled; run the download again to resume')));
  let token: ReturnType<typeof hubTokenWithSource>;
  try {
    token = hubTokenWithSource(params.token);
  } catch (error) {
    // A token file that exists but cannot be read (huggingface_hub fails too).
    throw new ResponseError(ErrorCodes.InternalError, `Download ARC dataset: ${(error as Error).message}`);
  }
  // Whatever the libraries put in a message, the token never reaches the log or the client.
  const scrub = (text: string) => (token ? text.split(token.token).join('***') : text);
  const started = Date.now();
  let last: DownloadProgress = {
    shards: 0,
    shardsDone: 0,
    fraction: 0,
    sessionsWritten: 0,
    problems: 0,
    bytes: 0,
    bytesPerSecond: 0,
  };
  let lastReport = 0;
  let retry: { retrying: DownloadRetry; until: number; resumesAt: number } | undefined;
  const notify = () => {
    lastReport = Date.now();
    const now = Date.now();
    // A rate-limit wait counts down in the notification ("resuming in 2 m 10 s").
    const retrying =
      retry && now < retry.until ? { ...retry.retrying, delayMs: Math.max(0, retry.resumesAt - now) } : undefined;
    void sendNotification(state.connection, DownloadProgressNotification.type, {
      id: params.id,
      ...last,
      ...(retrying ? { retrying } : {}),
    });
  };
  const setActivity = (what: string) => {
    state.health.downloads.set(params.id, `Downloading the ARC dataset${what}`);
    statusChanged(state);
  };
  setActivity(' (listing the shards)');
  try {
    const out = await resolveFolderArgument(String(params.out ?? ''), state.workspace.folders, 'the download folder');
    const options = {
      out,
      repo: params.repo || ARC_DOWNLOAD_DEFAULTS.repo,
      revision: params.revision || ARC_DOWNLOAD_DEFAULTS.revision,
      endpoint: hubEndpoint(params.endpoint),
      token: token?.token,
      jobs: parallelism(params.parallel),
      force: !!params.force,
      paperParity: !!params.paperParity,
      verifyCounts: true,
      includeTse: !!params.includeTse,
      requireMask: params.requireMask !== false,
      offline: hubOfflineVariable(),
      retryBaseMs: retryBaseFromEnv(),
      ...netTimingFromEnv(),
      tokenHint:
        '"NeuroCache: Set Hugging Face Token", HF_TOKEN, HUGGING_FACE_HUB_TOKEN or the token file at HF_TOKEN_PATH (default $HF_HOME/token)',
    };
    state.log.info(
      `Download ARC dataset${options.force ? ' (force: everything again)' : ''}: ${options.repo} revision ${options.revision} from ${new URL(options.endpoint).origin} into ${out}; ` +
        `token ${token ? `from ${TOKEN_SOURCES[token.source]}` : 'none'}; ${options.jobs} shards at once; ` +
        `${options.includeTse ? 'with' : 'without'} turbo spin echo, ${options.requireMask ? 'only sessions with a lesion mask' : 'masks optional'}`,
    );
    const result = await download(options, {
      signal: controller.signal,
      countLesion: (file) => state.inspector.pool.lesionVolume(file),
      onProgress: (p) => {
        if (p.shardsDone !== last.shardsDone || last.shards === 0)
          setActivity(` (${p.shardsDone}/${plural(p.shards, 'shard')})`);
        last = p;
        if (Date.now() - lastReport < PROGRESS_INTERVAL_MS && p.shardsDone < p.shards) return;
        notify();
      },
      onRetry: ({ attempt, attempts, reason, delayMs, rateLimited }) => {
        const waits = delayMs * (options.waitScale ?? 1);
        retry = {
          retrying: { attempt, attempts, reason: scrub(reason), delayMs, rateLimited },
          until: Date.now() + Math.max(waits, RETRY_SHOWN_MS),
          resumesAt: Date.now() + waits,
        };
        notify();
      },
      log: (line, level) =>
        level === 'warn' ? state.log.warn(`Download: ${scrub(line)}`) : state.log.info(`Download: ${scrub(line)}`),
    });
    const message = describeDownload(result);
    state.log.info(`Download finished in ${((Date.now() - started) / 1000).toFixed(1)} s: ${message}`);
    return {
      datasetInfo: result.datasetInfo,
      samples: result.samples,
      problems: result.problems,
      status: result.status,
      message,
    };
  } catch (error) {
    const cancelled = controller.signal.aborted;
    const reason = scrub((cancelled ? (controller.signal.reason as Error) : (error as Error)).message);
    if (cancelled) state.log.info(`Download ${reason}`);
    else state.log.error(`Download failed after ${((Date.now() - started) / 1000).toFixed(1)} s: ${reason}`);
    const data: DownloadArcRequest.ErrorData = {
      httpStatus: error instanceof DownloadError ? error.httpStatus : undefined,
    };
    throw new ResponseError(
      cancelled ? LSPErrorCodes.RequestCancelled : ErrorCodes.InternalError,
      `Download ARC dataset: ${reason}`,
      data,
    );
  } finally {
    state.health.downloads.delete(params.id);
    statusChanged(state);
  }
}
