/**
 * The CLI against hostile and damaged inputs (issue 10 items 5, 6, 13): a 200-byte NPZ that
 * claims 10^8 windows, FIFOs and devices where files are expected, JSON too large to read,
 * dangling symbolic links. Every run ends (a timeout here means a hang), in bounded memory,
 * with a clear message.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { eegNpz, writeNpz } from '../writers/npz';
import { npyHeader } from '../writers/npy';
import { encodeNifti, encodeVoxels } from '../writers/nifti';
import { cliPath, tempDir } from '../support/python';

const canMakeFifo = spawnSync('mkfifo', ['--version'], { stdio: 'ignore' }).status === 0;
const noFifo = !canMakeFifo && 'mkfifo not available';

// Reports the process's peak resident memory on stderr when it exits (node -r).
const rssReporter = path.join(tempDir(), 'rss.js');
writeFileSync(
  rssReporter,
  "process.on('exit', () => require('fs').writeSync(2, `\\nmaxrss-kb ${process.resourceUsage().maxRSS}\\n`));\n",
);

/** Runs the CLI; a run that does not end within the timeout is a hang and fails the test. */
function cli(args: string[], store = tempDir()) {
  const result = spawnSync(process.execPath, ['-r', rssReporter, cliPath(), ...args, '--cache-dir', store], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(result.signal, null, `neurocache ${args.join(' ')} did not end (hang): ${result.stderr}`);
  const peak = Number(/maxrss-kb (\d+)/.exec(result.stderr)?.[1]);
  return {
    code: result.status,
    stdout: result.stdout,
    stderr: result.stderr.replace(/\nmaxrss-kb \d+\n$/, ''),
    peakMB: peak / 1024,
  };
}

const fifo = (file: string) => execFileSync('mkfifo', [file]);
const labelsOnly = (shape: number[]) =>
  writeNpz([{ name: 'labels.npy', bytes: npyHeader('<f4', shape) }], { compress: false });

test('manifest build over 200-byte files claiming 10^8 and 10^11 windows ends quickly in bounded memory', () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'empty_windows.npz'), labelsOnly([1e8, 0]));
  writeFileSync(
    path.join(dir, 'liar_windows.npz'),
    writeNpz([{ name: 'windows.npy', bytes: npyHeader('<f4', [1e11, 15360]) }], { compress: false }),
  );
  writeFileSync(
    path.join(dir, 'good_windows.npz'),
    eegNpz({ windows: 2, channels: 1, samples: 10, labels: new Float32Array(20).fill(1, 0, 10) }),
  );
  const run = cli(['manifest', 'build', dir, '--jobs', '1']);
  assert.equal(run.code, 0, run.stderr);
  assert.ok(run.peakMB < 400, `peak ${run.peakMB.toFixed(0)} MB`);
  assert.match(
    run.stderr,
    /skipped empty_windows\.npz: 100000000 windows, more than the 1000000 NeuroCache lists for one file/,
  );
  assert.match(
    run.stderr,
    /note empty_windows\.npz: labels has shape \(100000000, 0\).*lists all 100000000 windows as partial_seizure/,
  );
  assert.match(
    run.stderr,
    /note liar_windows\.npz: windows\.npy's \.npy header declares shape \(100000000000, 15360\)/,
  );
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest.full_seizure, [{ cache_file: 'good_windows.npz', window_idx: 0 }]);
  assert.ok(!JSON.stringify(manifest).includes('empty_windows'));
});

test(
  'check refuses a FIFO, a device and an oversized file as its argument (exit 2, no hang, no gigabyte)',
  { skip: noFifo },
  () => {
    const dir = tempDir();
    const pipe = path.join(dir, 'manifest.json');
    fifo(pipe);
    const fromPipe = cli(['check', pipe]);
    assert.equal(fromPipe.code, 2);
    assert.match(fromPipe.stderr, /manifest\.json is a FIFO \(named pipe\), not a regular file/);
    const zero = cli(['check', '/dev/zero']);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /\/dev\/zero is a character device, not a regular file/);
    assert.ok(zero.peakMB < 300, `peak ${zero.peakMB.toFixed(0)} MB`);
    const huge = path.join(dir, 'dataset_info.json');
    writeFileSync(huge, '{"image_paths": [');
    truncateSync(huge, 300 << 20); // sparse: no disk used
    const big = cli(['stats', huge]);
    assert.equal(big.code, 2);
    assert.match(big.stderr, /dataset_info\.json is over 268435456 bytes, more than NeuroCache reads for a JSON file/);
    assert.ok(big.peakMB < 300, `peak ${big.peakMB.toFixed(0)} MB`);
  },
);

test('a dangling symbolic link is named as one, with its target', () => {
  const dir = tempDir();
  const link = path.join(dir, 'manifest.json');
  symlinkSync(path.join(dir, 'moved', 'manifest.json'), link);
  const run = cli(['check', link]);
  assert.equal(run.code, 2);
  assert.match(
    run.stderr,
    new RegExp(
      `cannot read .*manifest\\.json: dangling symbolic link to ${path.join(dir, 'moved', 'manifest.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`,
    ),
  );
});

test(
  'FIFOs and dangling links among the caches: build skips them by name, check reports them, nothing hangs',
  { skip: noFifo },
  () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'a_windows.npz'),
      eegNpz({ windows: 1, channels: 1, samples: 10, labels: new Float32Array(10).fill(1, 0, 5) }),
    );
    fifo(path.join(dir, 'b_windows.npz'));
    symlinkSync('/nonexistent/c_windows.npz', path.join(dir, 'c_windows.npz'));
    const build = cli(['manifest', 'build', dir]);
    assert.equal(build.code, 0, build.stderr);
    assert.match(
      build.stderr,
      /skipped b_windows\.npz: a FIFO \(named pipe\), not a regular file: not read .*np\.load would wait on a FIFO forever/,
    );
    assert.match(build.stderr, /skipped c_windows\.npz: dangling symbolic link to \/nonexistent\/c_windows\.npz/);
    assert.doesNotMatch(build.stderr, /vanished/);

    const text = JSON.stringify(
      {
        partial_seizure: [
          { cache_file: 'a_windows.npz', window_idx: 0 },
          { cache_file: 'b_windows.npz', window_idx: 0 },
          { cache_file: 'c_windows.npz', window_idx: 0 },
        ],
        full_seizure: [],
        no_seizure: [],
      },
      null,
      2,
    );
    const manifest = path.join(dir, 'manifest.json');
    writeFileSync(manifest, text);
    const check = cli(['check', manifest, '--json']);
    assert.equal(check.code, 1);
    const messages = JSON.parse(check.stdout).files[0].diagnostics.map(
      (d: { code: string; message: string }) => `${d.code}: ${d.message}`,
    );
    assert.ok(
      messages.some((m: string) =>
        /^unreadable-cache-file: b_windows\.npz cannot be read: a FIFO \(named pipe\)/.test(m),
      ),
      messages.join('\n'),
    );
    assert.ok(
      messages.some((m: string) =>
        /^missing-cache-file: c_windows\.npz does not exist \(dangling symbolic link to \/nonexistent\/c_windows\.npz\): training skips this entry/.test(
          m,
        ),
      ),
      messages.join('\n'),
    );
    // Unlisted, a dangling link is one the builder skips: not "rebuild to include it".
    writeFileSync(manifest, text.replace('c_windows', 'a_windows'));
    const unlisted = JSON.parse(cli(['check', manifest, '--json']).stdout).files[0].diagnostics.map(
      (d: { message: string }) => d.message,
    );
    assert.ok(
      unlisted.some((m: string) =>
        /^c_windows\.npz cannot be read: dangling symbolic link to \/nonexistent\/c_windows\.npz\. numpy raises FileNotFoundError, which the Python builder catches: it skips this file/.test(
          m,
        ),
      ),
      unlisted.join('\n'),
    );
  },
);

test('check of a dataset_info naming FIFOs and directories reports them as not regular files', { skip: noFifo }, () => {
  const root = tempDir();
  const cache = path.join(root, 'cache');
  mkdirSync(cache);
  fifo(path.join(cache, 's1_t2w.nii.gz'));
  fifo(path.join(cache, 's1_lesion.nii.gz'));
  mkdirSync(path.join(cache, 's2_t2w.nii.gz'));
  writeFileSync(
    path.join(cache, 's2_lesion.nii.gz'),
    encodeNifti({ dims: [2, 2, 2], datatype: 2, data: encodeVoxels(2, new Uint8Array(8).fill(1, 0, 2)), gzip: true }),
  );
  const info = path.join(root, 'dataset_info.json');
  writeFileSync(
    info,
    JSON.stringify({
      num_samples: 2,
      image_paths: ['cache/s1_t2w.nii.gz', 'cache/s2_t2w.nii.gz'],
      mask_paths: ['cache/s1_lesion.nii.gz', 'cache/s2_lesion.nii.gz'],
      lesion_volumes: [1, 2],
      acquisition_types: ['space_2x', 'space_2x'],
      subject_ids: ['sub-1', 'sub-2'],
    }),
  );
  const run = cli(['check', info, '--json']);
  assert.equal(run.code, 1, run.stderr);
  const found = JSON.parse(run.stdout).files[0].diagnostics.map(
    (d: { code: string; message: string }) => `${d.code}: ${d.message}`,
  );
  assert.deepEqual(
    found
      .filter((m: string) => m.startsWith('unreadable-nifti'))
      .map((m: string) => /cannot be read as NIfTI: (a [^,]+),/.exec(m)?.[1]),
    [
      'a FIFO (named pipe)',
      'a directory',
      'a FIFO (named pipe)', // s1 and s2 images, then the s1 mask
    ],
  );
  assert.ok(!existsSync(path.join(cache, 'manifest.json')));
});

test('check reports images nibabel cannot load, naming what nibabel raises', () => {
  const root = tempDir();
  const volume = (gzip: boolean) =>
    encodeNifti({
      dims: [16, 16, 16],
      datatype: 16,
      data: encodeVoxels(
        16,
        new Float32Array(4096).map((_, i) => i % 7),
      ),
      gzip,
    });
  const good = volume(true);
  const badType = Buffer.from(volume(false));
  badType.writeInt16LE(999, 70);
  const nanOffset = Buffer.from(volume(false));
  nanOffset.writeFloatLE(NaN, 108);
  const files: Record<string, Uint8Array> = {
    's1_t2w.nii.gz': good.subarray(0, good.length - 200), // cut inside the voxels
    's2_t2w.nii.gz': volume(false), // plain bytes under a .gz name
    's3_t2w.nii': badType,
    's4_t2w.nii': nanOffset,
    'mask.nii.gz': encodeNifti({
      dims: [16, 16, 16],
      datatype: 2,
      data: encodeVoxels(2, new Uint8Array(4096)),
      gzip: true,
    }),
  };
  for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(root, name), bytes);
  const images = ['s1_t2w.nii.gz', 's2_t2w.nii.gz', 's3_t2w.nii', 's4_t2w.nii'];
  const info = path.join(root, 'dataset_info.json');
  writeFileSync(
    info,
    JSON.stringify({
      num_samples: 4,
      image_paths: images,
      mask_paths: images.map(() => 'mask.nii.gz'),
      lesion_volumes: [0, 0, 0, 0],
      acquisition_types: images.map(() => 'space_2x'),
      subject_ids: ['sub-1', 'sub-2', 'sub-3', 'sub-4'],
    }),
  );
  const run = cli(['check', info, '--json']);
  assert.equal(run.code, 1, run.stderr);
  const found = JSON.parse(run.stdout)
    .files[0].diagnostics.filter((d: { code: string }) => d.code === 'unreadable-nifti')
    .map((d: { message: string }) => /\(nibabel: ([^)]*)\)/.exec(d.message)?.[1]);
  assert.deepEqual(found, [
    'nib.load works, get_fdata raises EOFError',
    'nib.load raises ImageFileError, "not a gzip file"',
    'nib.load raises HeaderDataError, "data code 999 not recognized"',
    'nib.load raises ValueError',
  ]);
});
