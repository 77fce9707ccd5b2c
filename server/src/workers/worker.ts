/**
 * Pool worker: inflates and counts, returning a plain summary. All inflating happens here,
 * never on the main thread. NPZ files arrive as the bytes the main thread's readers fetched
 * (I/O there, many files at once); NIfTI files are opened and streamed here.
 */
import { summarizeNifti } from '../engine/arc/nifti';
import { labelTrace, summarizeParts } from '../engine/eeg/npz';
import { ByteSource } from '../engine/io/source';
import { describeError, FileSource, openFileSource } from './fileSource';
import type { Task, TaskResult } from './tasks';

async function withFile<T>(file: string, use: (source: ByteSource) => Promise<T>): Promise<TaskResult<T>> {
  let source: FileSource | undefined;
  try {
    source = await openFileSource(file);
    return { ok: true, value: await use(source), bytesRead: source.bytesRead };
  } catch (error) {
    return { ok: false, error: describeError(error), bytesRead: source?.bytesRead ?? 0 };
  } finally {
    await source?.close();
  }
}

/** CPU work on bytes the main thread already read. */
async function settle<T>(compute: () => Promise<T>): Promise<TaskResult<T>> {
  try {
    return { ok: true, value: await compute(), bytesRead: 0 };
  } catch (error) {
    return { ok: false, error: describeError(error), bytesRead: 0 };
  }
}

/** Finds the axial slice with the most lesion voxels, then reads that slice of mask and image. */
async function lesionPicture(maskFile: string, imageFile: string): Promise<TaskResult<string>> {
  const profile = await withFile(maskFile, (source) => summarizeNifti(source, { countVoxels: true, perSlice: true }));
  if (!profile.ok) return profile;
  const perSlice = profile.value.positivesPerSlice ?? [0];
  const z = perSlice.indexOf(Math.max(...perSlice));
  const mask = await withFile(maskFile, (source) => summarizeNifti(source, { countVoxels: false, slice: z }));
  const image = await withFile(imageFile, (source) => summarizeNifti(source, { countVoxels: false, slice: z }));
  const bytesRead = profile.bytesRead + mask.bytesRead + image.bytesRead;
  if (!mask.ok) return { ...mask, bytesRead };
  if (!image.ok) return { ...image, bytesRead };
  // Loaded on first use: fflate builds its tables at import, which every worker would pay at start.
  const { lesionOverlay } = await import('../engine/pictures');
  const png = lesionOverlay(image.value.slice!, mask.value.slice!.values);
  return { ok: true, value: Buffer.from(png).toString('base64'), bytesRead };
}

export default function run(task: Task): Promise<TaskResult<unknown>> {
  switch (task.kind) {
    case 'label-trace':
      return withFile(task.path, (source) => labelTrace(source));
    case 'lesion-picture':
      return lesionPicture(task.path, task.image);
    case 'npz': {
      const parts = task.parts;
      // Labels too large to hand over in memory are streamed from the file here.
      if (parts.labels && !parts.labels.compressed) return withFile(task.path, (source) => summarizeParts(parts, source));
      return settle(() => summarizeParts(parts));
    }
    case 'nifti':
      return withFile(task.path, (source) => summarizeNifti(source, { countVoxels: task.countVoxels }));
  }
}
