/**
 * The data views' answers (the NPZ view and the NIfTI viewer): the check's own summaries for
 * one file, the entries of checked documents that point at it, and bounded reads on demand.
 * Everything is read by the worker pool or as a bounded regular file; nothing is written.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Diagnostic, Position, TextSpan } from '../engine/diagnostics';
import { categoryOf, windowPositives } from '../engine/eeg/npz';
import { trainingReadCost } from '../engine/eeg/npzView';
import { describePythonOutcome } from '../engine/eeg/manifestCheck';
import { CATEGORIES, Category } from '../engine/eeg/category';
import { entrySpan, fileSpan } from '../engine/eeg/manifestEntries';
import { notRegularFile } from '../engine/io/fileType';
import {
  MAX_VIEW_VOLUME_BYTES,
  NiftiPairRequest,
  NpzViewRequest,
  NpzWindowRequest,
  SlicePictureRequest,
  TrainingGridRequest,
  ViewReference,
  ViewVolume,
  VolumeBytesRequest,
} from '../protocol';
import { ResampleMethod, TARGET_SIZE } from '../engine/arc/preprocessing';
import type { Analysis } from './analyze';
import { CacheInspector, statOrUndefined } from './inspector';
import { readRegularBytes } from './regularFile';

/** A checked JSON document, with the text its analysis was made from (for positions). */
export interface CheckedDocument {
  uri: string;
  analysis: Analysis;
  positionAt(offset: number): Position;
}

/** Most references listed per viewed file (a manifest lists each window of a file once). */
export const MAX_VIEW_REFERENCES = 500;

export async function npzView(
  file: string,
  inspector: CacheInspector,
  documents: CheckedDocument[],
): Promise<NpzViewRequest.Result> {
  const stat = await statOrUndefined(file);
  const references = referencesTo(file, documents);
  const empty = { file, size: stat?.size ?? 0, members: [], membersTotal: 0, notes: [], ...references };
  if (!stat) return { ...empty, error: 'no such file' };
  if (!stat.isFile()) return { ...empty, error: notRegularFile(stat) };
  const [facts, listing] = await Promise.all([inspector.npz(file, true), inspector.pool.npzMembers(file)]);
  const members = listing.ok ? listing.value.members : [];
  const result: NpzViewRequest.Result = {
    ...empty,
    members,
    membersTotal: listing.ok ? listing.value.total : 0,
    readCost: trainingReadCost(members),
    notes: [
      ...(facts.summary?.notes ?? []),
      ...(facts.summary?.windowsError
        ? [`windows cannot be read: ${facts.summary.windowsError}; training fails on every window of this file`]
        : []),
    ],
  };
  const summary = facts.summary;
  if (summary?.hasLabels) {
    const categories = { partial: 0, full: 0, none: 0 };
    const fractions: number[] = [];
    const letters: string[] = [];
    for (let w = 0; w < summary.windowCount; w++) {
      const category = CATEGORY_SHORT[categoryOf(summary, w)];
      categories[category]++;
      letters.push(category[0]);
      fractions.push(summary.samplesPerWindow === 0 ? 0 : windowPositives(summary, w) / summary.samplesPerWindow);
    }
    result.windows = {
      count: summary.windowCount,
      samplesPerWindow: summary.samplesPerWindow,
      categories,
      fractions,
      categoryLetters: letters.join(''),
    };
  } else if (summary) {
    result.notes.push('no labels array: the manifest builder warns "has NO LABELS" and leaves this file out');
  }
  if (!summary) {
    const failure = facts.failure ?? { message: facts.error ?? 'unreadable' };
    result.failure = {
      message: failure.message,
      exception: failure.exception,
      outcome: describePythonOutcome(failure),
    };
  }
  return result;
}

const CATEGORY_SHORT: Record<Category, 'partial' | 'full' | 'none'> = {
  partial_seizure: 'partial',
  full_seizure: 'full',
  no_seizure: 'none',
};

/** The entries of checked manifests and dataset indexes whose path is `file`, with the problems on them. */
export function referencesTo(
  file: string,
  documents: CheckedDocument[],
): { references: ViewReference[]; referencesTotal: number } {
  const references: ViewReference[] = [];
  let total = 0;
  for (const document of documents) {
    for (const entry of entriesNaming(file, document.analysis)) {
      total++;
      if (references.length >= MAX_VIEW_REFERENCES) continue;
      const { path: where, entry: span, label } = entry;
      references.push({
        uri: document.uri,
        range: {
          start: document.positionAt(where.offset + 1),
          end: document.positionAt(where.offset + where.length - 1),
        },
        label,
        findings: document.analysis.diagnostics
          .filter((d) => overlaps(d, span))
          .map(({ severity, code, message }) => ({ severity, code, message })),
      });
    }
  }
  return { references, referencesTotal: total };
}

/** Each entry of `analysis` naming `file`: its path string, the whole entry (where its problems are) and a label. */
function* entriesNaming(
  file: string,
  analysis: Analysis,
): Generator<{ path: TextSpan; entry: TextSpan; label: string }> {
  if (analysis.kind === 'seizure-manifest') {
    const id = analysis.parsed.files.findIndex((name) => path.join(analysis.directory, name) === file);
    if (id < 0) return;
    const { entries } = analysis.parsed;
    const where = `${path.basename(analysis.directory)}/manifest.json`;
    for (let i = 0; i < entries.count; i++) {
      if (entries.file.at(i) !== id) continue;
      const window = entries.window.at(i);
      yield {
        path: fileSpan(entries, i),
        entry: entrySpan(entries, i),
        label: `${where} ${CATEGORIES[entries.category.at(i)]}, window ${Number.isNaN(window) ? '?' : window}`,
      };
    }
  } else if (analysis.kind === 'eeg-dataset-index') {
    const where = `${path.basename(analysis.directory)}/_dataset_index.json`;
    for (const [k, f] of analysis.parsed.files.entries()) {
      if (path.join(analysis.directory, f.cacheFile) === file)
        yield { path: f.span, entry: f.span, label: `${where} files[${k}]` };
    }
  }
}

// A problem is on an entry when it touches it.
function overlaps(d: Diagnostic, span: TextSpan): boolean {
  return d.offset < span.offset + span.length && span.offset < d.offset + Math.max(1, d.length);
}

export async function npzWindow(
  file: string,
  window: number,
  inspector: CacheInspector,
): Promise<NpzWindowRequest.Result> {
  if (!Number.isInteger(window) || window < 0) return { ok: false, error: `window ${window} is not a window index` };
  const stat = await statOrUndefined(file);
  if (!stat?.isFile()) return { ok: false, error: stat ? notRegularFile(stat) : 'no such file' };
  const result = await inspector.pool.npzWindow(file, window);
  return result.ok ? { ok: true, ...result.value } : { ok: false, error: result.error };
}

const NIFTI_NAME = /\.nii(\.gz)?$/;

/** The image and mask to show for a NIfTI file: its dataset_info.json sample, else its sibling. */
export async function niftiPair(file: string, documents: CheckedDocument[]): Promise<NiftiPairRequest.Result> {
  const volume = async (f: string | undefined): Promise<ViewVolume | undefined> => {
    const stat = f ? await statOrUndefined(f) : undefined;
    return f && stat?.isFile() ? { uri: pathToFileURL(f).href, name: path.basename(f), size: stat.size } : undefined;
  };
  const own = await statOrUndefined(file);
  if (!own) return { how: 'the file does not exist', error: 'no such file' };
  if (!own.isFile()) return { how: 'not a regular file', error: notRegularFile(own) };
  for (const document of documents) {
    const { analysis } = document;
    if (analysis.kind !== 'arc-dataset-info') continue;
    const { images, masks } = analysis.facts;
    for (const sample of analysis.parsed.samples) {
      const image = images[sample.index]?.resolved;
      const mask = masks[sample.index]?.resolved;
      if (image !== file && mask !== file) continue;
      const where = path.relative(path.dirname(analysis.directory), path.join(analysis.directory, 'dataset_info.json'));
      const pair = { image: await volume(image), mask: await volume(mask) };
      const subject = typeof sample.subject?.value === 'string' ? sample.subject.value : undefined;
      return {
        ...pair,
        how: `sample ${sample.index} of ${where}${subject ? ` (${subject})` : ''}`,
        sample: { datasetInfo: document.uri, index: sample.index, subject },
      };
    }
  }
  const name = path.basename(file);
  const isMask = /_lesion\.nii(\.gz)?$/i.test(name);
  const sibling = isMask
    ? file.replace(/_lesion(\.nii(\.gz)?)$/i, '_t2w$1')
    : file.replace(/_t2w(\.nii(\.gz)?)$/i, '_lesion$1');
  const other = sibling !== file && NIFTI_NAME.test(sibling) ? await volume(sibling) : undefined;
  const self = await volume(file);
  if (other)
    return isMask
      ? { image: other, mask: self, how: `the sibling image ${other.name}` }
      : { image: self, mask: other, how: `the sibling mask ${other.name}` };
  return isMask
    ? {
        mask: self,
        how: 'no image found for this mask (no dataset_info.json sample names it, and no sibling *_t2w file)',
      }
    : {
        image: self,
        how: 'no lesion mask found (no dataset_info.json sample names this image, and no sibling *_lesion file)',
      };
}

export async function volumeBytes(file: string): Promise<VolumeBytesRequest.Result> {
  if (!NIFTI_NAME.test(file))
    return { ok: false, error: `${path.basename(file)} is not a NIfTI file (.nii or .nii.gz)` };
  try {
    return { ok: true, base64: (await readRegularBytes(file, MAX_VIEW_VOLUME_BYTES)).toString('base64') };
  } catch (error) {
    return { ok: false, error: (error as Error).message.replace(/^.*is over/, `${path.basename(file)} is over`) };
  }
}

export async function slicePicture(
  params: { image: string; mask?: string; z?: number },
  inspector: CacheInspector,
): Promise<SlicePictureRequest.Result> {
  for (const f of [params.image, params.mask]) {
    if (f === undefined) continue;
    const stat = await statOrUndefined(f);
    if (!stat?.isFile())
      return { ok: false, error: `${path.basename(f)}: ${stat ? notRegularFile(stat) : 'no such file'}` };
  }
  if (params.z !== undefined && !(Number.isInteger(params.z) && params.z >= 0))
    return { ok: false, error: `slice ${params.z} is not a slice index` };
  const result = await inspector.pool.slicePicture(params.image, params.mask, params.z);
  return result.ok ? { ok: true, ...result.value } : { ok: false, error: result.error };
}

/**
 * What the network is fed for one sample under `method`: the training grid's most-lesion slice
 * and the preprocessing model's counts (both from the workers, remembered by fingerprint).
 */
export async function trainingGrid(
  params: { image: string; mask: string; method: ResampleMethod },
  inspector: CacheInspector,
): Promise<TrainingGridRequest.Result> {
  const { image, mask, method } = params;
  for (const f of [image, mask]) {
    const stat = await statOrUndefined(f);
    if (!stat?.isFile())
      return { ok: false, error: `${path.basename(f)}: ${stat ? notRegularFile(stat) : 'no such file'}` };
  }
  const [facts, png] = await Promise.all([
    inspector.maskPreprocessing(mask, image),
    inspector.trainingPicture(mask, image, method),
  ]);
  if (facts.error) return { ok: false, error: `${path.basename(mask)}: ${facts.error}` };
  const outcome = facts.preprocessing;
  if (!outcome) return { ok: false, error: `${path.basename(image)} cannot be read` };
  if (!outcome.ok) return { ok: false, error: `preprocess_volume not modelled: ${outcome.error}` };
  if (!png) return { ok: false, error: `the training grid of ${path.basename(mask)} cannot be drawn` };
  return {
    ok: true,
    png,
    method,
    size: TARGET_SIZE,
    originalVoxels: outcome.facts.originalVoxels,
    keptVoxels: outcome.facts.lesionVoxels[method],
    croppedVoxels: outcome.facts.croppedVoxels[method],
  };
}
