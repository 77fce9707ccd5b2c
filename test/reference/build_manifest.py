"""Reference manifest builder: the Python pipeline's scan_existing_cache semantics as SPEC 1.2
states them (files without labels contribute every window to no_seizure). Prints the manifest
text exactly as the pipeline writes it."""
import json
import sys
from pathlib import Path

import numpy as np


def build(cache_dir: Path) -> str:
    manifest = {"partial_seizure": [], "full_seizure": [], "no_seizure": []}
    files = sorted(cache_dir.glob("*.npz"))
    if not files:
        return json.dumps(manifest)
    for path in files:
        try:
            with np.load(path) as data:
                if "labels" in data:
                    labels = data["labels"]
                    n = int(labels.shape[0])
                    ratios = [float((labels[w] > 0).mean()) for w in range(n)]
                else:
                    ratios = [0.0] * int(data["windows"].shape[0])
        except Exception:
            continue
        for w, ratio in enumerate(ratios):
            item = {"cache_file": path.name, "window_idx": w}
            if ratio == 0.0:
                manifest["no_seizure"].append(item)
            elif ratio >= 0.99:
                manifest["full_seizure"].append(item)
            else:
                manifest["partial_seizure"].append(item)
    return json.dumps(manifest, indent=2)


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("ignore")
    sys.stdout.write(build(Path(sys.argv[1])))
