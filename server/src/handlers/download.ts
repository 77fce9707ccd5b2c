/**
 * `neurocache/downloadArc`: the ARC download runs in the server, next to the data, with its
 * progress forwarded to the client's notification; cancelling the request stops it (a re-run
 * resumes). A relative output folder resolves against the workspace folder and must stay
 * inside it (never against the server's own working directory).
 */
import { CancellationToken, ErrorCodes, LSPErrorCodes, ResponseError } from 'vscode-languageserver/node';
import { DEFAULT_REPO, describeProblemCounts, downloadArc as download } from '../download/arc';
import { hubEndpoint, hubOffline, hubToken } from '../download/config';
import { formatBytes } from '../engine/units';
import { DEFAULT_MACHINE_SETTINGS, DownloadArcRequest, DownloadProgressNotification, MAX_DOWNLOAD_PARALLEL } from '../protocol';
import { resolveFolderArgument } from '../service/documentFiles';
import { sendNotification, ServerState } from './state';

/** Progress notifications at most this often (the last one always goes out). */
const PROGRESS_INTERVAL_MS = 250;

function parallelism(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 ? Math.min(value, MAX_DOWNLOAD_PARALLEL) : DEFAULT_MACHINE_SETTINGS.download.parallel;
}

export async function downloadArc(state: ServerState, params: DownloadArcRequest.Params, cancel: CancellationToken): Promise<DownloadArcRequest.Result> {
  if (!state.trusted) throw new ResponseError(ErrorCodes.InvalidRequest, 'NeuroCache does not download in a restricted (untrusted) workspace.');
  const controller = new AbortController();
  cancel.onCancellationRequested(() => controller.abort(new Error('cancelled; run the download again to resume')));
  let lastReport = 0;
  try {
    const out = await resolveFolderArgument(String(params.out ?? ''), state.folders, 'the download folder');
    const result = await download({
      out,
      repo: params.repo || DEFAULT_REPO,
      revision: params.revision || 'main',
      endpoint: hubEndpoint(params.endpoint),
      token: hubToken(params.token),
      jobs: parallelism(params.parallel),
      force: !!params.force,
      paperParity: !!params.paperParity,
      verifyCounts: true,
      includeTse: !!params.includeTse,
      requireMask: params.requireMask !== false,
      offline: hubOffline(),
    }, {
      signal: controller.signal,
      countLesion: (file) => state.inspector.pool.lesionVolume(file),
      onProgress: (p) => {
        if (Date.now() - lastReport < PROGRESS_INTERVAL_MS && p.shardsDone < p.shards) return;
        lastReport = Date.now();
        void sendNotification(state.connection, DownloadProgressNotification.type, { id: params.id, ...p });
      },
      log: (line) => state.connection.console.log(`download: ${line}`),
    });
    const skipped = result.problems.length ? ` Skipped ${describeProblemCounts(result.problems)} that could not be used: see the NeuroCache output.` : '';
    const message = result.status === 'up-to-date'
      ? `${result.datasetInfo} is already complete (${result.samples} samples).`
      : `Downloaded ${result.samples} samples from ${result.shards} shards (${formatBytes(result.bytesTransferred)} transferred).${skipped}`;
    return { datasetInfo: result.datasetInfo, samples: result.samples, problems: result.problems, message };
  } catch (error) {
    const reason = controller.signal.aborted ? (controller.signal.reason as Error) : (error as Error);
    throw new ResponseError(controller.signal.aborted ? LSPErrorCodes.RequestCancelled : ErrorCodes.InternalError, `Download ARC dataset: ${reason.message}`);
  }
}
