/**
 * Fixes for just the entry or sample a diagnostic is about (next to the whole-file commands),
 * and the fixes safe to apply without review (`source.fixAll`, fix-on-save). Both are text
 * edits computed from an analysis of the current text: what the data on disk says, never the
 * wording of a message.
 */
import * as path from 'node:path';
import { legacyPathEdit, legacyPathEdits, lesionVolumeEdit, lesionVolumeEdits } from '../engine/arc/fixes';
import { relativeToInfo } from '../engine/arc/datasetInfo';
import type { DiagnosticCode } from '../engine/diagnostics';
import { CATEGORIES } from '../engine/eeg/category';
import { dropEntryEdit, moveEntryEdits, windowCountEdit } from '../engine/eeg/fixes';
import { categoryOf } from '../engine/eeg/npz';
import type { TextEdit } from '../engine/json/edits';
import { plural } from '../engine/report';
import type { Analysis } from './analyze';
import { entryAt } from './hover';

export interface EntryFix {
  title: string;
  edits: TextEdit[];
  /** Safe and the obvious choice: VS Code's "auto fix" may apply it. */
  preferred: boolean;
}

type ManifestAnalysis = Extract<Analysis, { kind: 'seizure-manifest' }>;
type DatasetAnalysis = Extract<Analysis, { kind: 'arc-dataset-info' }>;
type IndexAnalysis = Extract<Analysis, { kind: 'eeg-dataset-index' }>;

const inside = (offset: number, span: { offset: number; length: number } | undefined) =>
  !!span && offset >= span.offset && offset <= span.offset + span.length;

/** The fixes for the one entry or sample that a `code` diagnostic starting at `offset` is about. */
export function entryFixes(analysis: Analysis, text: string, code: DiagnosticCode, offset: number): EntryFix[] {
  if (analysis.kind === 'seizure-manifest') return manifestEntryFixes(analysis, text, code, offset);
  if (analysis.kind === 'arc-dataset-info') return sampleFixes(analysis, code, offset);
  if (analysis.kind === 'eeg-dataset-index') return indexEntryFixes(analysis, code, offset);
  return [];
}

function indexEntryFixes(analysis: IndexAnalysis, code: DiagnosticCode, offset: number): EntryFix[] {
  if (code !== 'index-window-count') return [];
  const k = analysis.parsed.files.findIndex((f) => inside(offset, f.countSpan) || inside(offset, f.span));
  const edit = k < 0 ? undefined : windowCountEdit(analysis.parsed, k, analysis.facts[k]);
  return edit
    ? [
        {
          title: `Set this count to ${edit.newText} (the windows in ${analysis.parsed.files[k].cacheFile})`,
          edits: [edit],
          preferred: true,
        },
      ]
    : [];
}

function manifestEntryFixes(
  analysis: ManifestAnalysis,
  text: string,
  code: DiagnosticCode,
  offset: number,
): EntryFix[] {
  const { parsed, facts } = analysis;
  const i = entryAt(parsed, offset);
  if (i < 0) return [];
  const { entries } = parsed;
  const file = facts[entries.file.at(i)];
  const window = entries.window.at(i);
  const drop = (title: string): EntryFix[] => [{ title, edits: [dropEntryEdit(text, entries, i)], preferred: false }];
  switch (code) {
    case 'missing-cache-file':
      return file && !file.exists ? drop('Drop this entry (its cache file is missing)') : [];
    case 'no-labels':
      // What a rebuild does: the builder leaves files without labels out.
      return file?.summary && !file.summary.hasLabels ? drop('Drop this entry (its cache file has no labels)') : [];
    case 'unreadable-cache-file':
      return file?.exists && file.error ? drop('Drop this entry (its cache file cannot be read)') : [];
    case 'window-out-of-range':
      return file?.summary && window >= file.summary.windowCount
        ? drop(`Drop this entry (the file has ${plural(file.summary.windowCount, 'window')})`)
        : [];
    case 'duplicate-entry':
      return drop('Drop this duplicate entry');
    case 'category-mismatch': {
      const summary = file?.summary;
      if (!summary || !(window < summary.windowCount)) return [];
      const actual = categoryOf(summary, window);
      const edits = actual === CATEGORIES[entries.category.at(i)] ? undefined : moveEntryEdits(text, parsed, i, actual);
      return edits ? [{ title: `Move this entry to ${actual}`, edits, preferred: true }] : [];
    }
    default:
      return [];
  }
}

function sampleFixes(analysis: DatasetAnalysis, code: DiagnosticCode, offset: number): EntryFix[] {
  const { parsed, facts, directory } = analysis;
  // The mass failure's one finding: every missing path pointed at its file, found again by name.
  if (code === 'missing-file' && analysis.moved && inside(offset, parsed.keys.image_paths ?? parsed.keys.mask_paths)) {
    const { edits, folder } = analysis.moved;
    return [
      { title: `Rewrite ${plural(edits.length, 'path')} to the files found under ${folder}`, edits, preferred: true },
    ];
  }
  for (const sample of parsed.samples) {
    if (code === 'lesion-volume-mismatch' && inside(offset, sample.volume)) {
      const counted = facts.masks[sample.index]?.nifti?.positiveVoxels;
      const edit = lesionVolumeEdit(sample.volume, counted);
      return edit
        ? [{ title: `Set this lesion volume to ${counted} (the mask's voxels > 0)`, edits: [edit], preferred: true }]
        : [];
    }
    if (code === 'legacy-path') {
      const [item, pathFacts] = inside(offset, sample.image)
        ? [sample.image, facts.images[sample.index]]
        : inside(offset, sample.mask)
          ? [sample.mask, facts.masks[sample.index]]
          : [];
      const edit = legacyPathEdit(item, pathFacts, directory);
      if (edit)
        return [
          {
            title: `Rewrite this path as "${relativeToInfo(directory, pathFacts!.resolved!)}"`,
            edits: [edit],
            preferred: true,
          },
        ];
      if (item) return [];
    }
  }
  return [];
}

/** Whether a document of this kind can have fixes safe on save (see safeFixes). */
export function mayHaveSafeFixes(kind: Analysis['kind']): boolean {
  return kind === 'arc-dataset-info' || kind === 'eeg-dataset-index';
}

/**
 * What fix-on-save may change without a person looking: only edits that make the file say
 * what the data it names says, and that remove nothing. For dataset_info.json: recorded
 * lesion volumes set to the masks' counts, and legacy paths rewritten relative to the file
 * (the same files); for _dataset_index.json: window counts set to what each cache holds. Never: dropping manifest entries (a missing file may be on a volume that is
 * not mounted; a duplicate may be deliberate), rebuilding a manifest (it rereads the cache and
 * rewrites every entry), or moving entries between categories (it changes which windows
 * training picks; offered per entry instead).
 */
export function safeFixes(analysis: Analysis): TextEdit[] {
  if (!mayHaveSafeFixes(analysis.kind)) return [];
  if (analysis.kind === 'eeg-dataset-index') {
    return analysis.parsed.files.flatMap((_, k) => windowCountEdit(analysis.parsed, k, analysis.facts[k]) ?? []);
  }
  const { parsed, facts, directory } = analysis as DatasetAnalysis;
  return [
    ...lesionVolumeEdits(
      parsed,
      facts.masks.map((m) => m?.nifti?.positiveVoxels),
    ),
    ...legacyPathEdits(parsed, facts.images, facts.masks, path.resolve(directory)),
  ];
}
