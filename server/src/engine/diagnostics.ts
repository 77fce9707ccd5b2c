/**
 * Diagnostics as the engine produces them: on character offsets into the JSON text. Adapters
 * turn offsets into LSP positions (UTF-16 line/character) or CLI `path:line:col`.
 */
export type Severity = 'error' | 'warning' | 'information' | 'hint';

/** Every code the engine emits (docs/diagnostics.md has a section for each); users filter on them. */
export const DIAGNOSTIC_CODES = [
  'manifest-schema',
  'missing-cache-file',
  'unreadable-cache-file',
  'window-out-of-range',
  'duplicate-entry',
  'category-mismatch',
  'unreferenced-cache-file',
  'stale-manifest',
  'no-partial-windows',
  'low-seizure-ratio',
  'cache-file-stops-build',
  'no-labels',
  'unsupported-cache-file',
  'invalid-json',
  'dataset-index-schema',
  'index-window-count',
  'index-missing-cache-file',
  'dataset-info-schema',
  'missing-file',
  'unreadable-nifti',
  'legacy-path',
  'missing-mask',
  'lesion-volume-mismatch',
  'shape-mismatch',
  'unknown-acquisition',
  'duplicate-sample',
  'sample-count',
  'cv-small-stratum',
  'cv-split-fails',
  'windows-labels-count',
  'window-shape',
  'non-finite-windows',
  'unclipped-windows',
  'lesion-cropped',
  'lesion-lost-in-resampling',
  'mask-image-misaligned',
  'geometry-mismatch',
] as const;

export type DiagnosticCode = (typeof DIAGNOSTIC_CODES)[number];

export interface Diagnostic {
  offset: number;
  length: number;
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  /**
   * The data file the finding is about: a cache file's bare name (in the manifest's directory) or a
   * NIfTI file's resolved path. Lets the editor badge that file in the Explorer and offer to reveal it.
   */
  file?: string;
}

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** Maps offsets to 0-based line/character; built once per text. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  position(offset: number): Position {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.starts[middle] <= offset) low = middle;
      else high = middle - 1;
    }
    return { line: low, character: offset - this.starts[low] };
  }

  range(offset: number, length: number): Range {
    return { start: this.position(offset), end: this.position(offset + length) };
  }
}

/** A JSON value's place in the text. */
export interface TextSpan {
  offset: number;
  length: number;
}

export function diagnostic(
  span: TextSpan,
  severity: Severity,
  code: DiagnosticCode,
  message: string,
  file?: string,
): Diagnostic {
  // Built field by field: a manifest may hold a million of these, and a spread costs an object each.
  const made: Diagnostic = { offset: span.offset, length: span.length, severity, code, message };
  if (file !== undefined) made.file = file;
  return made;
}

export const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, information: 2, hint: 3 };
