/**
 * Pool worker: opens the file, hands the engine a positional-read source, returns a plain
 * summary. All inflating happens here, never on the main thread.
 */
import { constants, promises as fs } from 'node:fs';
import { summarizeNifti } from '../engine/arc/nifti';
import { labelTrace, readWindowCount, summarizeNpz } from '../engine/eeg/npz';
import { loadFailure, osException } from '../engine/eeg/numpyLoad';
import { notRegularFile } from '../engine/io/fileType';
import { ByteSource, FormatError } from '../engine/io/source';
import type { Task, TaskResult } from './tasks';

async function withFile<T>(file: string, use: (source: ByteSource) => Promise<T>): Promise<TaskResult<T>> {
  let bytesRead = 0;
  let handle: fs.FileHandle | undefined;
  try {
    // O_NONBLOCK: opening a FIFO returns at once (instead of waiting for a writer), and is refused below.
    handle = await fs.open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const stat = await handle.stat();
    if (!stat.isFile()) throw new FormatError(notRegularFile(stat));
    const { size } = stat;
    const opened = handle;
    const source: ByteSource = {
      size,
      async read(offset, length) {
        const buffer = Buffer.allocUnsafe(Math.max(0, Math.min(length, size - offset)));
        let filled = 0;
        while (filled < buffer.length) {
          const { bytesRead: n } = await opened.read(buffer, filled, buffer.length - filled, offset + filled);
          if (n === 0) break;
          filled += n;
        }
        bytesRead += filled;
        return buffer.subarray(0, filled);
      },
    };
    return { ok: true, value: await use(source), bytesRead };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // What Python's open() or np.load raises for the same file.
    const failure = loadFailure(error) ?? (code ? { message: describeError(error), exception: osException(code) } : undefined);
    return { ok: false, error: describeError(error), failure, bytesRead };
  } finally {
    await handle?.close();
  }
}

function describeError(error: unknown): string {
  if (error instanceof FormatError) return error.message;
  const e = error as NodeJS.ErrnoException;
  if (e.code === 'EISDIR') return 'is a directory';
  if (e.code === 'EACCES' || e.code === 'EPERM') return 'permission denied';
  if (e.code === 'ENOENT') return 'file vanished while reading';
  return e.message ?? String(error);
}

/** Finds the axial slice with the most lesion voxels, then reads that slice of mask and image. */
async function lesionPicture(maskFile: string, imageFile: string): Promise<TaskResult<string>> {
  const profile = await withFile(maskFile, (source) => summarizeNifti(source, { countVoxels: true, perSlice: true, name: maskFile }));
  if (!profile.ok) return profile;
  const perSlice = profile.value.positivesPerSlice ?? [0];
  // A loop, not Math.max(...perSlice): a header may declare more slices than a call takes arguments.
  let z = 0;
  perSlice.forEach((positives, slice) => {
    if (positives > perSlice[z]) z = slice;
  });
  const mask = await withFile(maskFile, (source) => summarizeNifti(source, { countVoxels: false, slice: z, name: maskFile }));
  const image = await withFile(imageFile, (source) => summarizeNifti(source, { countVoxels: false, slice: z, name: imageFile }));
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
    case 'npz':
      return withFile(task.path, summarizeNpz);
    case 'window-count':
      return withFile(task.path, readWindowCount);
    case 'nifti':
      return withFile(task.path, (source) => summarizeNifti(source, { countVoxels: task.countVoxels, name: task.path }));
  }
}
