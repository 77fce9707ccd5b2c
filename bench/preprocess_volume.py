"""Bench reference: arc-meshchop's preprocess_volume (src/arc_meshchop/data/preprocessing.py),
the whole function (image and mask) for both resample methods, timed per sample. Arguments:
image/mask path pairs; prints the median seconds per sample (both methods) as JSON."""
import json
import sys
import time
import warnings

import nibabel as nib
import nibabel.processing as nibproc
import numpy as np
from scipy import ndimage

SHAPE = (256, 256, 256)
SPACING = (1.0, 1.0, 1.0)


def load(path):
    nii = nib.as_closest_canonical(nib.load(path))
    return np.asarray(nii.get_fdata(), dtype=np.float32), np.asarray(nii.affine, dtype=np.float64)


def crop_or_pad(data):
    current = data.copy()
    for dim in range(3):
        if current.shape[dim] > SHAPE[dim]:
            start = (current.shape[dim] - SHAPE[dim]) // 2
            s = [slice(None)] * 3
            s[dim] = slice(start, start + SHAPE[dim])
            current = current[tuple(s)]
    result = np.zeros(SHAPE, dtype=data.dtype)
    d, h, w = current.shape
    o = [max(0, (t - c) // 2) for t, c in zip(SHAPE, current.shape)]
    result[o[0]:o[0] + d, o[1]:o[1] + h, o[2]:o[2] + w] = current
    return result


def resample(data, affine, order):
    spacing = np.sqrt(np.sum(affine[:3, :3] ** 2, axis=0))
    return crop_or_pad(ndimage.zoom(data, [c / t for c, t in zip(spacing, SPACING)], order=order)).astype(np.float32)


def normalize(data):
    lo, hi = data.min(), data.max()
    return np.zeros_like(data) if hi - lo < 1e-8 else ((data - lo) / (hi - lo)).astype(np.float32)


def preprocess(image, mask, method):
    if method == "nibabel_conform":
        img = nib.as_closest_canonical(nib.load(image))
        conf = nibproc.conform(img, out_shape=SHAPE, voxel_size=SPACING, order=1, orientation="RAS")
        normalize(np.asarray(conf.get_fdata(), dtype=np.float32))
        m = nibproc.resample_from_to(nib.as_closest_canonical(nib.load(mask)), conf, order=0)
        return int((np.asarray(m.get_fdata(), dtype=np.float32) > 0).sum())
    data, affine = load(image)
    normalize(resample(data, affine, 1))
    data, affine = load(mask)
    return int((resample(data, affine, 0) > 0).sum())


warnings.simplefilter("ignore")
paths = sys.argv[1:]
seconds = []
for image, mask in zip(paths[::2], paths[1::2]):
    started = time.perf_counter()
    for method in ("scipy_zoom", "nibabel_conform"):
        preprocess(image, mask, method)
    seconds.append(time.perf_counter() - started)
print(json.dumps(sorted(seconds)[len(seconds) // 2]))
