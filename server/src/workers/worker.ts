/**
 * Pool worker: inflates and counts, returning a plain summary. In the language server all
 * inflating happens in workers, never on its main thread (the CLI's build may count NPZ files on
 * its own, pool.ts). NPZ files arrive as the bytes the main thread fetched (reading many files at
 * once there; npzTask.ts, a bundle of its own); NIfTI files, label traces and pictures are
 * opened and read here.
 */
import { summarizeNifti } from '../engine/arc/nifti';
import { labelTrace } from '../engine/eeg/npz';
import { listNpzMembers, readWindowTrace } from '../engine/eeg/npzView';
import type { ByteSource } from '../engine/io/source';
import { deepWindows } from './deepWindows';
import { FileSource, openFileSource, taskFailure } from './fileSource';
import { countLocalNpz, countNpz } from './npzTask';
import type { MaskPreprocessing, SlicePicture, Task, TaskResult } from './tasks';
import { preprocessingFacts, PreprocessingOutcome } from '../engine/arc/preprocessSample';
import type { NiftiSummary } from '../engine/arc/nifti';
import type { ResampleMethod } from '../engine/arc/preprocessing';
import { planTrainingSlice, trainingSliceValues } from '../engine/arc/trainingGrid';
import { lesionOverlay } from '../engine/pictures';

async function withFile<T>(file: string, use: (source: ByteSource) => Promise<T>): Promise<TaskResult<T>> {
  let source: FileSource | undefined;
  try {
    source = await openFileSource(file);
    return { ok: true, value: await use(source), bytesRead: source.bytesRead };
  } catch (error) {
    return { ok: false, ...taskFailure(error), bytesRead: source?.bytesRead ?? 0 };
  } finally {
    await source?.close();
  }
}

/** Finds the axial slice with the most lesion voxels, then reads that slice of mask and image. */
async function lesionPicture(maskFile: string, imageFile: string): Promise<TaskResult<string>> {
  const picture = await slicePicture(imageFile, maskFile);
  return picture.ok ? { ...picture, value: picture.value.png } : picture;
}

/**
 * Axial slice `z` of the image (default: with a mask, the slice with the most lesion voxels, else
 * the middle one), with the mask over it in red: the hover's picture and the viewer's fallback.
 */
async function slicePicture(imageFile: string, maskFile?: string, z?: number): Promise<TaskResult<SlicePicture>> {
  let bytesRead = 0;
  let slice = z;
  let depth: number | undefined;
  if (maskFile && slice === undefined) {
    const profile = await withFile(maskFile, (source) =>
      summarizeNifti(source, { countVoxels: true, perSlice: true, name: maskFile }),
    );
    bytesRead += profile.bytesRead;
    if (!profile.ok) return { ...profile, bytesRead };
    const perSlice = profile.value.positivesPerSlice ?? [0];
    depth = perSlice.length;
    // A loop, not Math.max(...perSlice): a header may declare more slices than a call takes arguments.
    slice = 0;
    perSlice.forEach((positives, at) => {
      if (positives > perSlice[slice!]) slice = at;
    });
  }
  if (slice === undefined) {
    const header = await withFile(imageFile, (source) =>
      summarizeNifti(source, { countVoxels: false, name: imageFile }),
    );
    bytesRead += header.bytesRead;
    if (!header.ok) return { ...header, bytesRead };
    slice = Math.floor((header.value.shape[2] ?? 1) / 2);
  }
  const image = await withFile(imageFile, (source) =>
    summarizeNifti(source, { countVoxels: false, slice, name: imageFile }),
  );
  bytesRead += image.bytesRead;
  if (!image.ok) return { ...image, bytesRead };
  const mask = maskFile
    ? await withFile(maskFile, (source) => summarizeNifti(source, { countVoxels: false, slice, name: maskFile }))
    : undefined;
  bytesRead += mask?.bytesRead ?? 0;
  if (mask && !mask.ok) return { ...mask, bytesRead };
  const { width, height, values } = image.value.slice!;
  const maskValues = mask?.ok ? mask.value.slice!.values : new Float64Array(values.length);
  const png = Buffer.from(lesionOverlay(image.value.slice!, maskValues)).toString('base64');
  return { ok: true, value: { png, z: slice, depth: depth ?? image.value.shape[2] ?? 1, width, height }, bytesRead };
}

/** PNG (base64) of the training grid's slice with the most lesion voxels, for one resample method. */
async function trainingPicture(
  maskFile: string,
  imageFile: string,
  method: ResampleMethod,
): Promise<TaskResult<string>> {
  const mask = await withFile(maskFile, (source) =>
    summarizeNifti(source, { countVoxels: false, lesionMask: true, name: maskFile }),
  );
  if (!mask.ok) return mask;
  const header = await withFile(imageFile, (source) => summarizeNifti(source, { countVoxels: false, name: imageFile }));
  if (!header.ok) return { ...header, bytesRead: mask.bytesRead + header.bytesRead };
  const grid = (s: NiftiSummary) => ({ shape: s.shape as [number, number, number], affine: s.affine! });
  if (!mask.value.lesionMask || header.value.shape.length !== 3 || !mask.value.affine || !header.value.affine) {
    return {
      ok: false,
      error: 'preprocess_volume needs 3-D volumes with valid affines',
      bytesRead: mask.bytesRead + header.bytesRead,
    };
  }
  let plan;
  try {
    plan = planTrainingSlice(mask.value.lesionMask, grid(mask.value), grid(header.value), method);
  } catch (error) {
    return { ok: false, ...taskFailure(error), bytesRead: mask.bytesRead + header.bytesRead };
  }
  const image = await withFile(imageFile, (source) =>
    summarizeNifti(source, { countVoxels: false, pick: plan.pick, name: imageFile }),
  );
  const bytesRead = mask.bytesRead + header.bytesRead + image.bytesRead;
  if (!image.ok) return { ...image, bytesRead };
  const png = lesionOverlay(trainingSliceValues(plan, image.value.picked ?? new Float64Array(0)), plan.mask);
  return { ok: true, value: Buffer.from(png).toString('base64'), bytesRead };
}

/**
 * One pass over the mask: its count (the content check's) and its lesion voxels, which with the
 * image's header give the preprocessing facts. The image's voxels are never read.
 */
async function maskPreprocessing(maskFile: string, imageFile: string): Promise<TaskResult<MaskPreprocessing>> {
  const mask = await withFile(maskFile, (source) =>
    summarizeNifti(source, { countVoxels: true, lesionMask: true, name: maskFile }),
  );
  if (!mask.ok) return mask;
  const { lesionMask, ...summary } = mask.value;
  const image = await withFile(imageFile, (source) => summarizeNifti(source, { countVoxels: false, name: imageFile }));
  const bytesRead = mask.bytesRead + image.bytesRead;
  const preprocessing: PreprocessingOutcome = image.ok
    ? preprocessingFacts({ ...summary, lesionMask }, image.value)
    : { ok: false, error: `the image cannot be read: ${image.error}` };
  return { ok: true, value: { mask: summary, preprocessing }, bytesRead };
}

export default function run(task: Task): Promise<TaskResult<unknown>> {
  switch (task.kind) {
    case 'label-trace':
      return withFile(task.path, (source) => labelTrace(source));
    case 'preprocessing':
      return maskPreprocessing(task.path, task.image);
    case 'lesion-picture':
      return lesionPicture(task.path, task.image);
    case 'slice-picture':
      return slicePicture(task.path, task.mask, task.z);
    case 'npz-window':
      return withFile(task.path, (source) => readWindowTrace(source, task.window));
    case 'npz-members':
      return withFile(task.path, (source) => listNpzMembers(source));
    case 'training-picture':
      return trainingPicture(task.path, task.image, task.method);
    case 'npz':
      return countNpz(task);
    case 'npz-local':
      return countLocalNpz(task);
    case 'deep-windows':
      return deepWindows(task);
    case 'nifti':
      return withFile(task.path, (source) =>
        summarizeNifti(source, { countVoxels: task.countVoxels, name: task.path }),
      );
  }
}
