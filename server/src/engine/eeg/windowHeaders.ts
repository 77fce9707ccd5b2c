/**
 * What training reads from each cache file, checked from the `.npy` headers the summary
 * already holds (no extra bytes): `windows.shape[0]` against the label rows the manifest is
 * built from, and each file's `(channels, samples)` against the rest of the cache (SPEC §1.2c).
 *
 * `BalancedSeizureDataset.__getitem__` reads `windows[w_idx]` for a `w_idx` taken from
 * `labels` rows, and the DataLoader stacks windows into batches: a file with fewer windows than
 * label rows raises IndexError mid-epoch, one with more has windows no entry lists, and a file
 * of another shape fails `torch.stack` on the first batch that mixes it with the others.
 */
import type { Diagnostic, Severity } from '../diagnostics';
import { fileSpan, windowSpan } from './manifestEntries';
import { diagnostic } from '../diagnostics';
import type { NpzSummary } from './npz';
import type { CacheFileFacts } from './manifestCheck';
import type { ParsedManifest } from './manifestParse';
import { fileAnchors } from './fileAnchor';

export type WindowHeaderCode = 'windows-labels-count' | 'window-shape';

/** A finding about one file as a whole (the build's report; root-key diagnostics). */
export interface WindowHeaderFinding {
  name: string;
  code: WindowHeaderCode;
  severity: Severity;
  message: string;
}

/** One window's `(channels, samples)`: `windows.shape[1:]`. */
const windowShape = (summary: NpzSummary): number[] | undefined =>
  summary.windowsShape && summary.windowsShape.length >= 2 && !summary.windowsError
    ? summary.windowsShape.slice(1)
    : undefined;

const shapeText = (shape: number[]) => shape.join(' × ');

/**
 * The cache's window shape: the `(channels, samples)` of the most files whose `windows` header
 * reads; a tie goes to the shape of the first such file in `files`' order (the builder's, by
 * name). Undefined when no file has one.
 */
export interface CacheShape {
  shape: number[];
  files: number;
  of: number;
}

export function cacheWindowShape(files: { name: string; summary?: NpzSummary }[]): CacheShape | undefined {
  const counts = new Map<string, { shape: number[]; files: number; first: number }>();
  let of = 0;
  files.forEach(({ summary }, i) => {
    const shape = summary && windowShape(summary);
    if (!shape) return;
    of++;
    const key = shape.join(',');
    const known = counts.get(key);
    if (known) known.files++;
    else counts.set(key, { shape, files: 1, first: i });
  });
  let best: { shape: number[]; files: number; first: number } | undefined;
  for (const candidate of counts.values()) {
    if (!best || candidate.files > best.files || (candidate.files === best.files && candidate.first < best.first))
      best = candidate;
  }
  return best && { shape: best.shape, files: best.files, of };
}

/** Windows one file has beyond its label rows, or label rows beyond its windows. */
function counts(summary: NpzSummary): { windows: number; labelRows: number } | undefined {
  if (!summary.hasLabels || !summary.labelsShape || !summary.windowsShape?.length || summary.windowsError)
    return undefined;
  return { windows: summary.windowsShape[0], labelRows: summary.labelsShape[0] };
}

const windowRange = (from: number, to: number) => (to - from === 1 ? `window ${from}` : `windows ${from}–${to - 1}`);

/**
 * Whole-file findings for one file: windows no label row lists (never trained), a shape unlike
 * the cache's, labels of another length than the windows. `listsMissing` adds the error for
 * label rows without a window (the build lists them; a check reports them on the entries).
 */
export function fileWindowFindings(
  name: string,
  summary: NpzSummary,
  cache: CacheShape | undefined,
  listsMissing: boolean,
): WindowHeaderFinding[] {
  const out: WindowHeaderFinding[] = [];
  const n = counts(summary);
  if (n && n.windows > n.labelRows) {
    out.push({
      name,
      code: 'windows-labels-count',
      severity: 'warning',
      message: `${name} has ${n.windows} windows but ${n.labelRows} label rows: the manifest is built from labels, so ${windowRange(n.labelRows, n.windows)} ${n.windows - n.labelRows === 1 ? 'is' : 'are'} never trained.`,
    });
  }
  if (n && n.windows < n.labelRows && listsMissing) {
    out.push({
      name,
      code: 'windows-labels-count',
      severity: 'error',
      message: `${name} has ${n.labelRows} label rows but ${n.windows} windows: the manifest lists ${windowRange(n.windows, n.labelRows)}, and __getitem__'s windows[w_idx] raises IndexError mid-epoch when training reaches ${n.labelRows - n.windows === 1 ? 'it' : 'one'}.`,
    });
  }
  const own = windowShape(summary);
  if (own && cache && own.join(',') !== cache.shape.join(',')) {
    out.push({
      name,
      code: 'window-shape',
      severity: 'error',
      message:
        `${name} holds windows of ${shapeText(own)} (channels × samples), the rest of the cache ${shapeText(cache.shape)} (${cache.files} of ${cache.of} files): ` +
        "the DataLoader's torch.stack fails on the first batch that mixes them, and a batch of this file alone gives the model input of the wrong shape.",
    });
  }
  const samples = own?.[own.length - 1];
  if (
    summary.hasLabels &&
    samples !== undefined &&
    summary.labelsShape &&
    summary.labelsShape.length >= 1 &&
    summary.labelsShape[0] > 0 &&
    summary.samplesPerWindow !== samples
  ) {
    out.push({
      name,
      code: 'window-shape',
      severity: 'error',
      message: `${name}'s labels hold ${summary.samplesPerWindow} samples per window but its windows ${samples}: the per-sample loss compares ${samples} predictions with ${summary.samplesPerWindow} labels and raises a size mismatch (and torch.stack fails on batches mixing it with other files).`,
    });
  }
  return out;
}

export interface WindowHeaderInput {
  files: CacheFileFacts[];
  directory?: { name: string; facts: CacheFileFacts }[];
}

/** What the header checks find about the files alone, whatever their entries say. */
interface FileHeaderFindings {
  /** Per file of `parsed.files`: the window-shape findings each of its entries gets. */
  shapeFindings: WindowHeaderFinding[][];
  /** Per file of `parsed.files`: its counts when label rows outnumber windows (its entries may list missing windows). */
  short: ({ windows: number; labelRows: number } | undefined)[];
  /** Whole-file findings, each anchored on its file: of listed files, then of files no entry lists. */
  whole: WindowHeaderFinding[];
}

/**
 * The last per-file findings, by the facts they come from: an edit's check reuses the facts array
 * and the names (analyze.ts, manifestReparse.ts), and 35,000 files' findings are then not made again.
 */
const lastFileFindings = new WeakMap<
  CacheFileFacts[],
  { names: string[]; directory: WindowHeaderInput['directory']; findings: FileHeaderFindings }
>();

function fileHeaderFindings(names: string[], input: WindowHeaderInput): FileHeaderFindings {
  const last = lastFileFindings.get(input.files);
  if (last && last.names === names && last.directory === input.directory) return last.findings;
  const listed = names.map((name, i) => ({ name, summary: input.files[i]?.summary }));
  const known = new Set(names);
  const everyFile = input.directory
    ? input.directory.map(({ name, facts }) => ({
        name,
        summary: facts.summary ?? listed.find((l) => l.name === name)?.summary,
      }))
    : listed;
  const cache = cacheWindowShape(everyFile);
  const perFile = listed.map(({ name, summary }) => (summary ? fileWindowFindings(name, summary, cache, false) : []));
  const whole = perFile.flat().filter((f) => f.code === 'windows-labels-count');
  for (const { name, summary } of everyFile) {
    if (known.has(name) || !summary?.hasLabels) continue;
    for (const f of fileWindowFindings(name, summary, cache, true))
      whole.push({ ...f, severity: 'warning', message: `${f.message} A rebuild lists this file.` });
  }
  const findings: FileHeaderFindings = {
    shapeFindings: perFile.map((f) => f.filter((finding) => finding.code === 'window-shape')),
    short: listed.map(({ summary }) => {
      const n = summary && counts(summary);
      return n && n.windows < n.labelRows ? n : undefined;
    }),
    whole,
  };
  lastFileFindings.set(input.files, { names, directory: input.directory, findings });
  return findings;
}

/**
 * The header checks of a manifest: label rows without a window on each entry that lists one
 * (its `window_idx`), a file of another shape on each entry of that file (its `cache_file`),
 * and the whole-file findings of files no entry lists, or of windows no entry can list, where
 * findings about a file as a whole sit (fileAnchor.ts).
 */
export function windowHeaderDiagnostics(parsed: ParsedManifest, input: WindowHeaderInput): Diagnostic[] {
  if (!parsed.isManifest) return [];
  const anchorOf = fileAnchors(parsed);
  const { shapeFindings, short, whole } = fileHeaderFindings(parsed.files, input);
  const out: Diagnostic[] = [];
  const { entries } = parsed;
  // Most caches have no file whose entries get findings, and then the entries are not walked at all.
  const entriesMatter = shapeFindings.some((f) => f.length) || short.some(Boolean);
  for (let i = 0; entriesMatter && i < entries.count; i++) {
    const id = entries.file.at(i);
    if (id < 0 || entries.shadowed.at(i)) continue;
    for (const f of shapeFindings[id]) {
      out.push(diagnostic(fileSpan(entries, i), f.severity, f.code, f.message, f.name));
    }
    const n = short[id];
    const window = entries.window.at(i);
    if (!n || Number.isNaN(window)) continue;
    const index = window < 0 ? n.labelRows + window : window;
    // Beyond the label rows is window-out-of-range's; between the two counts is ours.
    if (index >= n.windows && index < n.labelRows) {
      out.push(
        diagnostic(
          windowSpan(entries, i),
          'error',
          'windows-labels-count',
          `${parsed.files[id]} has ${n.labelRows} label rows but only ${n.windows} windows: window ${index} exists only in labels, and __getitem__'s windows[${window}] raises IndexError mid-epoch when training reads this entry.`,
        ),
      );
    }
  }
  for (const f of whole) out.push(diagnostic(anchorOf(f.name), f.severity, f.code, f.message, f.name));
  return out;
}
