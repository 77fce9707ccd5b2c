/**
 * Hover text for a position in a checked document. Answers from the analysis' indexes (a
 * binary search over entry offsets, not a tree walk), so it stays instant on 150,000 entries.
 */
import { preprocessingLine } from '../engine/preprocessingReport';
import type { ResampleMethod } from '../engine/arc/preprocessing';
import * as path from 'node:path';
import { isLegacyResolution, PathFacts } from '../engine/arc/datasetInfo';
import { TextSpan } from '../engine/diagnostics';
import { formatPercent } from '../engine/units';
import { describeFailure } from '../engine/eeg/manifestCheck';
import { ParsedManifest } from '../engine/eeg/manifestParse';
import { entrySpan } from '../engine/eeg/manifestEntries';
import type { NiftiSummary } from '../engine/arc/nifti';
import { CATEGORIES, windowCategory } from '../engine/eeg/category';
import { windowPositives } from '../engine/eeg/npz';
import { sampleCost } from '../engine/eeg/readCost';
import { formatBytes } from '../protocol';
import {
  datasetIndexReport,
  datasetReport,
  dtypeInWords,
  foldsReport,
  manifestFindings,
  manifestStatistics,
  markdownTable,
  plural,
  readCostReport,
  sampleFoldsLine,
} from '../engine/report';
import { FORMAT_TITLES } from '../engine/invalidJson';
import type { Analysis } from './analyze';

/** A picture the hover would show; rendered (and cached) by the caller through the workers. */
export type PictureRequest =
  | { kind: 'categories'; partial: number; full: number; none: number }
  | { kind: 'trace'; file: string; window: number }
  /** `method`: the resample method whose training grid is drawn beside the original. */
  | { kind: 'lesion'; mask: string; image: string; grid: number[]; voxelSize: number[]; method: ResampleMethod };

/**
 * A hover: its statistics first (`markdown`), then the picture, then what is known about the
 * file as a whole and the findings about it (`after`), so the numbers are what one sees first.
 */
export interface HoverResult {
  markdown: string;
  span: TextSpan;
  picture?: PictureRequest;
  after?: string;
}

const inside = (offset: number, span: TextSpan | undefined) =>
  !!span && offset >= span.offset && offset <= span.offset + span.length;

/** Index of the manifest entry whose object contains `offset`, or -1. */
export function entryAt(parsed: ParsedManifest, offset: number): number {
  const { entryOffset, entryLength, count } = parsed.entries;
  let low = 0;
  let high = count - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (entryOffset.at(middle) <= offset) low = middle + 1;
    else high = middle - 1;
  }
  return high >= 0 && offset <= entryOffset.at(high) + entryLength.at(high) ? high : -1;
}

export function hoverAt(analysis: Analysis, offset: number): HoverResult | null {
  if (analysis.kind === 'seizure-manifest') return manifestHover(analysis, offset);
  if (analysis.kind === 'arc-dataset-info') return datasetHover(analysis, offset);
  if (analysis.kind === 'eeg-dataset-index') return indexHover(analysis, offset);
  if (analysis.kind === 'invalid-json') return invalidJsonHover(analysis, offset);
  return null;
}

/** On the keys of a file Python cannot read, or at the error: what training does with it, never numbers. */
function invalidJsonHover(analysis: Extract<Analysis, { kind: 'invalid-json' }>, offset: number): HoverResult | null {
  const at = { offset: analysis.error.offset, length: 1 };
  const span = analysis.keySpans.find((k) => inside(offset, k)) ?? (inside(offset, at) ? at : undefined);
  if (!span) return null;
  const lines = [
    analysis.diagnostics[0].message,
    'No statistics: numbers from a partial parse are not what training uses.',
  ];
  return {
    markdown: `**${FORMAT_TITLES[analysis.format]} — Python's json cannot read it**\n\n${bullets(lines)}`,
    span,
  };
}

function indexHover(analysis: Extract<Analysis, { kind: 'eeg-dataset-index' }>, offset: number): HoverResult | null {
  const { parsed, stats, facts } = analysis;
  const key = [parsed.keys.files, parsed.keys.windowCounts].find((k) => inside(offset, k));
  if (key) {
    const read = facts.filter((f) => f.windows !== undefined);
    const verified = read.length
      ? `Verified: ${read.length} of ${parsed.files.length} counts against the windows each cache file holds (from its header); ${parsed.files.filter((f, k) => facts[k]?.windows !== undefined && f.count !== facts[k].windows).length} differ`
      : 'Not verified against the caches yet (content checks off or still running): cache files checked for existence only';
    return { markdown: `**EEG dataset index**\n\n${bullets([...datasetIndexReport(stats), verified])}`, span: key };
  }
  const k = parsed.files.findIndex((f) => inside(offset, f.span) || inside(offset, f.countSpan));
  if (k < 0) return null;
  const file = parsed.files[k];
  const fact = facts[k];
  // The counts first, the files after.
  const lines = [`Recorded windows: ${file.count ?? 'none usable'}`];
  const files = [`EDF: \`${file.path}\``, `Cache: \`${path.join(analysis.directory, file.cacheFile)}\``];
  if (!fact?.exists)
    files.push('The cache file is missing: training preprocesses the EDF again for every window it reads.');
  else if (fact.error) files.push(`The cache cannot be read: ${fact.error}`);
  else if (fact.windows !== undefined)
    lines.push(`Windows in the cache file: ${fact.windows}${fact.windows === file.count ? ' ✓' : ' ✗'}`);
  return {
    markdown: `**${file.cacheFile}**\n\n${bullets(lines)}`,
    span: inside(offset, file.span) ? file.span : file.countSpan!,
    after: bullets(files),
  };
}

const bullets = (lines: string[]) => lines.map((l) => `- ${l}`).join('\n');

function manifestHover(analysis: Extract<Analysis, { kind: 'seizure-manifest' }>, offset: number): HoverResult | null {
  const { parsed, stats, facts } = analysis;
  const key = parsed.rootKeys.find((k) => inside(offset, k.key));
  if (key) {
    const own =
      `\`${key.category}\`: ${plural(stats.windows[key.category], 'window')}` +
      (stats.missingWindows[key.category]
        ? `, ${stats.missingWindows[key.category].toLocaleString('en-US')} with missing files`
        : '');
    const picture: PictureRequest = {
      kind: 'categories',
      partial: stats.windows.partial_seizure,
      full: stats.windows.full_seizure,
      none: stats.windows.no_seizure,
    };
    const findings = [
      ...manifestFindings(stats),
      ...windowFindingsIn(analysis, key.key),
      ...(analysis.readCost ? readCostReport(analysis.readCost) : []),
    ];
    return {
      markdown: `**Seizure manifest** — ${own}\n\n${bullets(manifestStatistics(stats))}`,
      span: key.key,
      picture,
      after: findings.length ? bullets(findings) : undefined,
    };
  }
  const i = entryAt(parsed, offset);
  if (i < 0) return null;
  const { entries } = parsed;
  const fileId = entries.file.at(i);
  // int(window_idx), counted from the end when negative (Python indexing), once the file's windows are known.
  const known = fileId >= 0 ? facts[fileId]?.summary?.windowCount : undefined;
  const listedWindow = entries.window.at(i);
  const window = listedWindow < 0 && known !== undefined ? known + listedWindow : listedWindow;
  const listed = CATEGORIES[entries.category.at(i)];
  const span = entrySpan(entries, i);
  if (fileId < 0) return { markdown: `**Manifest entry** (${listed})\n\nThe entry has no valid \`cache_file\`.`, span };
  const name = parsed.files[fileId];
  const fileFacts = facts[fileId];
  // The window's numbers first; the file as a whole after the picture.
  const lines = [`Listed as: ${listed}`];
  const file = [`File: \`${path.join(analysis.directory, name)}\``];
  if (entries.shadowed.at(i))
    lines.push(
      `\`${listed}\` appears again later in the file: Python's json keeps only the last list, so training never sees this entry.`,
    );
  if (!fileFacts?.exists) file.push('The file is missing: training skips this entry.');
  else if (fileFacts.error) file.push(`${describeFailure(name, fileFacts.failure ?? { message: fileFacts.error })}.`);
  else if (fileFacts.summary && !Number.isNaN(window)) {
    const summary = fileFacts.summary;
    if (window < 0 || window >= summary.windowCount)
      lines.push(`Window ${window} does not exist: the file has ${summary.windowCount} windows.`);
    else if (!summary.hasLabels)
      lines.push(
        'The file has no labels: the builder leaves it out (a rebuild drops this entry); training uses this window with all-zero labels.',
      );
    else {
      const positives = windowPositives(summary, window);
      const ratio = positives / summary.samplesPerWindow;
      const actual = windowCategory(positives, summary.samplesPerWindow);
      lines.push(
        `Seizure fraction: ${formatPercent(ratio)} (${positives.toLocaleString('en-US')} of ${summary.samplesPerWindow.toLocaleString('en-US')} label samples > 0) → ${actual}${actual === listed ? '' : ' — the manifest is stale'}`,
      );
      if (actual !== listed) lines.push(`Move the entry to ${actual} or rebuild the manifest to fix its category.`);
    }
    file.push(
      `The file holds ${plural(summary.windowCount, 'window')}${summary.labelsDtype ? `; its labels are ${dtypeInWords(summary.labelsDtype)}` : ''}.`,
    );
    if (summary.windowsShape)
      file.push(
        `windows: ${summary.windowsShape.join(' × ')}${summary.windowsDtype ? ` of ${dtypeInWords(summary.windowsDtype)}` : ''}${summary.labelsShape ? `; labels: ${summary.labelsShape.join(' × ')}` : ''}.`,
      );
    const cost = sampleCost(summary);
    if (cost)
      file.push(
        `Each sample training takes from this file inflates ${formatBytes(cost.inflated)} (the whole windows and labels members) to use ${formatBytes(cost.used)}.`,
      );
  }
  lines.push(...windowFindingsIn(analysis, span));
  const summary = fileFacts?.summary;
  const picture: PictureRequest | undefined =
    summary?.hasLabels && window >= 0 && window < summary.windowCount
      ? { kind: 'trace', file: path.join(analysis.directory, name), window }
      : undefined;
  return {
    markdown: `**Window ${Number.isNaN(window) ? '?' : window} of ${name}**\n\n${bullets(lines)}`,
    span,
    picture,
    after: bullets(file),
  };
}

/** What training reads from the window: the header and deep findings on this span, in their words. */
const WINDOW_CODES = new Set(['windows-labels-count', 'window-shape', 'non-finite-windows', 'unclipped-windows']);
function windowFindingsIn(analysis: Extract<Analysis, { kind: 'seizure-manifest' }>, span: TextSpan): string[] {
  const { diagnostics } = analysis;
  // Sorted by offset: start at the first at or after the span.
  let low = 0;
  let high = diagnostics.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (diagnostics[middle].offset < span.offset) low = middle + 1;
    else high = middle;
  }
  const out: string[] = [];
  for (let i = low; i < diagnostics.length && diagnostics[i].offset <= span.offset + span.length; i++) {
    const d = diagnostics[i];
    if (WINDOW_CODES.has(d.code) && d.offset + d.length <= span.offset + span.length)
      out.push(`${d.code}: ${d.message}`);
  }
  return out;
}

const round = (n: number) => Number(n.toPrecision(4));

function niftiLines(nifti: NiftiSummary): string[] {
  // RGB voxels have no numpy type of their own: nibabel reads them as records of three bytes.
  const voxels = nifti.datatype.startsWith('RGB') ? `${nifti.datatype} colours` : dtypeInWords(nifti.datatype);
  return [
    `Grid: ${nifti.shape.join(' × ')} voxels of ${nifti.voxelSize.map(round).join(' × ')} mm`,
    `Voxel values: ${voxels}${nifti.littleEndian ? '' : ', big-endian'}; NIfTI-${nifti.version}${nifti.compressed ? ', gzipped' : ''}`,
    nifti.scaling && !(nifti.scaling.slope === 1 && nifti.scaling.inter === 0)
      ? `Scaled on reading: value × ${nifti.scaling.slope} + ${nifti.scaling.inter}`
      : 'Read as stored (no scaling)',
  ];
}

function describePath(facts: PathFacts | undefined, kind: string): string[] {
  if (!facts) return [];
  if (!facts.resolved) return [`The ${kind} does not exist.`];
  const lines = [`Resolved: \`${facts.resolved}\`${isLegacyResolution(facts.how) ? ' (legacy path)' : ''}`];
  if (facts.error) lines.push(`Unreadable: ${facts.error}`);
  if (facts.nifti) lines.push(...niftiLines(facts.nifti));
  return lines;
}

function datasetHover(analysis: Extract<Analysis, { kind: 'arc-dataset-info' }>, offset: number): HoverResult | null {
  const { parsed, stats, facts } = analysis;
  for (const span of Object.values(parsed.keys)) {
    if (inside(offset, span))
      return {
        markdown: `**ARC dataset**\n\n${bullets(datasetReport(stats))}\n\n${foldsMarkdown(analysis)}`,
        span: span!,
      };
  }
  for (const sample of parsed.samples) {
    const title = `**Sample ${sample.index}${sample.subject ? ` — ${sample.subject.value}` : ''}${sample.acquisition ? ` (${sample.acquisition.value})` : ''}**`;
    const mask = facts.masks[sample.index];
    const counted = mask?.nifti?.positiveVoxels;
    const volumeLine = sample.volume
      ? `Lesion volume: recorded ${sample.volume.value.toLocaleString('en-US')}` +
        (counted === undefined
          ? ''
          : `, counted ${counted.toLocaleString('en-US')} voxels > 0${counted === sample.volume.value ? ' ✓' : ' ✗'}`)
      : undefined;
    if (inside(offset, sample.image))
      return {
        markdown: `${title} — T2w image\n\n${bullets(describePath(facts.images[sample.index], 'image'))}`,
        span: sample.image!,
      };
    if (inside(offset, sample.mask)) {
      // The volume (the number) first, the picture, then the file.
      const lines = sample.mask!.value === null ? ['No lesion mask for this sample.'] : volumeLine ? [volumeLine] : [];
      const preprocessing = facts.preprocessing[sample.index];
      if (preprocessing?.ok) lines.push(preprocessingLine(preprocessing.facts, analysis.resampleMethod));
      else if (preprocessing) lines.push(`preprocess_volume not modelled: ${preprocessing.error}`);
      const file = sample.mask!.value === null ? [] : describePath(mask, 'mask');
      const image = facts.images[sample.index];
      const picture: PictureRequest | undefined =
        mask?.nifti && image?.nifti && !mask.error && !image.error
          ? {
              kind: 'lesion',
              mask: mask.resolved!,
              image: image.resolved!,
              grid: mask.nifti.shape,
              voxelSize: mask.nifti.voxelSize,
              method: analysis.resampleMethod,
            }
          : undefined;
      const markdown = `${title} — lesion mask${lines.length ? `\n\n${bullets(lines)}` : ''}`;
      return { markdown, span: sample.mask!, picture, after: file.length ? bullets(file) : undefined };
    }
    if (inside(offset, sample.volume) && volumeLine) {
      const foldsLine = sampleFoldsLine(analysis.folds, sample.index);
      return {
        markdown: `${title}\n\n${bullets(foldsLine ? [volumeLine, foldsLine] : [volumeLine])}`,
        span: sample.volume!,
      };
    }
  }
  return null;
}

/** The nested cross-validation section of the dataset hover: heading, stratum × fold table, notes. */
function foldsMarkdown(analysis: Extract<Analysis, { kind: 'arc-dataset-info' }>): string {
  const report = foldsReport(
    analysis.folds,
    analysis.parsed.samples.map((s) => s.volume?.value),
  );
  const [heading, ...rest] = report.lines;
  return [
    `**${heading}**`,
    ...(rest.length ? [bullets(rest)] : []),
    ...(report.table ? [markdownTable(report.table)] : []),
    ...(report.notes.length ? [bullets(report.notes)] : []),
  ].join('\n\n');
}
