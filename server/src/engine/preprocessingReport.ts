/**
 * `stats --preprocessing`: per sample what preprocess_volume makes of its mask (the SPEC §2 JSON
 * and a text table), and the cohort summary of samples per finding. The hover reuses the lines.
 */
import type { Table } from './report';
import type { DatasetSample } from './arc/datasetInfo';
import { preprocessingDiagnostics, summarizePreprocessing, PreprocessingSummary } from './arc/preprocessingFindings';
import type { PreprocessingFacts, PreprocessingOutcome } from './arc/preprocessSample';
import { RESAMPLE_METHODS, ResampleMethod } from './arc/preprocessing';

export interface PreprocessingSampleJson {
  index: number;
  lesionVoxels?: Record<ResampleMethod, number>;
  croppedVoxels?: Record<ResampleMethod, number>;
  diceBetweenMethods?: number | null;
  /** The codes of this sample's findings under training's method setting. */
  findings?: string[];
  /** Why the model has no numbers for this sample (no mask, unreadable, not 3-D). */
  error?: string;
}

export interface PreprocessingJson {
  resampleMethod: ResampleMethod;
  samples: PreprocessingSampleJson[];
  summary: PreprocessingSummary;
}

function rowsOf(samples: DatasetSample[], outcomes: readonly (PreprocessingOutcome | undefined)[]) {
  return samples.map((sample) => {
    const o = outcomes[sample.index];
    return {
      sample,
      facts: o?.ok ? o.facts : undefined,
      error: o ? (o.ok ? undefined : o.error) : 'no readable mask and image',
    };
  });
}

export function preprocessingJson(
  samples: DatasetSample[],
  outcomes: readonly (PreprocessingOutcome | undefined)[],
  method: ResampleMethod,
): PreprocessingJson {
  const rows = rowsOf(samples, outcomes);
  return {
    resampleMethod: method,
    samples: rows.map(({ sample, facts, error }) =>
      facts
        ? {
            index: sample.index,
            lesionVoxels: facts.lesionVoxels,
            croppedVoxels: facts.croppedVoxels,
            diceBetweenMethods: facts.diceBetweenMethods,
            findings: preprocessingDiagnostics(sample, facts, method).map((d) => d.code),
          }
        : { index: sample.index, error },
    ),
    summary: summarizePreprocessing(rows, method),
  };
}

const count = (n: number) => n.toLocaleString('en-US');
const diceText = (d: number | null) => (d === null ? '—' : d.toFixed(3));

/** One sample's numbers in a sentence, for the hover. */
export function preprocessingLine(facts: PreprocessingFacts, method: ResampleMethod): string {
  const per = RESAMPLE_METHODS.map(
    (m) =>
      `${m}${m === method ? ' (training)' : ''} ${count(facts.lesionVoxels[m])}${facts.croppedVoxels[m] ? ` (${count(facts.croppedVoxels[m])} cropped)` : ''}`,
  );
  return `After preprocess_volume (256³, 1 mm): ${per.join(', ')} lesion voxels of ${count(facts.originalVoxels)} in the mask; Dice between the methods ${diceText(facts.diceBetweenMethods)}.`;
}

export function preprocessingReport(
  json: PreprocessingJson,
  subjects: (string | undefined)[],
): { lines: string[]; table: Table; notes: string[] } {
  const table: Table = [
    ['Sample', 'Subject', 'scipy_zoom', 'cropped', 'nibabel_conform', 'cropped', 'Dice', 'Findings'],
  ];
  for (const s of json.samples) {
    if (s.error) {
      table.push([String(s.index), subjects[s.index] ?? '', '—', '', '—', '', '', s.error]);
      continue;
    }
    table.push([
      String(s.index),
      subjects[s.index] ?? '',
      count(s.lesionVoxels!.scipy_zoom),
      count(s.croppedVoxels!.scipy_zoom),
      count(s.lesionVoxels!.nibabel_conform),
      count(s.croppedVoxels!.nibabel_conform),
      diceText(s.diceBetweenMethods!),
      (s.findings ?? []).join(', '),
    ]);
  }
  const lines = [
    `What preprocess_volume makes of each mask (256³ at 1 mm; training uses --resample-method ${json.resampleMethod}):`,
  ];
  const notes = [
    `Samples with each finding (under ${json.resampleMethod} / under either method), of ${json.summary.samples} modelled:`,
    ...Object.entries(json.summary.affected).map(([code, n]) => `  ${code}: ${n.trainingMethod} / ${n.anyMethod}`),
    ...(json.summary.failed.length ? [`${json.summary.failed.length} sample(s) not modelled (see the table).`] : []),
  ];
  return { lines, table, notes };
}
