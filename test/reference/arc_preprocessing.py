"""Reference preprocessing: arc-meshchop's preprocess_volume (src/arc_meshchop/data/
preprocessing.py) written out with the same nibabel and scipy calls, for the mask it returns.

scipy_zoom: load_nifti (nib.load, nib.as_closest_canonical, get_fdata as float32), get_spacing
(column norms of the affine), ndimage.zoom(order=0) by spacing / 1 mm, crop_or_pad to 256³
(centred), then `> 0`. nibabel_conform: nib.as_closest_canonical of the image,
nibabel.processing.conform(out_shape=(256,)*3, voxel_size=(1,)*3, order=1, orientation="RAS"),
the canonical mask through nibabel.processing.resample_from_to(mask, image_conf, order=0),
get_fdata as float32, `> 0`. The image's own resampled voxels never reach the mask: with
"fast": true the conform call keeps every affine step but resamples no image data (its
resample_from_to is given an empty volume), which saves ~1 s per sample; named cases run the
unpatched call.

Also, for the model's pieces: "zoom_probe" runs ndimage.zoom(order=0) on an arange to show
which input index each output index reads, and "affine" prints nib.load(path).affine.

Reads a JSON list of requests on stdin and prints one JSON result per request, in order.
"""
import json
import sys
import warnings
from unittest import mock

import nibabel as nib
import nibabel.processing as nibproc
import numpy as np
from scipy import ndimage

TARGET_SHAPE = (256, 256, 256)
TARGET_SPACING = (1.0, 1.0, 1.0)


def load_nifti(path):
    nii = nib.as_closest_canonical(nib.load(path))
    return np.asarray(nii.get_fdata(), dtype=np.float32), np.asarray(nii.affine, dtype=np.float64)


def get_spacing(affine):
    spacing = np.sqrt(np.sum(affine[:3, :3] ** 2, axis=0))
    return (float(spacing[0]), float(spacing[1]), float(spacing[2]))


def crop_or_pad(data, target_shape):
    current = data.copy()
    for dim in range(3):
        if current.shape[dim] > target_shape[dim]:
            start = (current.shape[dim] - target_shape[dim]) // 2
            slices = [slice(None)] * 3
            slices[dim] = slice(start, start + target_shape[dim])
            current = current[tuple(slices)]
    result = np.zeros(target_shape, dtype=data.dtype)
    d, h, w = current.shape
    td, th, tw = target_shape
    d0, h0, w0 = max(0, (td - d) // 2), max(0, (th - h) // 2), max(0, (tw - w) // 2)
    result[d0:d0 + d, h0:h0 + h, w0:w0 + w] = current
    return result


def scipy_zoom_mask(mask_path):
    data, affine = load_nifti(mask_path)
    zoom_factors = [c / t for c, t in zip(get_spacing(affine), TARGET_SPACING)]
    resampled = ndimage.zoom(data, zoom_factors, order=0)
    before = int((resampled > 0).sum())
    mask = (crop_or_pad(resampled, TARGET_SHAPE).astype(np.float32) > 0).astype(np.float32)
    return mask, before - int(mask.sum())


def conform_image(image_path, fast):
    image_nii = nib.as_closest_canonical(nib.load(image_path))
    if not fast:
        return nibproc.conform(image_nii, out_shape=TARGET_SHAPE, voxel_size=TARGET_SPACING, order=1, orientation="RAS")
    real = nibproc.resample_from_to

    def without_data(from_img, to_vox_map, **kwargs):
        shape, affine = to_vox_map
        return nib.Nifti1Image(np.zeros(shape, dtype=np.uint8), affine)

    with mock.patch.object(nibproc, "resample_from_to", without_data):
        out = nibproc.conform(image_nii, out_shape=TARGET_SHAPE, voxel_size=TARGET_SPACING, order=1, orientation="RAS")
    assert nibproc.resample_from_to is real
    return out


def conform_mask(image_path, mask_path, fast, cropped):
    image_conf = conform_image(image_path, fast)
    mask_nii = nib.as_closest_canonical(nib.load(mask_path))
    mask_resampled = nibproc.resample_from_to(mask_nii, image_conf, order=0)
    mask = (np.asarray(mask_resampled.get_fdata(), dtype=np.float32) > 0).astype(np.float32)
    if not cropped:
        return mask, None
    # What the box leaves out: the same resampling onto the 26 neighbouring 256³ tiles of the grid.
    outside = 0
    for shift in np.ndindex(3, 3, 3):
        if shift == (1, 1, 1):
            continue
        tile = image_conf.affine.copy()
        tile[:3, 3] = nib.affines.apply_affine(image_conf.affine, [(s - 1) * 256 for s in shift])
        moved = nibproc.resample_from_to(mask_nii, (TARGET_SHAPE, tile), order=0)
        outside += int((np.asarray(moved.get_fdata(), dtype=np.float32) > 0).sum())
    return mask, outside


def dice(a, b):
    total = a.sum() + b.sum()
    return None if total == 0 else float(2 * (a * b).sum() / total)


def centroid(a):
    idx = np.argwhere(a > 0)
    return None if len(idx) == 0 else [float(v) for v in idx.mean(axis=0)]


def preprocess(request):
    warnings.simplefilter("ignore")
    fast = request.get("fast", True)
    zoom, zoom_cropped = scipy_zoom_mask(request["mask"])
    conf, conf_cropped = conform_mask(request["image"], request["mask"], fast, request.get("cropped", False))
    return {
        "lesionVoxels": {"scipy_zoom": int((zoom > 0).sum()), "nibabel_conform": int((conf > 0).sum())},
        "croppedVoxels": {"scipy_zoom": zoom_cropped, "nibabel_conform": conf_cropped},
        "diceBetweenMethods": dice(zoom, conf),
        "centroids": {"scipy_zoom": centroid(zoom), "nibabel_conform": centroid(conf)},
    }


def zoom_probe(request):
    warnings.simplefilter("ignore")
    n, z = request["n"], request["zoom"]
    out = ndimage.zoom(np.arange(1, n + 1, dtype=np.float32).reshape(n, 1, 1), (z, 1, 1), order=0)[:, 0, 0]
    return [int(v) - 1 for v in out]


def affine_probe(request):
    return [[float(v) for v in row] for row in nib.load(request["path"]).affine]


def main():
    requests = json.load(sys.stdin)
    handlers = {"preprocess": preprocess, "zoom_probe": zoom_probe, "affine": affine_probe}
    out = []
    for r in requests:
        try:
            out.append({"ok": True, "value": handlers[r["kind"]](r)})
        except Exception as error:  # reported per request: the test says which one failed
            out.append({"ok": False, "error": f"{type(error).__name__}: {error}"})
    json.dump(out, sys.stdout)


main()
