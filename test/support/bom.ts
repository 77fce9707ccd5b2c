/** The three files NeuroCache checks, as valid JSON, for tests that prefix them with a UTF-8 byte-order mark. */
export const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** Valid JSON of each kind: each loads when the mark is absent. */
export const BOM_CASES: { name: string; json: unknown }[] = [
  {
    name: 'manifest.json',
    json: { partial_seizure: [{ cache_file: 'a_windows.npz', window_idx: 0 }], full_seizure: [], no_seizure: [] },
  },
  { name: '_dataset_index.json', json: { files: [{ path: 'a_windows.npz', count: 1 }], window_counts: [1] } },
  {
    name: 'dataset_info.json',
    json: {
      image_paths: ['cache/nifti_cache/a.nii.gz'],
      mask_paths: ['cache/nifti_cache/a_mask.nii.gz'],
      lesion_volumes: [1],
    },
  },
];
