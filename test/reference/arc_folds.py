"""Reference folds: arc-meshchop's stratification and nested CV (data/config.py LESION_QUINTILES,
preprocessing.get_lesion_quintile, splits.create_stratification_labels and
generate_nested_cv_splits) written out in a few lines over scikit-learn's StratifiedKFold.

Reads a JSON list of cohorts on stdin ({"volumes", "acquisitions", "seed", "outer", "inner"})
and prints one result per cohort: {"ok": true, "strata", "warnings", "outer": [{"test",
"inner": [{"train", "val"}]}]} or {"ok": false, "error", "warnings"}. Warnings and errors carry
the split they come from ("Outer split: ...", "Inner split of outer fold k: ...").
"""
import json
import sys
import warnings
from collections import Counter

import numpy as np
from sklearn.model_selection import StratifiedKFold

QUINTILES = {"Q1": (203, 33_619), "Q2": (33_619, 67_891), "Q3": (67_891, 128_314), "Q4": (128_314, 363_885)}


def quintile(volume):
    for name, (low, high) in QUINTILES.items():
        if low <= volume <= high:
            return name
    return "Q1" if volume < 203 else "Q4"


def nested(labels, n_outer, n_inner, seed):
    log = []
    stage = ["Outer split"]

    def show(message, *args, **kwargs):
        log.append(f"{stage[0]}: {message}")

    indices = np.arange(len(labels))
    y = np.array(labels)
    strata = {str(k): v for k, v in Counter(y.tolist()).items()}
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show
        try:
            outer = []
            splitter = StratifiedKFold(n_splits=n_outer, shuffle=True, random_state=seed)
            for k, (train_idx, test_idx) in enumerate(splitter.split(indices, y)):
                stage[0] = f"Inner split of outer fold {k}"
                inner_indices = indices[train_idx]
                inner_splitter = StratifiedKFold(n_splits=n_inner, shuffle=True, random_state=seed)
                inner = [
                    {"train": inner_indices[tr].tolist(), "val": inner_indices[va].tolist()}
                    for tr, va in inner_splitter.split(inner_indices, y[train_idx])
                ]
                outer.append({"test": indices[test_idx].tolist(), "inner": inner})
                stage[0] = "Outer split"
        except ValueError as error:
            return {"ok": False, "error": f"{stage[0]}: {error}", "strata": strata, "warnings": log}
    return {"ok": True, "strata": strata, "warnings": log, "outer": outer}


def main():
    results = []
    for cohort in json.load(sys.stdin):
        labels = [f"{quintile(v)}_{a}" for v, a in zip(cohort["volumes"], cohort["acquisitions"], strict=True)]
        result = nested(labels, cohort["outer"], cohort["inner"], cohort["seed"])
        result["quintiles"] = [quintile(v) for v in cohort["volumes"]]
        results.append(result)
    json.dump(results, sys.stdout)


main()
