/**
 * What a JSON document is: one of the three formats (parsed), one of them that Python's
 * json.load cannot read, or unrelated; from its text, and from its name and place only when
 * the text cannot tell.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ParsedDatasetInfo, parseDatasetInfo } from '../engine/arc/datasetInfo';
import { Diagnostic, TextSpan } from '../engine/diagnostics';
import { ParsedDatasetIndex, parseDatasetIndex } from '../engine/eeg/datasetIndex';
import { ParsedManifest, parseManifest, parsePlainManifest } from '../engine/eeg/manifestParse';
import { FORMAT_FILE_NAMES, invalidJsonDiagnostic, JsonFormat } from '../engine/invalidJson';
import { PythonJsonError, pythonJsonError } from '../engine/json/pythonJsonLoad';
import { statOrUndefined } from './inspector';

export type DocumentKind = JsonFormat | 'unrelated';

/** What a document is, from its text (and its name and place when the text cannot tell). */
export type Structure =
  | { kind: 'seizure-manifest'; parsed: ParsedManifest }
  | { kind: 'arc-dataset-info'; parsed: ParsedDatasetInfo }
  | { kind: 'eeg-dataset-index'; parsed: ParsedDatasetIndex }
  /** One of ours that Python's json.load cannot read: the error, its diagnostic, and where the format's keys are. */
  | { kind: 'invalid-json'; format: JsonFormat; error: PythonJsonError; diagnostic: Diagnostic; keySpans: TextSpan[] }
  /** `undecided`: named like one of ours, unreadable, and nothing in it says what it is: where it sits decides. */
  | { kind: 'unrelated'; undecided?: JsonFormat };

const CONTENT_KEYS: [JsonFormat, RegExp][] = [
  ['seizure-manifest', /"(partial_seizure|full_seizure|no_seizure)"\s*:/g],
  ['arc-dataset-info', /"(image_paths|mask_paths)"\s*:/g],
  ['eeg-dataset-index', /"(window_counts)"\s*:/g],
];

/** The format the text names its keys of (an index by `files` only under its own name). */
function formatByContent(text: string, named: JsonFormat | undefined): JsonFormat | undefined {
  const found = CONTENT_KEYS.find(([, keys]) => new RegExp(keys.source).test(text))?.[0];
  if (found) return found;
  return named === 'eeg-dataset-index' && /"files"\s*:/.test(text) ? named : undefined;
}

/**
 * Structure only, straight from the text: what an editor shows before any file is touched.
 * `name` is the file's base name; `ours` says the name alone makes it ours (an explicit
 * `neurocache check`, or a file that sits in a cache directory).
 */
export function analyzeText(
  text: string,
  options: { name?: string; ours?: boolean; decodeError?: PythonJsonError } = {},
): Structure {
  const named = options.name ? FORMAT_FILE_NAMES[options.name] : undefined;
  const byContent = formatByContent(text, named);
  // Plain valid JSON (strict, no BOM, at most 256 deep: fastJson.ts) is a text json.loads reads,
  // whose only errors beyond strict JSON's are NaN-like words it accepts and nesting past 994
  // levels (fast-json.test.ts holds this against pythonJsonError): a manifest the fast parser
  // takes needs no second scan for Python's error (~0.6 s of an 88 MB manifest's first check).
  if (!options.decodeError && byContent === 'seizure-manifest') {
    const plain = parsePlainManifest(text);
    if (plain) return plain.isManifest ? { kind: 'seizure-manifest', parsed: plain } : { kind: 'unrelated' };
  }
  const error = options.decodeError ?? pythonJsonError(text);
  if (error) {
    const format = byContent ?? (options.ours ? named : undefined);
    if (!format) return { kind: 'unrelated', undecided: named };
    const keys = CONTENT_KEYS.find(([f]) => f === format)?.[1];
    const keySpans = keys
      ? [...text.matchAll(new RegExp(keys.source, 'g'))].map((m) => ({ offset: m.index!, length: m[1].length + 2 }))
      : [];
    return { kind: 'invalid-json', format, error, diagnostic: invalidJsonDiagnostic(format, error, text), keySpans };
  }
  // A cheap look at the root keys decides which parser runs; each format names its keys early.
  if (byContent === 'seizure-manifest') {
    const manifest = parseManifest(text);
    if (manifest.isManifest) return { kind: 'seizure-manifest', parsed: manifest };
  }
  if (byContent === 'arc-dataset-info') {
    const datasetInfo = parseDatasetInfo(text);
    if (datasetInfo.isDatasetInfo) return { kind: 'arc-dataset-info', parsed: datasetInfo };
  }
  if (byContent === 'eeg-dataset-index') {
    const datasetIndex = parseDatasetIndex(text, named === 'eeg-dataset-index');
    if (datasetIndex.isDatasetIndex) return { kind: 'eeg-dataset-index', parsed: datasetIndex };
  }
  return { kind: 'unrelated' };
}

/** Whether a file named like one of ours sits where such files live: next to *.npz caches (EEG) or a cache/nifti_cache folder (ARC). */
export async function locatedLikeOurs(file: string, format: JsonFormat): Promise<boolean> {
  const directory = path.dirname(path.resolve(file));
  if (format === 'arc-dataset-info')
    return (await statOrUndefined(path.join(directory, 'cache', 'nifti_cache')))?.isDirectory() ?? false;
  try {
    // Stops at the first cache file: a data directory can hold millions of entries.
    for await (const entry of await fs.opendir(directory)) if (entry.name.endsWith('.npz')) return true;
  } catch {
    // An unreadable directory says nothing.
  }
  return false;
}

/** The structure of a file's text, asking where it sits only when the text cannot tell. `explicit`: named by the user. */
export async function detectDocument(
  file: string,
  text: string,
  options: { explicit?: boolean; decodeError?: PythonJsonError } = {},
): Promise<Structure> {
  const name = path.basename(file);
  const structure = analyzeText(text, { name, ours: options.explicit, decodeError: options.decodeError });
  if (
    structure.kind !== 'unrelated' ||
    !structure.undecided ||
    options.explicit ||
    !(await locatedLikeOurs(file, structure.undecided))
  )
    return structure;
  return analyzeText(text, { name, ours: true, decodeError: options.decodeError });
}
