/**
 * Pool worker: inflates and counts, returning a plain summary. All inflating happens here,
 * never on the main thread. NPZ files arrive as the bytes the main thread fetched (reading many
 * files at once there); NIfTI files, label traces and pictures are opened and read here.
 */
import { summarizeNifti } from '../engine/arc/nifti';
import { labelTrace, summarizeNpz } from '../engine/eeg/npz';
import { listNpzMembers, readWindowTrace } from '../engine/eeg/npzView';
import { ByteSource, SpanCache } from '../engine/io/source';
import { deepWindows } from './deepWindows';
import { FileSource, openFileSource, taskFailure } from './fileSource';
import type { SlicePicture, Task, TaskResult } from './tasks';

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

/** Works on the fetched bytes; the file is opened only if they miss something (labels left to stream). */
async function withFetched<T>(task: Extract<Task, { kind: 'npz' }>, use: (source: ByteSource) => Promise<T>): Promise<TaskResult<T>> {
  let opened: Promise<FileSource> | undefined;
  const file: ByteSource = { size: task.size, read: async (offset, length) => (await (opened ??= openFileSource(task.path, task.size))).read(offset, length) };
  try {
    return { ok: true, value: await use(new SpanCache(task.size, file, task.spans)), bytesRead: opened ? (await opened).bytesRead : 0 };
  } catch (error) {
    const bytesRead = opened ? await opened.then((s) => s.bytesRead, () => 0) : 0;
    return { ok: false, ...taskFailure(error), bytesRead };
  } finally {
    await opened?.then((s) => s.close(), () => undefined);
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
    const profile = await withFile(maskFile, (source) => summarizeNifti(source, { countVoxels: true, perSlice: true, name: maskFile }));
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
    const header = await withFile(imageFile, (source) => summarizeNifti(source, { countVoxels: false, name: imageFile }));
    bytesRead += header.bytesRead;
    if (!header.ok) return { ...header, bytesRead };
    slice = Math.floor((header.value.shape[2] ?? 1) / 2);
  }
  const image = await withFile(imageFile, (source) => summarizeNifti(source, { countVoxels: false, slice, name: imageFile }));
  bytesRead += image.bytesRead;
  if (!image.ok) return { ...image, bytesRead };
  const mask = maskFile ? await withFile(maskFile, (source) => summarizeNifti(source, { countVoxels: false, slice, name: maskFile })) : undefined;
  bytesRead += mask?.bytesRead ?? 0;
  if (mask && !mask.ok) return { ...mask, bytesRead };
  const { width, height, values } = image.value.slice!;
  const maskValues = mask?.ok ? mask.value.slice!.values : new Float64Array(values.length);
  // Loaded on first use: fflate builds its tables at import, which every worker would pay at start.
  const { lesionOverlay } = await import('../engine/pictures');
  const png = Buffer.from(lesionOverlay(image.value.slice!, maskValues)).toString('base64');
  return { ok: true, value: { png, z: slice, depth: depth ?? image.value.shape[2] ?? 1, width, height }, bytesRead };
}

export default function run(task: Task): Promise<TaskResult<unknown>> {
  switch (task.kind) {
    case 'label-trace':
      return withFile(task.path, (source) => labelTrace(source));
    case 'lesion-picture':
      return lesionPicture(task.path, task.image);
    case 'slice-picture':
      return slicePicture(task.path, task.mask, task.z);
    case 'npz-window':
      return withFile(task.path, (source) => readWindowTrace(source, task.window));
    case 'npz-members':
      return withFile(task.path, (source) => listNpzMembers(source));
    case 'npz':
      return withFetched(task, (source) => summarizeNpz(source));
    case 'deep-windows':
      return deepWindows(task);
    case 'nifti':
      return withFile(task.path, (source) => summarizeNifti(source, { countVoxels: task.countVoxels, name: task.path }));
  }
}
