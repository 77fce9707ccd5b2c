/**
 * Small workspaces with planted problems, written with the project's fixture writers, for the
 * protocol tests and the Playwright scenarios that need an EEG cache and an ARC dataset side by
 * side.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { encodeNifti, encodeVoxels } from '../writers/nifti';
import { eegNpz } from '../writers/npz';

export interface EegCache {
  directory: string;
  manifest: string;
  text: string;
}

/**
 * `directory`/a_windows.npz (window 0: 10% seizure, window 1: none) and a manifest that also
 * lists gone_windows.npz, which does not exist (a stale manifest: `missing-cache-file`).
 */
export function writeEegCache(directory: string): EegCache {
  mkdirSync(directory, { recursive: true });
  const labels = new Float32Array(2 * 100).fill(1, 0, 10);
  writeFileSync(
    path.join(directory, 'a_windows.npz'),
    eegNpz({ windows: 2, channels: 1, samples: 100, labels, compress: true }),
  );
  const text = JSON.stringify(
    {
      partial_seizure: [
        { cache_file: 'a_windows.npz', window_idx: 0 },
        { cache_file: 'gone_windows.npz', window_idx: 0 },
      ],
      full_seizure: [],
      no_seizure: [{ cache_file: 'a_windows.npz', window_idx: 1 }],
    },
    null,
    2,
  );
  const manifest = path.join(directory, 'manifest.json');
  writeFileSync(manifest, text);
  return { directory, manifest, text };
}

export interface ArcDataset {
  /** The folder of dataset_info.json. */
  directory: string;
  datasetInfo: string;
  text: string;
  /** Absolute paths of the images and masks, by sample. */
  images: string[];
  masks: string[];
  /** Voxels > 0 in each mask (what the recorded volume should be). */
  counted: number[];
}

/**
 * `directory`/dataset_info.json over two gzipped 6×5×4 samples in cache/nifti_cache/. Sample 0
 * records 16 voxels where its mask has 17 (`lesion-volume-mismatch`); sample 1's paths are
 * written relative to the folder above `directory` (`legacy-path`), as older repo-root-relative
 * files are.
 */
export function writeArcDataset(directory: string): ArcDataset {
  const nifti = path.join(directory, 'cache', 'nifti_cache');
  mkdirSync(nifti, { recursive: true });
  const subjects = ['sub-M2001', 'sub-M2002'];
  const counted = [17, 5];
  const images = subjects.map((s) => path.join(nifti, `${s}_ses-1_t2w.nii.gz`));
  const masks = subjects.map((s) => path.join(nifti, `${s}_ses-1_lesion.nii.gz`));
  subjects.forEach((_, i) => {
    writeFileSync(
      images[i],
      encodeNifti({
        dims: [6, 5, 4],
        datatype: 16,
        data: encodeVoxels(16, new Float32Array(120).fill(3 + i)),
        gzip: true,
      }),
    );
    writeFileSync(
      masks[i],
      encodeNifti({
        dims: [6, 5, 4],
        datatype: 2,
        data: encodeVoxels(2, new Uint8Array(120).fill(1, 0, counted[i])),
        gzip: true,
      }),
    );
  });
  const legacy = (file: string) => path.relative(path.dirname(directory), file).split(path.sep).join('/');
  const relative = (file: string) => path.relative(directory, file).split(path.sep).join('/');
  const text = JSON.stringify(
    {
      num_samples: 2,
      image_paths: [relative(images[0]), legacy(images[1])],
      mask_paths: [relative(masks[0]), legacy(masks[1])],
      lesion_volumes: [16, 5],
      acquisition_types: ['space_2x', 'space_no_accel'],
      subject_ids: subjects,
    },
    null,
    2,
  );
  const datasetInfo = path.join(directory, 'dataset_info.json');
  writeFileSync(datasetInfo, text);
  return { directory, datasetInfo, text, images, masks, counted };
}

export interface RebuiltCache extends EegCache {
  /** Cache files the build leaves out or the manifest does not list, each with its file-level finding. */
  fileLevel: { name: string; code: string }[];
}

/**
 * A manifest as a rebuild left it, over a cache with file-level problems: a_windows.npz listed
 * (window 0 partial, 1 none); not listed: damaged_windows.npz (not a ZIP: np.load raises
 * ValueError, the builder skips it: `unreadable-cache-file`), nolabels_windows.npz (no labels:
 * `no-labels`), and extra_windows.npz (2 windows, both partial, that a rebuild would list:
 * `unreferenced-cache-file`).
 */
export function writeRebuiltCache(directory: string): RebuiltCache {
  mkdirSync(directory, { recursive: true });
  const labels = new Float32Array(2 * 100).fill(1, 0, 10);
  writeFileSync(path.join(directory, 'a_windows.npz'), eegNpz({ windows: 2, channels: 1, samples: 100, labels }));
  writeFileSync(path.join(directory, 'damaged_windows.npz'), 'not a zip archive');
  writeFileSync(path.join(directory, 'nolabels_windows.npz'), eegNpz({ windows: 1, channels: 1, samples: 100 }));
  const extra = new Float32Array(2 * 100).fill(1, 0, 5).fill(1, 100, 105);
  writeFileSync(
    path.join(directory, 'extra_windows.npz'),
    eegNpz({ windows: 2, channels: 1, samples: 100, labels: extra }),
  );
  const text = `${JSON.stringify(
    {
      partial_seizure: [{ cache_file: 'a_windows.npz', window_idx: 0 }],
      full_seizure: [],
      no_seizure: [{ cache_file: 'a_windows.npz', window_idx: 1 }],
    },
    null,
    2,
  )}`;
  const manifest = path.join(directory, 'manifest.json');
  writeFileSync(manifest, text);
  return {
    directory,
    manifest,
    text,
    fileLevel: [
      { name: 'damaged_windows.npz', code: 'unreadable-cache-file' },
      { name: 'extra_windows.npz', code: 'unreferenced-cache-file' },
      { name: 'nolabels_windows.npz', code: 'no-labels' },
    ],
  };
}

/** `samples` sessions under root/data/nifti_cache and a dataset_info.json in root/data naming them. */
export function writeArcSessions(root: string, samples: number): { info: string; text: string; cache: string } {
  const cache = path.join(root, 'data', 'nifti_cache');
  mkdirSync(cache, { recursive: true });
  const names = Array.from({ length: samples }, (_, i) => `sub-M${2001 + i}_ses-1`);
  for (const name of names) {
    writeFileSync(
      path.join(cache, `${name}_t2w.nii.gz`),
      encodeNifti({ dims: [3, 3, 3], datatype: 2, data: encodeVoxels(2, new Uint8Array(27).fill(5)), gzip: true }),
    );
    writeFileSync(
      path.join(cache, `${name}_lesion.nii.gz`),
      encodeNifti({
        dims: [3, 3, 3],
        datatype: 2,
        data: encodeVoxels(2, new Uint8Array(27).fill(1, 0, 4)),
        gzip: true,
      }),
    );
  }
  const text = JSON.stringify(
    {
      num_samples: samples,
      image_paths: names.map((n) => `nifti_cache/${n}_t2w.nii.gz`),
      mask_paths: names.map((n) => `nifti_cache/${n}_lesion.nii.gz`),
      lesion_volumes: names.map(() => 4),
      acquisition_types: names.map((_, i) => (i % 2 ? 'space_2x' : 'space_no_accel')),
      subject_ids: names.map((n) => n.split('_')[0]),
    },
    null,
    2,
  );
  const info = path.join(root, 'data', 'dataset_info.json');
  writeFileSync(info, text);
  return { info, text, cache };
}
