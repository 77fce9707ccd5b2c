/**
 * `npm start`: generates a small demo workspace with the project's own fixture writers (an
 * EEG window cache and an ARC-like NIfTI cache) under demo/, then runs the real CLI on it:
 * manifest build, check, stats, and a check after a cache file goes missing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { encodeNifti, encodeVoxels } from '../test/writers/nifti';
import { eegMembers, writeNpzFile } from '../test/writers/npz';

const root = path.resolve(__dirname, '..');
const demo = path.join(root, 'demo');
const cli = path.join(__dirname, 'cli.js');
const fingerprints = path.join(demo, '.fingerprints');

function makeEegCache(directory: string): void {
  mkdirSync(directory, { recursive: true });
  const samples = 15360;
  for (let file = 0; file < 6; file++) {
    const windows = 4;
    const labels = new Float32Array(windows * samples);
    // Window 0 has no seizure; the others cover 5%, 50% or 100% depending on the file.
    for (let w = 1; w < windows; w++) {
      const fraction = [0.05, 0.5, 1][(file + w) % 3];
      labels.fill(1, w * samples, w * samples + Math.round(fraction * samples));
    }
    const name = `sub-${String(file + 1).padStart(3, '0')}_s001_t000_windows.npz`;
    writeNpzFile(
      path.join(directory, name),
      eegMembers({ windows, labels: file === 5 ? null : labels, seed: file + 1 }),
      { compress: true },
    );
  }
}

function makeArcCache(directory: string): void {
  const nifti = path.join(directory, 'cache', 'nifti_cache');
  mkdirSync(nifti, { recursive: true });
  const info = {
    num_samples: 0,
    image_paths: [] as string[],
    mask_paths: [] as (string | null)[],
    lesion_volumes: [] as number[],
    acquisition_types: [] as string[],
    subject_ids: [] as string[],
  };
  const size = 48;
  for (let s = 0; s < 6; s++) {
    const subject = `sub-M20${String(s + 1).padStart(2, '0')}`;
    const image = new Float32Array(size ** 3).map((_, i) => 100 + ((i * 7919) % 97));
    const mask = new Uint8Array(size ** 3);
    // A box-shaped lesion of a different size per subject.
    const extent = 4 + s * 3;
    for (let z = 10; z < 10 + extent; z++)
      for (let y = 12; y < 12 + extent; y++) for (let x = 8; x < 8 + extent; x++) mask[x + size * (y + size * z)] = 1;
    const base = `${subject}_ses-1`;
    const common = { dims: [size, size, size], pixdims: [1, 1, 1], gzip: true };
    writeFileSync(
      path.join(nifti, `${base}_t2w.nii.gz`),
      encodeNifti({ ...common, datatype: 16, data: encodeVoxels(16, image) }),
    );
    const hasMask = s !== 5;
    if (hasMask)
      writeFileSync(
        path.join(nifti, `${base}_lesion.nii.gz`),
        encodeNifti({ ...common, datatype: 2, data: encodeVoxels(2, mask) }),
      );
    info.image_paths.push(`cache/nifti_cache/${base}_t2w.nii.gz`);
    info.mask_paths.push(hasMask ? `cache/nifti_cache/${base}_lesion.nii.gz` : null);
    info.lesion_volumes.push(hasMask ? extent ** 3 : 0);
    info.acquisition_types.push(s % 2 ? 'space_no_accel' : 'space_2x');
    info.subject_ids.push(subject);
  }
  info.num_samples = info.subject_ids.length;
  writeFileSync(path.join(directory, 'dataset_info.json'), JSON.stringify(info, null, 2));
}

function run(...args: string[]): void {
  const shown = args.map((a) => (path.isAbsolute(a) ? path.relative(root, a) : a));
  process.stdout.write(`\n$ neurocache ${shown.join(' ')}\n`);
  const result = spawnSync(process.execPath, [cli, ...shown, '--cache-dir', fingerprints], {
    encoding: 'utf8',
    cwd: root,
  });
  process.stdout.write(result.stdout + result.stderr + `(exit ${result.status})\n`);
}

rmSync(demo, { recursive: true, force: true });
const eeg = path.join(demo, 'eeg_cache');
const arc = path.join(demo, 'arc');
process.stdout.write(`Generating a demo workspace in ${demo} ...\n`);
makeEegCache(eeg);
makeArcCache(arc);
execFileSync(process.execPath, [cli, '--help'], { stdio: 'ignore' });

run('manifest', 'build', eeg);
run('stats', path.join(eeg, 'manifest.json'));
run('check', path.join(eeg, 'manifest.json'), path.join(arc, 'dataset_info.json'));
run('stats', path.join(arc, 'dataset_info.json'), '--folds');

process.stdout.write('\nNow a cache file goes missing and the manifest is stale:\n');
unlinkSync(path.join(eeg, 'sub-002_s001_t000_windows.npz'));
run('check', path.join(eeg, 'manifest.json'));
process.stdout.write(
  `\nThe demo workspace stays in ${path.relative(process.cwd(), demo) || demo}/ for you to explore.\n`,
);
