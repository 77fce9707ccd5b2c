/**
 * The seizure manifest's content checks against cache-file facts: missing and unreadable
 * files, window ranges, duplicates, categories and the cache files no entry lists.
 */
import { Diagnostic, diagnostic } from '../diagnostics';
import { formatPercent } from '../units';
import { CATEGORIES } from './category';
import { fileAnchors, fileIds } from './fileAnchor';
import { fileCategories } from './fileCategories';
import { entrySpan, fileSpan, windowSpan } from './manifestEntries';
import { ParsedManifest } from './manifestParse';
import { categoryOf, MAX_WINDOWS_PER_FILE, NpzSummary, windowPositives } from './npz';
import { describeOutcome, failureOutcome, LoadFailure } from './numpyLoad';

/** What is known about each cache file the manifest names, gathered by an adapter. */
export interface CacheFileFacts {
  exists: boolean;
  /** Present when contents were read. */
  summary?: NpzSummary;
  /** Present when the file exists but could not be read, or (with exists false) is a dangling symbolic link. */
  error?: string;
  /** What Python raises for it, and so what the builder does with it. */
  failure?: LoadFailure;
}

export interface ManifestCheckInput {
  /** Facts per entry of `parsed.files`. */
  files: CacheFileFacts[];
  /** `*.npz` names in the manifest's directory, with their summaries when read (for unreferenced files). */
  directory?: { name: string; facts: CacheFileFacts }[];
}

/** The code for a cache file that cannot be read, by what the Python builder does with it. */
const FAILURE_CODE = {
  skipped: 'unreadable-cache-file',
  'stops-build': 'cache-file-stops-build',
  unsupported: 'unsupported-cache-file',
} as const;

/** "x cannot be read (why): numpy raises ..., the builder ..." for a file that failed. */
export function describeFailure(name: string, failure: LoadFailure): string {
  if (failure.unsupported)
    return `${name}: ${failure.message}. The Python builder lists its windows; NeuroCache cannot check them`;
  return `${name} cannot be read: ${failure.message}. ${describePythonOutcome(failure)}`;
}

/** What the Python builder does with a file that failed. */
export function describePythonOutcome(failure: LoadFailure): string {
  if (failure.changedWhileRead)
    return 'What np.load makes of it depends on the bytes it finds when training reads it: check again once the file stops changing';
  if (failure.exception) return describeOutcome(failure.exception, failure.olderNumpy);
  if (failure.notRegular)
    return "NeuroCache does not open it; the Python builder's np.load would wait on a FIFO forever, or read a device until it ends";
  // A failure only NeuroCache's reader has: no measured exception to name, so no guess at one.
  return 'NeuroCache cannot tell which exception np.load raises for it, so whether the Python builder skips this file or stops at it is unknown: try np.load on it';
}

function failureOf(facts: CacheFileFacts): LoadFailure {
  // A dangling symbolic link: Python's open() raises FileNotFoundError.
  if (!facts.exists) return { message: facts.error ?? 'no such file', exception: 'FileNotFoundError' };
  return facts.failure ?? { message: facts.error ?? 'unreadable' };
}

/** The windows a file holds by training's count (labels rows, else windows rows), when known. */
function windowCountOf(summary: NpzSummary | undefined): number | undefined {
  return summary ? (summary.hasLabels ? summary.windowCount : summary.windowsShape?.[0]) : undefined;
}

/**
 * The windows entries list, per file: one byte per window of each file whose count is known (a
 * 1M-entry manifest then costs ~1 MB and no hashing), a set for any other index.
 */
class ReferencedWindows {
  private readonly start: Int32Array;
  private readonly size: Int32Array;
  private readonly seen: Uint8Array;
  private readonly others = new Map<number, Set<number>>();

  /** `counts[id]`: file id's window count, if known; `entries`: how many entries can list windows. */
  constructor(counts: (number | undefined)[], entries: number) {
    this.start = new Int32Array(counts.length);
    this.size = new Int32Array(counts.length);
    // Bytes for counts in proportion to the entries only: a damaged header may claim 2^31 windows.
    const budget = Math.max(1 << 16, 8 * entries);
    let total = 0;
    counts.forEach((count, id) => {
      this.start[id] = total;
      const fits = count !== undefined && count > 0 && Number.isSafeInteger(count) && total + count <= budget;
      this.size[id] = fits ? count : 0;
      total += this.size[id];
    });
    this.seen = new Uint8Array(total);
  }

  /** Records `index` (>= 0) of file `id`; false when it was listed already. */
  add(id: number, index: number): boolean {
    if (index < this.size[id]) {
      const at = this.start[id] + index;
      if (this.seen[at]) return false;
      this.seen[at] = 1;
      return true;
    }
    let set = this.others.get(id);
    if (!set) this.others.set(id, (set = new Set()));
    if (set.has(index)) return false;
    set.add(index);
    return true;
  }

  /** How many distinct windows below `limit` entries list for file `id`. */
  distinctBelow(id: number, limit: number): number {
    let listed = 0;
    const end = this.start[id] + Math.min(limit, this.size[id]);
    for (let at = this.start[id]; at < end; at++) listed += this.seen[at];
    for (const w of this.others.get(id) ?? []) if (w < limit) listed++;
    return listed;
  }
}

/** Content diagnostics: missing and unreadable files, ranges, duplicates, categories, staleness. */
export function checkManifest(parsed: ParsedManifest, input: ManifestCheckInput): Diagnostic[] {
  const out: Diagnostic[] = [];
  const { entries } = parsed;
  // Windows listed per file: finds duplicates, and later the windows no entry lists.
  // Per file once, not per entry: a 1M-entry manifest lists each of its files hundreds of times.
  const windowCounts = parsed.files.map((_, id) => windowCountOf(input.files[id]?.summary));
  const referencedWindows = new ReferencedWindows(windowCounts, entries.count);
  const plainFiles = fileCategories(input.files);
  const { file, shadowed, category } = entries;
  for (let i = 0; i < entries.count; i++) {
    const fileId = file.at(i);
    if (fileId < 0 || shadowed.at(i)) continue;
    const window = entries.window.at(i);
    if (plainFiles.plain[fileId]) {
      // The usual entry (its file read and labelled): the checks below that can apply, without its facts.
      if (Number.isNaN(window)) continue;
      const count = plainFiles.count[fileId];
      const index = window < 0 ? count + window : window;
      if (index >= 0 && !referencedWindows.add(fileId, index)) out.push(duplicateEntry(parsed, i, index));
      if (index < 0 || index >= count) out.push(outOfRange(parsed, i, count));
      else if (plainFiles.category[plainFiles.start[fileId] + index] !== category.at(i))
        out.push(categoryMismatch(parsed, input.files[fileId].summary!, i, index));
      continue;
    }
    checkOtherEntry(parsed, input, i, windowCounts[fileId], referencedWindows, out);
  }
  out.push(...unreferenced(parsed, input, referencedWindows));
  return out;
}

/** The checks of an entry whose file is not a plain labelled one (missing, unreadable, without labels, or unread). */
function checkOtherEntry(
  parsed: ParsedManifest,
  input: ManifestCheckInput,
  i: number,
  count: number | undefined,
  referencedWindows: ReferencedWindows,
  out: Diagnostic[],
): void {
  const { entries } = parsed;
  const fileId = entries.file.at(i);
  const window = entries.window.at(i);
  const facts = input.files[fileId];
  const name = parsed.files[fileId];
  if (!facts.exists) {
    const why = facts.error ? ` (${facts.error})` : '';
    out.push(
      diagnostic(
        fileSpan(entries, i),
        'error',
        'missing-cache-file',
        `${name} does not exist${why}: training skips this entry.`,
      ),
    );
    return;
  }
  if (facts.error) {
    const failure = failureOf(facts);
    const outcome = failureOutcome(failure);
    const training = outcome === 'unsupported' ? '' : ' Training fails when it reads this entry.';
    out.push(
      diagnostic(
        fileSpan(entries, i),
        outcome === 'unsupported' ? 'warning' : 'error',
        FAILURE_CODE[outcome],
        `${describeFailure(name, failure)}.${training}`,
        name,
      ),
    );
    return;
  }
  if (Number.isNaN(window)) return;
  const summary = facts.summary;
  // Python indexes from the end with a negative index.
  const index = window < 0 && count !== undefined ? count + window : window;
  if (index >= 0 && !referencedWindows.add(fileId, index)) out.push(duplicateEntry(parsed, i, index));
  if (!summary) return;
  if (!summary.hasLabels) {
    out.push(
      diagnostic(
        entrySpan(entries, i),
        'warning',
        'no-labels',
        `${name} has no labels: the builder leaves such files out (a rebuild drops this entry); until then training uses this window with all-zero labels.`,
        name,
      ),
    );
  }
  if (count !== undefined && (index < 0 || index >= count)) {
    out.push(outOfRange(parsed, i, count));
    return;
  }
  if (summary.windowsError) {
    out.push(
      diagnostic(
        fileSpan(entries, i),
        'error',
        'unreadable-cache-file',
        `${name}: windows cannot be read (${summary.windowsError}). The builder still lists the file (it reads only labels), but training fails when it reads this window.`,
        name,
      ),
    );
  }
  if (!summary.hasLabels) return;
  if (categoryOf(summary, index) !== CATEGORIES[entries.category.at(i)])
    out.push(categoryMismatch(parsed, summary, i, index));
}

function duplicateEntry(parsed: ParsedManifest, i: number, index: number): Diagnostic {
  const name = parsed.files[parsed.entries.file.at(i)];
  return diagnostic(
    entrySpan(parsed.entries, i),
    'warning',
    'duplicate-entry',
    `${name} window ${index} is listed more than once: training uses it twice.`,
  );
}

function outOfRange(parsed: ParsedManifest, i: number, count: number): Diagnostic {
  const { entries } = parsed;
  const name = parsed.files[entries.file.at(i)];
  return diagnostic(
    windowSpan(entries, i),
    'error',
    'window-out-of-range',
    `${name} has ${count} windows; window_idx ${entries.window.at(i)} does not exist: training raises IndexError when it reads this entry.`,
  );
}

function categoryMismatch(parsed: ParsedManifest, summary: NpzSummary, i: number, index: number): Diagnostic {
  const { entries } = parsed;
  const listed = CATEGORIES[entries.category.at(i)];
  return diagnostic(
    entrySpan(entries, i),
    'error',
    'category-mismatch',
    `Listed as ${listed}, but ${describeWindow(summary, index)}: it is ${categoryOf(summary, index)}. The manifest is stale; rebuild it.`,
  );
}

/** "41 of 15360 label samples (0.27%) are > 0" for a window of a file with labels. */
export function describeWindow(summary: NpzSummary, window: number): string {
  const positives = windowPositives(summary, window);
  const samples = summary.samplesPerWindow;
  return `${positives} of ${samples} label samples (${formatPercent(positives / samples)}) are > 0`;
}

function unreferenced(parsed: ParsedManifest, input: ManifestCheckInput, referenced: ReferencedWindows): Diagnostic[] {
  if (!input.directory || parsed.rootKeys.length === 0) return [];
  const anchorOf = fileAnchors(parsed);
  const ids = listedIds(input.directory, parsed.files);
  const out: Diagnostic[] = [];
  for (let k = 0; k < input.directory.length; k++) {
    const { name, facts } = input.directory[k];
    const id = ids[k] < 0 ? undefined : ids[k];
    const summary = facts.summary;
    if (facts.error) {
      const failure = failureOf(facts);
      const outcome = failureOutcome(failure);
      // A file that stops the build matters even when the manifest lists it: the next rebuild fails.
      if (outcome === 'stops-build') {
        out.push(
          diagnostic(
            anchorOf(name),
            'error',
            'cache-file-stops-build',
            `${describeFailure(name, failure)}. Training rebuilds a missing or stale manifest, and that rebuild would fail; delete or regenerate the file.`,
            name,
          ),
        );
      } else if (id === undefined) {
        out.push(
          diagnostic(anchorOf(name), 'warning', FAILURE_CODE[outcome], `${describeFailure(name, failure)}.`, name),
        );
      }
    } else if (summary && !summary.hasLabels) {
      if (id === undefined)
        out.push(
          diagnostic(
            anchorOf(name),
            'warning',
            'no-labels',
            `${name} has no labels: the builder leaves it out ("has NO LABELS"), so training never sees its windows.`,
            name,
          ),
        );
    } else if (id === undefined) {
      // A file without windows has nothing to list: no build would add it.
      if (summary?.windowCount === 0) continue;
      const windows = summary ? ` (${summary.windowCount} windows)` : '';
      out.push(
        diagnostic(
          anchorOf(name),
          'warning',
          'unreferenced-cache-file',
          `${name}${windows} is in the cache directory but not in the manifest${rebuildAdvice(summary, 'it')}`,
          name,
        ),
      );
    } else if (summary && input.files[id]?.summary) {
      const listed = referenced.distinctBelow(id, summary.windowCount);
      if (listed < summary.windowCount) {
        out.push(
          diagnostic(
            anchorOf(name),
            'warning',
            'unreferenced-cache-file',
            `${name} has ${summary.windowCount} windows but the manifest lists ${listed}${rebuildAdvice(summary, 'the rest')}`,
            name,
          ),
        );
      }
    }
  }
  return out;
}

const listedIdsKept = new WeakMap<readonly { name: string }[], { files: readonly string[]; ids: Int32Array }>();

/**
 * Each listed file's id among the manifest's names (-1: not named), kept by the listing while the
 * names are the same array: an edit's check looks up 35,000 names once, not once per edit.
 */
function listedIds(listing: readonly { name: string }[], files: readonly string[]): Int32Array {
  const kept = listedIdsKept.get(listing);
  if (kept?.files === files) return kept.ids;
  const byName = fileIds(files);
  const ids = Int32Array.from(listing, ({ name }) => byName.get(name) ?? -1);
  listedIdsKept.set(listing, { files, ids });
  return ids;
}

/** Said of a file no rebuild would list (too many windows): a rebuild offers nothing for it. */
export const BUILD_LEAVES_IT_OUT = "NeuroCache's build leaves it out";

/** "; rebuild to include it.", unless NeuroCache's build leaves the file out for its size (then why). */
function rebuildAdvice(summary: NpzSummary | undefined, what: string): string {
  if (!summary || summary.windowCount <= MAX_WINDOWS_PER_FILE) return `; rebuild to include ${what}.`;
  const notes = summary.notes.length ? ` (${summary.notes.join('; ')})` : '';
  return `; ${BUILD_LEAVES_IT_OUT}, with more than ${MAX_WINDOWS_PER_FILE} windows${notes}.`;
}
