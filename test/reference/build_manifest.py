"""Reference manifest builder: brain-go-brr-v2 `scan_existing_cache` (src/brain_brr/data/cache_utils.py,
main since commit 63689f9) reproduced step by step, so tests can compare NeuroCache with what the
pipeline itself does:

- files: sorted(cache_dir.glob("*.npz")) (dot-files included);
- `np.load` and `data["labels"]` inside `try ... except (OSError, ValueError)`: such files are skipped;
  any other exception propagates and stops the build (no manifest is written);
- a file without `labels` is left out ("has NO LABELS" warning);
- per window, ratio = float((labels[w] > 0).mean()): 0 -> no_seizure, >= 0.99 -> full, else partial
  (`labels.shape[0]` and the comparison run outside the try);
- written with json.dump(indent=2), or without indentation when there are no files.

Usage: build_manifest.py CACHE_DIR           prints the manifest text, or exits 3 with
                                             "STOPPED <exception>: <message>" on stderr
       build_manifest.py --outcomes CACHE_DIR prints {file: outcome} as JSON, one builder step per file
"""
import json
import sys
import warnings
from pathlib import Path

import numpy as np


def qualified(exception):
    kind = type(exception)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def scan_one(path):
    """One file, as the builder's loop body handles it: ("windows", ratios), ("no-labels",) or
    ("skipped", exception); an exception the builder does not catch propagates."""
    try:
        with np.load(path) as data:
            if "labels" not in data:
                return ("no-labels",)
            labels = data["labels"]
    except (OSError, ValueError) as error:
        return ("skipped", error)
    n = int(labels.shape[0])
    return ("windows", [float((labels[w] > 0).mean()) for w in range(n)])


def build(cache_dir):
    manifest = {"partial_seizure": [], "full_seizure": [], "no_seizure": []}
    files = sorted(Path(cache_dir).glob("*.npz"))
    if not files:
        return json.dumps(manifest)
    for path in files:
        result = scan_one(path)
        if result[0] != "windows":
            continue
        for w, ratio in enumerate(result[1]):
            item = {"cache_file": path.name, "window_idx": w}
            if ratio == 0.0:
                manifest["no_seizure"].append(item)
            elif ratio >= 0.99:
                manifest["full_seizure"].append(item)
            else:
                manifest["partial_seizure"].append(item)
    return json.dumps(manifest, indent=2)


def outcomes(cache_dir):
    """Per file: "windows N", "no-labels", "skipped <exception>" or "stops <exception>"."""
    out = {}
    for path in sorted(Path(cache_dir).glob("*.npz")):
        try:
            result = scan_one(path)
        except Exception as error:  # what would have stopped the build
            out[path.name] = f"stops {qualified(error)}"
            continue
        if result[0] == "windows":
            out[path.name] = f"windows {len(result[1])}"
        elif result[0] == "skipped":
            out[path.name] = f"skipped {qualified(result[1])}"
        else:
            out[path.name] = "no-labels"
    return out


if __name__ == "__main__":
    warnings.simplefilter("ignore")
    if sys.argv[1] == "--outcomes":
        print(json.dumps({"numpy": np.__version__, "files": outcomes(sys.argv[2])}))
        sys.exit(0)
    try:
        text = build(sys.argv[1])
    except Exception as error:
        sys.stderr.write(f"STOPPED {qualified(error)}: {error}\n")
        sys.exit(3)
    sys.stdout.write(text)
