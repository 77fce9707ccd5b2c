"""brain-go-brr-v2's manifest builder as it runs on a training box (src/brain_brr/data/cache_utils.py,
`scan_existing_cache`, main), reproduced without its package imports for the benchmarks: every
`*.npz` in the directory sorted by name, `np.load`, files without labels left out with a warning,
(OSError, ValueError) skipped, each window categorised by `(labels[w] > 0).mean()`, manifest.json
written with indent=2.

Usage: scan_existing_cache.py CACHE_DIR
"""
import json
import sys
import warnings
from pathlib import Path

import numpy as np


def scan(cache_dir: Path) -> dict:
    manifest = {"partial_seizure": [], "full_seizure": [], "no_seizure": []}
    files = sorted(cache_dir.glob("*.npz"))
    for npz_path in files:
        try:
            with np.load(npz_path) as data:
                if "labels" not in data:
                    warnings.warn(f"NPZ file {npz_path.name} has NO LABELS; left out", stacklevel=2)
                    continue
                labels = data["labels"]
        except (OSError, ValueError) as error:
            print(f"Warning: Skipping {npz_path.name}: {error}")
            continue
        for window in range(int(labels.shape[0])):
            ratio = float((labels[window] > 0).mean())
            entry = {"cache_file": npz_path.name, "window_idx": int(window)}
            if ratio == 0.0:
                manifest["no_seizure"].append(entry)
            elif ratio >= 0.99:
                manifest["full_seizure"].append(entry)
            else:
                manifest["partial_seizure"].append(entry)
    with (cache_dir / "manifest.json").open("w") as out:
        json.dump(manifest, out, indent=2 if files else None)
    return manifest


if __name__ == "__main__":
    scan(Path(sys.argv[1]))
