/**
 * Diagnostics about what preprocess_volume makes of a sample (facts from preprocessSample.ts),
 * on the sample's mask path. The method training uses (the setting, `--resample-method`)
 * decides the severity: what happens under it is an error, what happens only under the other
 * method a warning (a run with the other flag would meet it). Header differences training
 * ignores are warnings whatever the method.
 */
import { Diagnostic, diagnostic } from '../diagnostics';
import type { DatasetSample, Item } from './datasetInfo';
import { PreprocessingFacts, GEOMETRY_ATOL, GEOMETRY_RTOL } from './preprocessSample';
import { RESAMPLE_METHODS, ResampleMethod, TARGET_SIZE } from './preprocessing';

/**
 * "Far fewer": the preprocessed mask keeps less than half of the lesion's volume (in 1 mm
 * voxels, what the box does not crop). Nearest-neighbour resampling of a lesion several voxels
 * across keeps its volume within a few percent; losing half happens only to lesions about one
 * output voxel thick, where whole slices of the lesion fall between the sampled positions.
 */
export const LOST_FRACTION = 0.5;

function kept(n: number, of: number): string {
  return `${n.toLocaleString('en-US')} of ${of.toLocaleString('en-US')}`;
}

const round = (x: number, digits = 1) => Number(x.toFixed(digits));

/** The methods where something happens, in the order training's method first. */
function methodsWhere(training: ResampleMethod, happens: (m: ResampleMethod) => boolean): ResampleMethod[] {
  return [training, ...RESAMPLE_METHODS.filter((m) => m !== training)].filter(happens);
}

function severityFor(methods: ResampleMethod[], training: ResampleMethod) {
  return methods.includes(training) ? 'error' : 'warning';
}

function forMethods(methods: ResampleMethod[], training: ResampleMethod): string {
  return methods.map((m) => (m === training ? `${m} (training's method)` : m)).join(' and ');
}

export function preprocessingDiagnostics(
  sample: DatasetSample,
  facts: PreprocessingFacts,
  training: ResampleMethod,
): Diagnostic[] {
  const item = sample.mask as Item<string> | undefined;
  if (!item) return [];
  const out: Diagnostic[] = [];
  const cropped = methodsWhere(training, (m) => facts.croppedVoxels[m] > 0);
  if (cropped.length) {
    const parts = cropped.map(
      (m) => `${m} ${kept(facts.croppedVoxels[m], facts.croppedVoxels[m] + facts.lesionVoxels[m])}`,
    );
    out.push(
      diagnostic(
        item,
        severityFor(cropped, training),
        'lesion-cropped',
        `Lesion voxels fall outside the ${TARGET_SIZE} mm box preprocess_volume crops to (${parts.join('; ')} 1 mm lesion voxels): training never sees them and learns the cut edge as background.`,
      ),
    );
  }
  const expected = (m: ResampleMethod) => facts.lesionVolumeMm3 - facts.croppedVoxels[m];
  const lost = methodsWhere(
    training,
    (m) =>
      facts.originalVoxels > 0 && (facts.lesionVoxels[m] === 0 || facts.lesionVoxels[m] < LOST_FRACTION * expected(m)),
  );
  if (lost.length) {
    const parts = lost.map((m) => `${m} keeps ${facts.lesionVoxels[m].toLocaleString('en-US')}`);
    out.push(
      diagnostic(
        item,
        severityFor(lost, training),
        'lesion-lost-in-resampling',
        `Resampling to 1 mm loses the lesion: ${facts.originalVoxels.toLocaleString('en-US')} mask voxels (${round(facts.lesionVolumeMm3)} mm³) become ${parts.join(', ')}: ` +
          `the sample trains as ${lost.some((m) => facts.lesionVoxels[m] === 0) ? 'lesion-free' : 'a much smaller lesion'}.`,
      ),
    );
  }
  const moved = methodsWhere(training, (m) => facts.moved[m] !== undefined);
  if (moved.length) {
    const parts = moved.map((m) => {
      const d = facts.moved[m]!;
      const how =
        m === 'scipy_zoom'
          ? 'resamples the mask by its own voxel sizes, ignoring origins'
          : 'places the mask by its header';
      const against =
        d.against === 'image-grid' ? "the mask's voxels on the image's grid" : "where the mask's header puts it";
      return `${m} ${how}: ${round(d.shiftMm)} mm away from ${against}, Dice ${d.dice === null ? 'n/a' : round(d.dice, 3)}`;
    });
    out.push(
      diagnostic(
        item,
        severityFor(moved, training),
        'mask-image-misaligned',
        `The mask's header disagrees with its image's (${facts.headerDifferences.join('; ') || 'voxel grids'}) and moves the lesion relative to the image: ${parts.join('; ')}. ` +
          `Training with ${forMethods(moved, training)} learns the lesion in the wrong place.`,
      ),
    );
  } else if (facts.headerDifferences.length) {
    out.push(
      diagnostic(
        item,
        'warning',
        'geometry-mismatch',
        `The mask's header differs from its image's beyond nnU-Net's tolerances (rtol ${GEOMETRY_RTOL}, atol ${GEOMETRY_ATOL}): ${facts.headerDifferences.join('; ')}. ` +
          `preprocess_volume ignores it (the lesion moves less than 1 mm in either method); nnU-Net's verify_dataset_integrity would refuse the case.`,
      ),
    );
  }
  return out;
}

export interface PreprocessingSummary {
  samples: number;
  /** Samples with each finding under training's method, and under either. */
  affected: Record<
    'lesion-cropped' | 'lesion-lost-in-resampling' | 'mask-image-misaligned' | 'geometry-mismatch',
    { trainingMethod: number; anyMethod: number }
  >;
  /** Samples the model could not compute (unreadable or non-3-D files), with the reason. */
  failed: { index: number; error: string }[];
}

export function summarizePreprocessing(
  rows: { sample: DatasetSample; facts?: PreprocessingFacts; error?: string }[],
  training: ResampleMethod,
): PreprocessingSummary {
  const affected: PreprocessingSummary['affected'] = {
    'lesion-cropped': { trainingMethod: 0, anyMethod: 0 },
    'lesion-lost-in-resampling': { trainingMethod: 0, anyMethod: 0 },
    'mask-image-misaligned': { trainingMethod: 0, anyMethod: 0 },
    'geometry-mismatch': { trainingMethod: 0, anyMethod: 0 },
  };
  const failed: PreprocessingSummary['failed'] = [];
  for (const row of rows) {
    if (!row.facts) {
      if (row.error) failed.push({ index: row.sample.index, error: row.error });
      continue;
    }
    for (const d of preprocessingDiagnostics(row.sample, row.facts, training)) {
      const code = d.code as keyof typeof affected;
      affected[code].anyMethod++;
      if (d.severity === 'error' || code === 'geometry-mismatch') affected[code].trainingMethod++;
    }
  }
  return { samples: rows.filter((r) => r.facts).length, affected, failed };
}
