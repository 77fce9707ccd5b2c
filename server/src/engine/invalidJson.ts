/**
 * The three JSON files NeuroCache checks, and what their Python consumers do with one that
 * `json.load` cannot read (checked against the upstream source: brain-go-brr-v2
 * train/loop.py and datasets.py, arc-meshchop cli.py).
 */
import { Diagnostic, diagnostic } from './diagnostics';
import type { PythonJsonError } from './json/pythonJsonLoad';
import { CHECKED_FILE_NAMES } from '../protocol';

export type JsonFormat = keyof typeof CHECKED_FILE_NAMES;

/** The format of each file name on disk. */
export const FORMAT_FILE_NAMES: Record<string, JsonFormat> = Object.fromEntries(
  Object.entries(CHECKED_FILE_NAMES).map(([format, name]) => [name, format as JsonFormat]),
);

export const FORMAT_TITLES: Record<JsonFormat, string> = {
  'seizure-manifest': 'Seizure manifest',
  'eeg-dataset-index': 'EEG dataset index',
  'arc-dataset-info': 'ARC dataset info',
};

/** What training does with a file of this format that Python's json.load cannot read. */
export const UNREADABLE_CONSEQUENCE: Record<JsonFormat, string> = {
  'seizure-manifest':
    'The training loop (train/loop.py) deletes a manifest.json it cannot read and rescans every cache file to build a new one; a BalancedSeizureDataset opened on it directly raises.',
  'eeg-dataset-index':
    'EEGWindowDataset ignores it ("Could not load cached index"), opens every cache file again to count its windows, and rewrites it.',
  'arc-dataset-info': 'arc-meshchop train and evaluate (and experiment --paper-parity) stop with this error.',
};

/** The `invalid-json` diagnostic at Python's error position, saying what training does with the file. */
export function invalidJsonDiagnostic(format: JsonFormat, error: PythonJsonError, text: string): Diagnostic {
  const exception = error.exception === 'json.JSONDecodeError' ? 'json.JSONDecodeError' : error.exception;
  const span = { offset: error.offset, length: error.offset < text.length ? 1 : 0 };
  return diagnostic(
    span,
    'error',
    'invalid-json',
    `Python's json.load raises ${exception}: ${error.message}. ${UNREADABLE_CONSEQUENCE[format]}`,
  );
}
