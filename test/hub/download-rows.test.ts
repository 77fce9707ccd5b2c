/**
 * `neurocache arc download` on hostile Hub rows (issue 10, items 3 and 12): bad ids, bytes that
 * are not a .nii.gz, and rows whose file names collide. Bad rows are skipped and reported, the
 * rest is downloaded; nothing of a skipped row stays on disk; the first of colliding rows wins,
 * whatever order the parallel shards run in. Files are checked byte for byte afterwards.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { niftiGzProblem } from '../../server/src/download/rows';
import { LogMessageNotification } from 'vscode-languageserver-protocol/node';
import { DownloadArcRequest, DownloadProgressNotification } from '../../server/src/protocol';
import { LspSession } from '../support/lsp';
import { tempDir } from '../support/python';
import { encodeNifti } from '../writers/nifti';
import { assertDownloaded, expected, readInfo, runDownload, servedShards } from './run';
import { RowOverride, writeArcShards } from './shards';

interface Problem {
  shard: string;
  row: number;
  subject: string | null;
  session: string | null;
  reason: string;
  message: string;
}

/**
 * Shards with overrides for the rows the filters keep, by rank among those (`kept`), and for
 * any row by its index over all shards (`any`).
 */
function hostileShards(
  dir: string,
  sessions: number,
  shards: number,
  kept: Record<number, RowOverride>,
  any: Record<number, RowOverride> = {},
) {
  const plain = writeArcShards(tempDir(), { sessions, shards }).sessions;
  const keep = new Set(expected(plain));
  const keptIndices = plain.flatMap((s, i) => (keep.has(s) ? [i] : []));
  return writeArcShards(dir, { sessions, shards, override: (i) => kept[keptIndices.indexOf(i)] ?? any[i] });
}

/** A 64x64x32 mask of pseudo-random 0/1 voxels: large enough compressed (tens of KB) to be cut past its header. */
const bigMask = encodeNifti({
  dims: [64, 64, 32],
  datatype: 2,
  data: Uint8Array.from({ length: 64 * 64 * 32 }, (_, i) => ((i * 2654435761) >>> 13) & 1),
  gzip: true,
});

/**
 * 24 sessions in 2 shards whose first 7 kept rows are bad, one way each (`reasons`): the same
 * rows for the CLI and the language server.
 */
async function badRowShards(dir: string) {
  const notNifti = new Uint8Array(gzipSync(Buffer.from('not an image at all\n'.repeat(40))));
  const pngBytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array(64).fill(7)]);
  // A valid mask cut in half, its gzip trailer put back: the header and trailer look right, so
  // only reading it all (counting its volume, after writing) finds it broken.
  const cut = new Uint8Array(
    Buffer.concat([bigMask.subarray(0, bigMask.length >> 1), bigMask.subarray(bigMask.length - 8)]),
  );
  assert.equal(await niftiGzProblem(cut), undefined, 'precondition: the cut mask passes the checks before writing');
  const overrides: Record<number, RowOverride> = {
    0: { subjectId: null },
    1: { sessionId: 'x'.repeat(300) },
    2: { subjectId: '../../escape' },
    3: { lesion: { bytes: encodeNifti({ dims: [16, 16, 8], datatype: 2, data: new Uint8Array(2048) }), volume: null } }, // plain .nii
    4: { t2w: notNifti },
    5: { t2w: pngBytes },
    6: { lesion: { bytes: cut, volume: null } },
  };
  const shards = hostileShards(dir, 24, 2, overrides);
  const kept = expected(shards.sessions);
  return {
    shards,
    bad: kept.slice(0, 7),
    good: kept.slice(7),
    reasons: ['bad-id', 'bad-id', 'bad-id', 'bad-mask', 'bad-image', 'bad-image', 'bad-mask'],
  };
}

test('bad rows are skipped and reported; the others are downloaded; nothing of a bad row is left', async (t) => {
  const {
    shards: { good, bad, reasons },
    hub,
  } = await servedShards(t, (dir) => badRowShards(dir));
  const kept = [...bad, ...good];
  const out = tempDir();
  const result = await runDownload(['--out', out, '--endpoint', hub.hubUrl, '--json']);
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout) as {
    samples: number;
    problems: Problem[];
    breakdown: { kept: number; skipped: Record<string, number> };
  };
  assertDownloaded(out, kept.slice(7), assert);
  assert.equal(summary.samples, kept.length - 7);
  assert.deepEqual(
    summary.problems.map((p) => [p.shard, p.row, p.subject, p.session, p.reason]),
    bad.map((s, i) => [s.shard, s.row, s.subjectId, s.sessionId, reasons[i]]),
  );
  assert.match(summary.problems[0].message, /subject_id is null/);
  assert.match(summary.problems[1].message, /session_id is 300 characters long/);
  assert.match(summary.problems[2].message, /not a safe file name/);
  assert.match(summary.problems[3].message, /lesion mask: not gzip data/);
  assert.match(summary.problems[4].message, /T2w: not a readable NIfTI image/);
  assert.match(summary.problems[5].message, /T2w: not gzip data/);
  assert.match(summary.problems[6].message, /lesion mask: not a readable NIfTI image/);
  assert.equal(summary.breakdown.kept, kept.length - 7);
  assert.deepEqual(
    [
      summary.breakdown.skipped['bad-id'],
      summary.breakdown.skipped['bad-image'],
      summary.breakdown.skipped['bad-mask'],
    ],
    [3, 2, 2],
  );
  for (const p of summary.problems)
    assert.ok(result.stderr.includes(`skipped ${p.shard} row ${p.row} `), `stderr reports ${p.shard} row ${p.row}`);

  // A resumed run reports the same rows again (from the journal) and writes the same result.
  rmSync(path.join(out, 'dataset_info.json'));
  const text = await runDownload(['--out', out, '--endpoint', hub.hubUrl]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /skipped 7 rows \(3 bad-id, 2 bad-mask, 2 bad-image\) that could not be used/);
  assert.equal(text.stderr.match(/^skipped /gm)?.length, 7);
  assertDownloaded(out, kept.slice(7), assert);
});

test('rows whose file names collide: the first in shard and row order is kept, the others reported', async (t) => {
  // 24 sessions in 3 shards of 8; ranks among kept rows -> (shard, row):
  // 0 (0,0) 1 (0,1) 2 (0,3) 3 (0,6) 4 (0,7) 5 (1,1) 6 (1,3) 7 (1,5) 8 (1,7) 9 (2,1) 10 (2,2) 11 (2,7)
  const ids = (subjectId: string, sessionId: string): RowOverride => ({ subjectId, sessionId });
  const overrides: Record<number, RowOverride> = {
    0: ids('sub-W', 'ses-1'),
    1: ids('sub-W', 'ses-1'), // twice in a row
    // The last row of shard 0 and an early row of shard 2: parallel shard 2 usually gets there first.
    4: ids('sub-X', 'ses-1'),
    9: ids('sub-X', 'ses-1'),
    5: ids('sub-A_ses-1', 'x'),
    10: ids('sub-A', 'ses-1_x'), // join to the same name
    6: ids('sub-B', 'ses-1'),
    11: ids('SUB-B', 'ses-1'), // differ only in case
    2: { ...ids('sub-D', 'ses-1'), lesion: { bytes: new Uint8Array(gzipSync('no mask')), volume: null } },
    8: ids('sub-D', 'ses-1'), // the first is bad: the second is kept
  };
  // Row 2 (turbo spin echo, left out by the filters) takes the ids of rank 7 (shard 1 row 5): not a collision.
  const { shards, hub } = await servedShards(t, (dir) =>
    hostileShards(dir, 24, 3, overrides, { 2: ids('sub-M2007', 'ses-2') }),
  );
  const kept = expected(shards.sessions);
  assert.deepEqual(
    [shards.sessions[2].acquisition, kept[7].subjectId, kept[7].sessionId],
    ['turbo_spin_echo', 'sub-M2007', 'ses-2'],
    'fixture',
  );
  const results: string[] = [];
  for (const jobs of ['3', '1']) {
    const out = tempDir();
    const result = await runDownload(['--out', out, '--endpoint', hub.hubUrl, '--jobs', jobs, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const winners = kept.filter((_, rank) => ![1, 2, 9, 10, 11].includes(rank));
    assertDownloaded(out, winners, assert);
    const problems = (JSON.parse(result.stdout) as { problems: Problem[] }).problems;
    const at = (rank: number) => `${kept[rank].shard} row ${kept[rank].row}`;
    assert.deepEqual(
      problems.map((p) => [`${p.shard} row ${p.row}`, p.reason]),
      [
        [at(1), 'duplicate'],
        [at(2), 'bad-mask'],
        [at(9), 'duplicate'],
        [at(10), 'duplicate'],
        [at(11), 'duplicate'],
      ],
    );
    assert.match(
      problems[0].message,
      new RegExp(
        `^${at(0)} \\(subject sub-W, session ses-1\\) has the same subject and session; the first row is kept$`,
      ),
    );
    assert.match(problems[2].message, new RegExp(`^${at(4)} .* has the same subject and session`));
    assert.match(
      problems[3].message,
      new RegExp(
        `^${at(5)} \\(subject sub-A_ses-1, session x\\) has ids that give the same file names once joined with "_"; the first row is kept$`,
      ),
    );
    assert.match(problems[4].message, /up to case, which case-insensitive file systems ignore/);
    results.push(JSON.stringify(readInfo(out)));
  }
  assert.equal(results[0], results[1], 'the same dataset_info.json with 3 parallel shards and with 1');
});

test("the language server's download reports skipped rows in its result, progress and output", async (t) => {
  const {
    shards: { good, bad, reasons },
    hub,
  } = await servedShards(t, (dir) => badRowShards(dir));
  const lsp = new LspSession({ HF_TOKEN: '', HF_ENDPOINT: '', HF_HOME: tempDir(), HF_HUB_OFFLINE: '' });
  const progress: DownloadProgressNotification.Params[] = [];
  const logged: string[] = [];
  lsp.connection.onNotification(
    DownloadProgressNotification.method,
    (p: DownloadProgressNotification.Params) => void progress.push(p),
  );
  lsp.connection.onNotification(LogMessageNotification.type, (m) => void logged.push(m.message));
  try {
    const out = tempDir();
    await lsp.initialize(out);
    const params: DownloadArcRequest.Params = { id: 'd1', out, endpoint: hub.hubUrl };
    const result = (await lsp.connection.sendRequest(DownloadArcRequest.method, params)) as DownloadArcRequest.Result;
    assert.equal(result.samples, good.length);
    assert.deepEqual(
      result.problems.map((p) => [p.shard, p.row, p.reason]),
      bad.map((s, i) => [s.shard, s.row, reasons[i]]),
    );
    assert.match(
      result.message,
      /Skipped 7 rows \(3 bad-id, 2 bad-mask, 2 bad-image\) that could not be used: see the NeuroCache output/,
    );
    assert.equal(progress.at(-1)?.problems, 7);
    assert.ok(
      progress.every((p, i) => i === 0 || p.problems >= progress[i - 1].problems),
      'the count only grows',
    );
    for (const s of bad)
      assert.ok(
        logged.some((line) => line.includes(`skipped ${s.shard} row ${s.row} `)),
        `output names ${s.shard} row ${s.row}`,
      );
    assertDownloaded(out, good, assert);
  } finally {
    await lsp.close();
  }
});

test("a shard changed on the Hub is fetched again, and its rows keep their names before a resumed later shard's", async (t) => {
  // v1: rank 8 (shard 1) is sub-Z ses-1. v2 re-uploads shard 0 with rank 1 named sub-Z ses-1 as well.
  const ids = (subjectId: string, sessionId: string): RowOverride => ({ subjectId, sessionId });
  const v1 = await servedShards(t, (dir) => hostileShards(dir, 24, 2, { 8: ids('sub-Z', 'ses-1') }));
  const v2 = await servedShards(t, (dir) =>
    hostileShards(dir, 24, 2, { 1: ids('sub-Z', 'ses-1'), 8: ids('sub-Z', 'ses-1') }),
  );
  assert.deepEqual(
    [v2.shards.files[0].sha256 !== v1.shards.files[0].sha256, v2.shards.files[1].sha256 === v1.shards.files[1].sha256],
    [true, true],
    'fixture: only shard 0 changed',
  );
  const out = tempDir();
  assert.equal((await runDownload(['--out', out, '--endpoint', v1.hub.hubUrl])).code, 0);
  const kept = expected(v2.shards.sessions);
  const infos: string[] = [];
  for (let run = 0; run < 2; run++) {
    rmSync(path.join(out, 'dataset_info.json'));
    const result = await runDownload(['--out', out, '--endpoint', v2.hub.hubUrl, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as { shardsResumed: number; problems: Problem[] };
    t.diagnostic(`run ${run + 1}: ${summary.shardsResumed} shard(s) resumed`);
    assert.deepEqual(
      summary.problems.map((p) => [p.shard, p.row, p.reason]),
      [[kept[8].shard, kept[8].row, 'duplicate']],
    );
    assertDownloaded(
      out,
      kept.filter((_, rank) => rank !== 8),
      assert,
      ['sub-M2001_ses-2_lesion.nii.gz', 'sub-M2001_ses-2_t2w.nii.gz'],
    ); // v1's rank 1
    infos.push(JSON.stringify(readInfo(out)));
  }
  assert.equal(infos[0], infos[1]);
});
