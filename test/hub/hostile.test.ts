/**
 * Issue 21.1: a Hub or proxy cannot exhaust memory. The CLI runs in a child process with a
 * heap limit and a resident-memory watchdog against a hostile server on 127.0.0.1 (sizes faked
 * by headers and streaming, never allocated); every case must fail promptly, with bounded
 * memory, and say what happened as a network or server fault.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { cliPath, tempDir } from '../support/python';
import { HostileMode, startHostileHub } from './hostile';

/** Resident memory the child may reach (Node itself takes ~60 MB). */
const RSS_LIMIT_MB = 300;
/** The child gives up after this long: a case that hangs is a failure, not a wait. */
const CHILD_LIMIT_MS = 60_000;

const WATCHDOG = `
let peak = 0;
const timer = setInterval(() => {
  const rss = process.memoryUsage().rss;
  peak = Math.max(peak, rss);
  if (rss > ${RSS_LIMIT_MB} * 1024 * 1024) { process.stderr.write('WATCHDOG: RSS over ${RSS_LIMIT_MB} MB\\n'); process.exit(99); }
}, 20);
timer.unref();
setTimeout(() => { process.stderr.write('WATCHDOG: still running after ${CHILD_LIMIT_MS} ms\\n'); process.exit(98); }, ${CHILD_LIMIT_MS}).unref();
process.on('exit', () => process.stderr.write('WATCHDOG: peak RSS ' + Math.round(Math.max(peak, process.memoryUsage().rss) / 1048576) + ' MB\\n'));
`;

function runLimited(endpoint: string, dir: string): Promise<{ code: number; stderr: string }> {
  const watchdog = path.join(dir, 'watchdog.js');
  writeFileSync(watchdog, WATCHDOG);
  const out = path.join(dir, 'out');
  mkdirSync(out);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--max-old-space-size=64', '-r', watchdog, cliPath(), 'arc', 'download', '--out', out, '--endpoint', endpoint],
      {
        env: {
          ...process.env,
          HF_TOKEN: '',
          HF_HOME: dir,
          HF_ENDPOINT: '',
          HF_HUB_OFFLINE: '',
          NEUROCACHE_RETRY_BASE_MS: '5',
          NEUROCACHE_HTTP_IDLE_MS: '500',
        },
      },
      (error, _stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

const CASES: [HostileMode, RegExp][] = [
  [
    'huge-content-length',
    /network or server fault: GET http:\/\/127\.0\.0\.1:\d+\/datasets\/.*: the server announced 10737418240 bytes, more than the 16384 bytes asked for/,
  ],
  [
    'endless-chunked',
    /network or server fault: GET http:\/\/127\.0\.0\.1:\d+\/datasets\/.*: the server sent more than the 16384 bytes asked for/,
  ],
  [
    'huge-footer',
    /data\/train-00000-of-00001\.parquet is not a readable Parquet file: its footer claims 4294967280 bytes of metadata, more than the 67108864 accepted/,
  ],
  [
    'endless-listing',
    /network or server fault: GET http:\/\/127\.0\.0\.1:\d+\/api\/datasets\/.* \(page 1 of the listing\): the server sent more than the 16777216-byte budget of one listing page/,
  ],
  [
    'endless-next',
    /network or server fault: the listing of hugging-science\/arc-aphasia-bids did not end after 1000 pages \(0 entries\)/,
  ],
  [
    'file-redirect',
    /network or server fault: http:\/\/127\.0\.0\.1:\d+\/datasets\/.*\.parquet redirected to file:\/\/\/etc\/passwd: only http and https redirects are followed/,
  ],
  [
    'redirect-loop',
    /network or server fault: redirect loop: http:\/\/127\.0\.0\.1:\d+\/datasets\/.*\.parquet → http:\/\/127\.0\.0\.1:\d+\/elsewhere → http:\/\/127\.0\.0\.1:\d+\/datasets\/.*\.parquet/,
  ],
  ['drip', /too slow: \d+ bytes in 0.5 s \(at least 100 B\/s needed\), 2 times/],
];

for (const [mode, message] of CASES) {
  test(`a hostile server (${mode}) fails the download promptly, in bounded memory, saying what it did`, async (t) => {
    const hub = await startHostileHub(mode);
    const dir = tempDir();
    t.after(async () => {
      await hub.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const result = await runLimited(hub.url, dir);
    process.stdout.write(
      `# ${mode}: ${/peak RSS \d+ MB/.exec(result.stderr)?.[0]}, ${hub.bytesSent()} bytes sent, ${hub.requests.length} requests\n`,
    );
    assert.doesNotMatch(result.stderr, /RSS over|still running|heap out of memory|Allocation failed/);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, message);
    assert.doesNotMatch(result.stderr, /null\/|not a readable Parquet file(?!: its footer)/);
  });
}
