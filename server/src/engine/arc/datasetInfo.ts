/**
 * ARC `dataset_info.json` model: schema, path candidates (incl. legacy repo-root paths),
 * lesion-volume and shape checks against NIfTI facts, and the statistics a trainer needs.
 */
import { Node, parseTree, ParseError, printParseErrorCode } from 'jsonc-parser';
import { pythonConstantAt } from '../json/pythonJsonLoad';
import * as path from 'node:path';
import { Diagnostic, diagnostic, TextSpan } from '../diagnostics';
import { NiftiSummary } from './nifti';

export const LIST_KEYS = ['image_paths', 'mask_paths', 'lesion_volumes', 'acquisition_types', 'subject_ids'] as const;
export type ListKey = (typeof LIST_KEYS)[number];
export const ACQUISITIONS = ['space_2x', 'space_no_accel', 'turbo_spin_echo', 'unknown'] as const;
export const PAPER_COHORT = { total: 223, space_2x: 115, space_no_accel: 108 };

/** The paper-parity check (dataset_info statistics and `arc download --paper-parity` both use it). */
export function isPaperCohort(samples: number, acquisitions: Readonly<Record<string, number>>): boolean {
  return (
    samples === PAPER_COHORT.total &&
    (acquisitions.space_2x ?? 0) === PAPER_COHORT.space_2x &&
    (acquisitions.space_no_accel ?? 0) === PAPER_COHORT.space_no_accel
  );
}

export interface Item<T> extends TextSpan {
  value: T;
}

export interface DatasetSample {
  index: number;
  image?: Item<string>;
  mask?: Item<string | null>;
  volume?: Item<number>;
  acquisition?: Item<string>;
  subject?: Item<string>;
}

export interface ParsedDatasetInfo {
  /** False when the JSON is not an ARC dataset_info (no image_paths / mask_paths at the root). */
  isDatasetInfo: boolean;
  keys: Partial<Record<ListKey | 'num_samples', TextSpan>>;
  samples: DatasetSample[];
  schema: Diagnostic[];
}

const span = (node: Node): TextSpan => ({ offset: node.offset, length: node.length });

export function parseDatasetInfo(text: string): ParsedDatasetInfo {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });
  const keys: ParsedDatasetInfo['keys'] = {};
  const samples: DatasetSample[] = [];
  const schema: Diagnostic[] = [];
  const error = (where: TextSpan, message: string) =>
    schema.push(diagnostic(where, 'error', 'dataset-info-schema', message));
  // Python's json reads `1.0` and `1e3` as floats, which parse_dataset_info refuses where it wants an int.
  const isFloatLiteral = (n: Node) => /[.eE]/.test(text.slice(n.offset, n.offset + n.length));
  const isDatasetInfo =
    root?.type === 'object' &&
    !!root.children?.some((p) => ['image_paths', 'mask_paths'].includes(p.children?.[0]?.value));
  if (!isDatasetInfo || !root) return { isDatasetInfo: false, keys, samples, schema };
  let constantEnd = -1;
  for (const e of errors) {
    // NaN and Infinity load in Python (as floats); jsonc-parser reports them, the rest of them, and a missing value after them.
    const constant = e.offset < constantEnd ? undefined : pythonConstantAt(text, e.offset);
    if (constant) {
      error(
        { offset: e.offset, length: constant.length },
        `${constant} is a float to Python's json; not a valid value here.`,
      );
      constantEnd = e.offset + constant.length;
    } else if (!(e.offset < constantEnd || (constantEnd >= 0 && text.slice(constantEnd, e.offset).trim() === ''))) {
      error({ offset: e.offset, length: e.length }, `Invalid JSON (${printParseErrorCode(e.error)}).`);
    }
  }

  for (const property of root.children ?? []) {
    const [key] = property.children ?? [];
    if ((key && (LIST_KEYS as readonly string[]).includes(key.value)) || key?.value === 'num_samples')
      keys[key.value as ListKey] = span(key);
  }
  const missing = LIST_KEYS.filter((k) => !keys[k]);
  if (missing.length)
    error(span(root.children![0].children![0]), `Missing required ${missing.map((m) => `"${m}"`).join(', ')}.`);

  const lists = new Map<ListKey, Node>();
  for (const key of LIST_KEYS) {
    const node = lastValue(root, key);
    if (!node) continue;
    if (node.type !== 'array') error(span(node), `"${key}" must be a list.`);
    else lists.set(key, node);
  }
  const lengths = [...lists.entries()].map(([key, node]) => ({ key, length: node.children?.length ?? 0 }));
  const count = Math.max(0, ...lengths.map((l) => l.length));
  const expected = mostCommon(lengths.map((l) => l.length));
  for (const { key, length } of lengths) {
    if (length !== expected) {
      schema.push(
        diagnostic(
          keys[key]!,
          'error',
          'sample-count',
          `"${key}" has ${length} items but the other lists have ${expected}: every list needs one item per sample.`,
        ),
      );
    }
  }
  const numSamples = lastValue(root, 'num_samples');
  if (numSamples) {
    if (numSamples.type !== 'number' || !Number.isInteger(numSamples.value) || isFloatLiteral(numSamples))
      error(span(numSamples), '"num_samples" must be an integer.');
    else if (lengths.length && numSamples.value !== expected) {
      schema.push(
        diagnostic(
          span(numSamples),
          'error',
          'sample-count',
          `num_samples is ${numSamples.value} but the lists hold ${expected} samples.`,
        ),
      );
    }
  }

  const isString = (n: Node) => n.type === 'string';
  for (let index = 0; index < count; index++) {
    // The index-th item of a list when it has the right type; a schema error otherwise.
    const item = <T>(key: ListKey, accept: (n: Node) => boolean, message: string): Item<T> | undefined => {
      const node = lists.get(key)?.children?.[index];
      if (!node) return undefined;
      if (accept(node)) return { ...span(node), value: (node.value ?? null) as T };
      error(span(node), message);
      return undefined;
    };
    const sample: DatasetSample = {
      index,
      image: item('image_paths', isString, 'Image paths must be strings.'),
      mask: item('mask_paths', (n) => n.type === 'string' || n.type === 'null', 'Mask paths must be strings or null.'),
      volume: item(
        'lesion_volumes',
        (n) => n.type === 'number' && Number.isSafeInteger(n.value) && n.value >= 0 && !isFloatLiteral(n),
        'Lesion volumes must be non-negative integers (voxel counts) written without a decimal point or exponent: Python reads 1.0 as a float and arc-meshchop refuses it.',
      ),
      acquisition: item('acquisition_types', isString, 'Acquisition types must be strings.'),
      subject: item('subject_ids', isString, 'Subject ids must be strings.'),
    };
    samples.push(sample);
  }
  return { isDatasetInfo, keys, samples, schema };
}

/** `d[key]` of the root object: of duplicate keys Python's json keeps the last. */
function lastValue(root: Node, key: string): Node | undefined {
  const properties = root.children ?? [];
  for (let i = properties.length - 1; i >= 0; i--)
    if (properties[i].children?.[0]?.value === key) return properties[i].children?.[1];
  return undefined;
}

function mostCommon(values: number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = 0;
  let bestCount = 0;
  for (const [v, c] of counts) if (c > bestCount || (c === bestCount && v > best)) [best, bestCount] = [v, c];
  return best;
}

export type Resolution = 'absolute' | 'relative' | 'parent' | 'cwd';

/**
 * Where the trainer looks for a path, in order: absolute; next to dataset_info.json; next to
 * each of up to 5 parent directories (legacy repo-root paths like `data/arc/cache/...`); the
 * working directory.
 */
export function pathCandidates(value: string, infoDir: string, cwd: string): { path: string; how: Resolution }[] {
  if (path.isAbsolute(value)) return [{ path: path.normalize(value), how: 'absolute' }];
  const out: { path: string; how: Resolution }[] = [{ path: path.join(infoDir, value), how: 'relative' }];
  let dir = infoDir;
  for (let level = 0; level < 5; level++) {
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
    out.push({ path: path.join(dir, value), how: 'parent' });
  }
  out.push({ path: path.join(cwd, value), how: 'cwd' });
  return out;
}

/** A path found only via a parent folder or the working directory: it works, but only from there. */
export function isLegacyResolution(how: Resolution | undefined): boolean {
  return how === 'parent' || how === 'cwd';
}

/** `resolved` as dataset_info.json should name it: relative to its folder, with forward slashes. */
export function relativeToInfo(infoDir: string, resolved: string): string {
  return path.relative(infoDir, resolved).split(path.sep).join('/');
}

/** A path as the trainer resolved it; `resolved` is undefined when no candidate exists. */
export interface PathFacts {
  resolved?: string;
  how?: Resolution;
  nifti?: NiftiSummary;
  error?: string;
}

export interface DatasetCheckInput {
  images: (PathFacts | undefined)[];
  masks: (PathFacts | undefined)[];
  /** Directory of dataset_info.json, for the rewrite suggestion of legacy paths. */
  infoDir: string;
  /** Where the missing files of a mass failure were found again (by name), when they all were. */
  movedTo?: string;
}

/**
 * When most paths fail at once the file was moved, or the data was: one finding says so
 * instead of one error per path (214 errors in 8 files hide the cause). At least this many
 * paths, and this share of them missing.
 */
export const MASS_MISSING = { minPaths: 10, fraction: 0.9 } as const;

/** The path items that do not resolve, when they are a mass failure (see MASS_MISSING); else undefined. */
export function massMissing(
  parsed: ParsedDatasetInfo,
  images: (PathFacts | undefined)[],
  masks: (PathFacts | undefined)[],
): Item<string>[] | undefined {
  const checked: [Item<string>, PathFacts][] = [];
  for (const sample of parsed.samples) {
    const image = images[sample.index];
    const mask = masks[sample.index];
    if (sample.image && image) checked.push([sample.image, image]);
    if (sample.mask && sample.mask.value !== null && mask) checked.push([sample.mask as Item<string>, mask]);
  }
  const missing = checked.filter(([, facts]) => !facts.resolved).map(([item]) => item);
  return missing.length >= MASS_MISSING.minPaths && missing.length >= MASS_MISSING.fraction * checked.length
    ? missing
    : undefined;
}

function massMissingDiagnostic(
  parsed: ParsedDatasetInfo,
  missing: Item<string>[],
  input: DatasetCheckInput,
): Diagnostic {
  const total = parsed.samples.reduce(
    (n, s) =>
      n +
      (s.image && input.images[s.index] ? 1 : 0) +
      (s.mask && s.mask.value !== null && input.masks[s.index] ? 1 : 0),
    0,
  );
  const how =
    missing.length === total
      ? `None of the ${total.toLocaleString('en-US')} image and mask paths resolve`
      : `${missing.length.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} image and mask paths do not resolve`;
  const where = input.movedTo ? ` They are all under ${input.movedTo}: the quick fix rewrites the paths to them.` : '';
  const key = parsed.keys.image_paths ?? parsed.keys.mask_paths!;
  return diagnostic(
    key,
    'error',
    'missing-file',
    `${how}: was dataset_info.json moved, or the data? (Looked next to it, in 5 parent folders and the working directory; training stops at the first missing file.)${where}`,
  );
}

export function checkDatasetInfo(parsed: ParsedDatasetInfo, input: DatasetCheckInput): Diagnostic[] {
  const out: Diagnostic[] = [];
  const mass = massMissing(parsed, input.images, input.masks);
  if (mass) out.push(massMissingDiagnostic(parsed, mass, input));
  const collapsed = new Set(mass?.map((item) => item.offset));
  const seenImages = new Map<string, number>();
  for (const sample of parsed.samples) {
    const image = input.images[sample.index];
    const mask = input.masks[sample.index];
    if (sample.image && image) {
      if (!collapsed.has(sample.image.offset)) pathDiagnostics(sample.image, image, 'image', input.infoDir, out);
      const key = image.resolved ?? sample.image.value;
      const first = seenImages.get(key);
      if (first !== undefined)
        out.push(
          diagnostic(
            sample.image,
            'warning',
            'duplicate-sample',
            `Same image as sample ${first}: the sample is counted twice.`,
          ),
        );
      else seenImages.set(key, sample.index);
    }
    if (sample.mask && sample.mask.value === null) {
      // validate_masks_present raises on any null mask before train or experiment splits.
      const who = `Sample ${sample.index}${sample.subject ? ` (${sample.subject.value})` : ''}`;
      out.push(
        diagnostic(
          sample.mask,
          'error',
          'missing-mask',
          `${who} has no lesion mask: arc-meshchop train and experiment stop (validate_masks_present refuses null masks).`,
        ),
      );
    } else if (sample.mask && mask) {
      if (!collapsed.has(sample.mask.offset))
        pathDiagnostics(sample.mask as Item<string>, mask, 'mask', input.infoDir, out);
      const counted = mask.nifti?.positiveVoxels;
      if (sample.volume && counted !== undefined && counted !== sample.volume.value) {
        out.push(
          diagnostic(
            sample.volume,
            'error',
            'lesion-volume-mismatch',
            `Recorded lesion volume ${sample.volume.value} but the mask has ${counted} voxels > 0.`,
          ),
        );
      }
      const imageShape = image?.nifti?.shape.slice(0, 3);
      const maskShape = mask.nifti?.shape.slice(0, 3);
      if (imageShape && maskShape && imageShape.join('x') !== maskShape.join('x')) {
        out.push(
          diagnostic(
            sample.mask,
            'error',
            'shape-mismatch',
            `Mask is ${maskShape.join('×')} but its image is ${imageShape.join('×')}.`,
            mask.resolved,
          ),
        );
      }
    }
    if (sample.acquisition && !(ACQUISITIONS as readonly string[]).slice(0, 3).includes(sample.acquisition.value)) {
      out.push(
        diagnostic(
          sample.acquisition,
          'warning',
          'unknown-acquisition',
          `Acquisition "${sample.acquisition.value}" is not space_2x, space_no_accel or turbo_spin_echo: the paper cohort cannot include it.`,
        ),
      );
    }
  }
  return out;
}

function pathDiagnostics(item: Item<string>, facts: PathFacts, what: string, infoDir: string, out: Diagnostic[]): void {
  if (!facts.resolved) {
    out.push(
      diagnostic(
        item,
        'error',
        'missing-file',
        `The ${what} ${item.value} does not exist (looked next to dataset_info.json, in 5 parent folders and the working directory).`,
      ),
    );
    return;
  }
  if (facts.error)
    out.push(
      diagnostic(
        item,
        'error',
        'unreadable-nifti',
        `The ${what} cannot be read as NIfTI: ${facts.error}`,
        facts.resolved,
      ),
    );
  if (isLegacyResolution(facts.how)) {
    const relative = relativeToInfo(infoDir, facts.resolved);
    const where = facts.how === 'cwd' ? 'the working directory' : 'a parent folder';
    out.push(
      diagnostic(
        item,
        'warning',
        'legacy-path',
        `Resolved only relative to ${where}; relative to dataset_info.json it is "${relative}".`,
      ),
    );
  }
}

export interface Quartiles {
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
}

export interface DatasetStats {
  samples: number;
  acquisitions: Record<string, number>;
  withMask: number;
  lesionVolumes: Quartiles | null;
  subjects: number;
  paperParity: { matches: boolean; verdict: string };
}

/** numpy.percentile's default (linear) interpolation. */
export function percentile(sorted: number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

export function datasetStats(parsed: ParsedDatasetInfo): DatasetStats {
  const acquisitions: Record<string, number> = {};
  const volumes: number[] = [];
  let withMask = 0;
  for (const s of parsed.samples) {
    const a = s.acquisition?.value ?? 'unknown';
    acquisitions[a] = (acquisitions[a] ?? 0) + 1;
    if (s.mask?.value) withMask++;
    if (s.volume && s.mask?.value) volumes.push(s.volume.value);
  }
  volumes.sort((a, b) => a - b);
  const samples = parsed.samples.length;
  const space2x = acquisitions.space_2x ?? 0;
  const noAccel = acquisitions.space_no_accel ?? 0;
  const others = samples - space2x - noAccel;
  const matches = isPaperCohort(samples, acquisitions);
  const verdict = matches
    ? `Matches the paper cohort: ${PAPER_COHORT.total} = ${PAPER_COHORT.space_2x} SPACE 2x + ${PAPER_COHORT.space_no_accel} SPACE no-accel.`
    : `Not the paper cohort (${PAPER_COHORT.total} = ${PAPER_COHORT.space_2x} SPACE 2x + ${PAPER_COHORT.space_no_accel} SPACE no-accel): ` +
      `${samples} samples = ${space2x} SPACE 2x + ${noAccel} SPACE no-accel${others ? ` + ${others} other` : ''}.`;
  return {
    samples,
    acquisitions,
    withMask,
    lesionVolumes: volumes.length
      ? {
          min: volumes[0],
          q1: percentile(volumes, 0.25),
          median: percentile(volumes, 0.5),
          q3: percentile(volumes, 0.75),
          max: volumes[volumes.length - 1],
        }
      : null,
    subjects: new Set(parsed.samples.map((s) => s.subject?.value).filter(Boolean)).size,
    paperParity: { matches, verdict },
  };
}
