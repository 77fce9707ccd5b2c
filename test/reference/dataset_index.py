"""Reference for `_dataset_index.json`: brain-go-brr-v2 `EEGWindowDataset.__init__` (src/brain_brr/data/datasets.py)
reproduced step by step for its index handling, with EDF preprocessing stubbed out (a missing cache counts 0 windows).

- json.load the index; [Path(p).name for p in index["files"]] must equal the EDF names;
- then self._file_window_counts = index["window_counts"]; print(... sum(...) ...); for each count, range(count)
  adds (file, window) pairs; any Exception in this block is caught ("Could not load cached index");
- otherwise (or after a caught failure) every cache is opened again: np.load(cache)["windows"].shape[0],
  appended to self._file_window_counts, and the index rewritten with json.dump(cache_data, f).

Usage: dataset_index.py CACHE_DIR EDF_NAMES_JSON  ->  prints {"outcome", "windows", "pairs", "duplicates", "rewritten", "exception"}
"""
import json
import sys
from pathlib import Path

import numpy as np


def start(cache_dir, edf_names):
    edf_files = [Path("/data/edf") / name for name in edf_names]
    index_map = []
    file_window_counts = []
    caught = None
    index_path = cache_dir / "_dataset_index.json"
    if index_path.exists():
        try:
            with open(index_path) as f:
                cached_index = json.load(f)
            cached_files = [Path(p).name for p in cached_index["files"]]
            if cached_files == [p.name for p in edf_files]:
                file_window_counts = cached_index["window_counts"]
                print(sum(file_window_counts), file=sys.stderr)
                for file_idx, n_windows in enumerate(file_window_counts):
                    for w_idx in range(n_windows):
                        index_map.append((file_idx, w_idx))
                return {"outcome": "trusted", "pairs": len(index_map), "duplicates": 0, "rewritten": None}
        except Exception as error:
            caught = type(error).__name__
    before = list(index_map)
    for i, edf_path in enumerate(edf_files):
        cache_path = cache_dir / f"{edf_path.stem}_windows.npz"
        n_windows = 0
        if cache_path.exists():
            with np.load(cache_path) as cached:
                n_windows = cached["windows"].shape[0]
        file_window_counts.append(int(n_windows))
        for w_idx in range(n_windows):
            index_map.append((i, w_idx))
    cache_data = {"files": [str(p) for p in edf_files], "window_counts": file_window_counts}
    with open(index_path, "w") as f:
        json.dump(cache_data, f)
    duplicated_files = len({file_idx for file_idx, _ in before})
    return {"outcome": "rebuilt", "caught": caught, "pairs": len(index_map), "duplicates": duplicated_files,
            "rewritten": index_path.read_text()}


if __name__ == "__main__":
    try:
        result = start(Path(sys.argv[1]), json.loads(sys.argv[2]))
    except Exception as error:
        result = {"outcome": "crash", "exception": type(error).__name__}
    print(json.dumps(result))
