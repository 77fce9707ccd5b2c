/** Runs `neurocache arc download` (the built CLI) for the fake-Hub tests, and what they expect of it. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import { cliPath, tempDir } from '../support/python';
import { FakeHub, FakeHubOptions, startFakeHub } from './fakeHub';
import type { ExpectedSession } from './shards';

/** Serves the shards `write` puts into a fresh repo folder from a fake Hub that closes when the test ends. */
export async function servedShards<T>(
  t: TestContext,
  write: (repoDir: string) => T | Promise<T>,
  options: Omit<FakeHubOptions, 'root'> = {},
): Promise<{ shards: T; hub: FakeHub }> {
  const repoDir = tempDir();
  const shards = await write(repoDir);
  const hub = await startFakeHub({ root: repoDir, ...options });
  t.after(async () => {
    await hub.close();
    rmSync(repoDir, { recursive: true, force: true });
  });
  return { shards, hub };
}

export function runDownload(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = tempDir();
  // None of the caller's Hub settings: a token or offline flag of the machine must not leak in.
  const inherited = { ...process.env };
  for (const name of ['HUGGING_FACE_HUB_TOKEN', 'HF_TOKEN_PATH', 'TRANSFORMERS_OFFLINE', 'XDG_CACHE_HOME'])
    delete inherited[name];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliPath(), 'arc', 'download', ...args],
      {
        env: {
          ...inherited,
          HF_TOKEN: '',
          HF_HOME: home,
          HF_ENDPOINT: '',
          HF_HUB_OFFLINE: '',
          NEUROCACHE_RETRY_BASE_MS: '5',
          ...env,
        },
      },
      (error, stdout, stderr) => {
        rmSync(home, { recursive: true, force: true });
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

export const sha256File = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** What the Python download keeps: SPACE 2x / no-accel with a T2w run and (by default) a mask. */
export function expected(
  sessions: ExpectedSession[],
  options: { includeTse?: boolean; requireMask?: boolean } = {},
): ExpectedSession[] {
  return sessions.filter(
    (s) =>
      s.t2wSha256 !== null &&
      (s.acquisition === 'space_2x' ||
        s.acquisition === 'space_no_accel' ||
        (options.includeTse === true && s.acquisition === 'turbo_spin_echo')) &&
      (s.hasMask || options.requireMask === false),
  );
}

/** Every file under `dir`, relative and sorted (dot-files included). */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath ?? d.path, d.name)))
    .sort();
}

export function readInfo(out: string) {
  return JSON.parse(readFileSync(path.join(out, 'dataset_info.json'), 'utf8')) as {
    num_samples: number;
    image_paths: string[];
    mask_paths: (string | null)[];
    lesion_volumes: number[];
    acquisition_types: string[];
    subject_ids: string[];
  };
}

/**
 * Asserts dataset_info.json lists exactly `sessions`, in order, and that each listed file holds
 * that session's bytes; and that the NIfTI folder holds nothing else but `leftovers` (files of
 * an earlier download that are no longer listed: a download never deletes them).
 */
export function assertDownloaded(
  out: string,
  sessions: ExpectedSession[],
  assert: typeof import('node:assert/strict'),
  leftovers: string[] = [],
): void {
  const info = readInfo(out);
  const stem = (s: ExpectedSession) => `cache/nifti_cache/${s.subjectId}_${s.sessionId}`;
  assert.deepEqual(info, {
    num_samples: sessions.length,
    image_paths: sessions.map((s) => `${stem(s)}_t2w.nii.gz`),
    mask_paths: sessions.map((s) => (s.hasMask ? `${stem(s)}_lesion.nii.gz` : null)),
    lesion_volumes: sessions.map((s) => s.lesionVolume ?? 0),
    acquisition_types: sessions.map((s) => s.acquisition),
    subject_ids: sessions.map((s) => s.subjectId),
  });
  sessions.forEach((s, i) => {
    assert.equal(
      sha256File(path.join(out, info.image_paths[i])),
      s.t2wSha256,
      `${info.image_paths[i]}: the first T2w run, byte for byte`,
    );
    if (s.hasMask) assert.equal(sha256File(path.join(out, info.mask_paths[i]!)), s.lesionSha256, info.mask_paths[i]!);
  });
  const listed = [...info.image_paths, ...info.mask_paths.filter((p): p is string => p !== null)]
    .map((p) => p.replace('cache/nifti_cache/', ''))
    .concat(leftovers)
    .sort();
  assert.deepEqual(
    filesUnder(path.join(out, 'cache', 'nifti_cache')),
    listed,
    'no other files (no partial rows, no temp files)',
  );
}
