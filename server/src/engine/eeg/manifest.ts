/**
 * Seizure manifest model: a position-aware parse into a columnar index (150,000 entries stay a
 * few MB, and hovers look entries up by offset instead of walking a tree), schema checks,
 * content checks against cache-file facts, the Python builder's exact output, and the
 * balanced training composition.
 */
import { JSONVisitor, visit } from 'jsonc-parser';
import { NotPlainJson, visitPlainJson } from '../json/fastJson';
import { Diagnostic, diagnostic, Span } from '../diagnostics';
import { formatLimit } from '../units';
import { pythonJson } from '../json/edits';
import { balancedSelection } from '../numpy/random';
import { Category, CATEGORIES } from './category';
import { categoryOf, MAX_WINDOWS_PER_FILE, NpzSummary, windowPositives } from './npz';

export interface CategoryKey {
  category: Category;
  key: Span;
  value: Span;
  isArray: boolean;
}

/** Entries in parallel typed arrays; index i is the i-th entry in document order. */
export interface ManifestEntries {
  count: number;
  category: Uint8Array; // index into CATEGORIES
  file: Int32Array; // index into files, -1 when cache_file is missing or not a valid name
  window: Float64Array; // NaN when window_idx is missing or not a non-negative integer
  entryOffset: Int32Array;
  entryLength: Int32Array;
  fileOffset: Int32Array; // -1 when absent
  fileLength: Int32Array;
  windowOffset: Int32Array; // -1 when absent
  windowLength: Int32Array;
}

export interface ParsedManifest {
  /** False when the JSON is not a seizure manifest (no category key at the root). */
  isManifest: boolean;
  rootKeys: CategoryKey[];
  /** Distinct valid cache_file names, in order of first appearance. */
  files: string[];
  entries: ManifestEntries;
  schema: Diagnostic[];
}

const CATEGORY_INDEX = new Map<string, number>(CATEGORIES.map((c, i) => [c, i]));

/** A bare file name in the manifest's directory: no separators, not `.` or `..`. */
export function isBareFileName(name: string): boolean {
  return name.length > 0 && name !== '.' && name !== '..' && !/[/\\]/.test(name) && !name.includes('\0');
}

class EntryColumns {
  count = 0;
  capacity = 1024;
  category = new Uint8Array(this.capacity);
  file = new Int32Array(this.capacity);
  window = new Float64Array(this.capacity);
  entryOffset = new Int32Array(this.capacity);
  entryLength = new Int32Array(this.capacity);
  fileOffset = new Int32Array(this.capacity);
  fileLength = new Int32Array(this.capacity);
  windowOffset = new Int32Array(this.capacity);
  windowLength = new Int32Array(this.capacity);

  add(category: number, offset: number): number {
    if (this.count === this.capacity) this.grow();
    const i = this.count++;
    this.category[i] = category;
    this.file[i] = -1;
    this.window[i] = NaN;
    this.entryOffset[i] = offset;
    this.fileOffset[i] = -1;
    this.windowOffset[i] = -1;
    return i;
  }

  private grow(): void {
    this.capacity *= 2;
    for (const key of ['category', 'file', 'window', 'entryOffset', 'entryLength', 'fileOffset', 'fileLength', 'windowOffset', 'windowLength'] as const) {
      const old = this[key];
      const next = new (old.constructor as new (n: number) => typeof old)(this.capacity);
      next.set(old as never);
      (this as Record<typeof key, typeof old>)[key] = next;
    }
  }

  finish(): ManifestEntries {
    const trim = <T extends Uint8Array | Int32Array | Float64Array>(a: T) => a.slice(0, this.count) as T;
    return {
      count: this.count,
      category: trim(this.category),
      file: trim(this.file),
      window: trim(this.window),
      entryOffset: trim(this.entryOffset),
      entryLength: trim(this.entryLength),
      fileOffset: trim(this.fileOffset),
      fileLength: trim(this.fileLength),
      windowOffset: trim(this.windowOffset),
      windowLength: trim(this.windowLength),
    };
  }
}

type Frame = {
  role: 'root' | 'category' | 'entry' | 'other';
  category: number;
  entry: number;
  start: number;
  /** A schema error about this container, reported when its end (and so its range) is known. */
  problem?: string;
};

/** Parses manifest text in one pass; schema problems become `manifest-schema` diagnostics. */
export function parseManifest(text: string): ParsedManifest {
  try {
    return collectManifest(text, (events) => visitPlainJson(text, events));
  } catch (error) {
    if (!(error instanceof NotPlainJson)) throw error;
    // Not plain valid JSON: jsonc-parser reports the syntax errors with their exact ranges.
    return parseManifestWithJsonc(text);
  }
}

/** The general path (also the reference the fast path is tested against). */
export function parseManifestWithJsonc(text: string): ParsedManifest {
  return collectManifest(text, (events) => visit(text, events, { disallowComments: true, allowTrailingComma: false }));
}

type ManifestEvents = Parameters<typeof visitPlainJson>[1] & Pick<JSONVisitor, 'onError'>;

function collectManifest(text: string, walk: (events: ManifestEvents) => void): ParsedManifest {
  const schema: Diagnostic[] = [];
  const rootKeys: CategoryKey[] = [];
  const files: string[] = [];
  const fileIds = new Map<string, number>();
  const columns = new EntryColumns();
  const stack: Frame[] = [];
  let property: { name: string; offset: number; length: number } | undefined;
  let rootSeen = false;
  const error = (span: Span, message: string) => schema.push(diagnostic(span, 'error', 'manifest-schema', message));
  let problem: string | undefined;
  // Containers learn their length only at their end, so their problems wait in the frame.
  const report = (span: Span, kind: 'object' | 'array' | 'literal', message: string) => {
    if (kind === 'literal') error(span, message);
    else problem = message;
  };

  // Called for each value (object, array or literal) with its span; returns the role of a container.
  const onValue = (span: Span, kind: 'object' | 'array' | 'literal', literal?: unknown): Frame['role'] => {
    const parent = stack[stack.length - 1];
    const key = property;
    property = undefined;
    if (!parent) {
      rootSeen = true;
      if (kind !== 'object') report(span, kind, 'A seizure manifest must be a JSON object with partial_seizure, full_seizure and no_seizure lists.');
      return 'root';
    }
    if (parent.role === 'root' && key) {
      const category = CATEGORY_INDEX.get(key.name);
      if (category === undefined) return 'other';
      rootKeys.push({ category: CATEGORIES[category], key: { offset: key.offset, length: key.length }, value: span, isArray: kind === 'array' });
      if (kind !== 'array') report(span, kind, `"${key.name}" must be a list of {"cache_file", "window_idx"} entries.`);
      return kind === 'array' ? 'category' : 'other';
    }
    if (parent.role === 'category') {
      if (kind !== 'object') {
        report(span, kind, 'Each entry must be an object {"cache_file": "<name>.npz", "window_idx": <int>}.');
        return 'other';
      }
      return 'entry';
    }
    if (parent.role === 'entry' && key) {
      const i = parent.entry;
      if (key.name === 'cache_file') {
        columns.fileOffset[i] = span.offset;
        columns.fileLength[i] = span.length;
        // Known names were validated when first seen: 150,000 entries name ~5,000 files.
        const known = typeof literal === 'string' ? fileIds.get(literal) : undefined;
        if (known !== undefined) columns.file[i] = known;
        else if (typeof literal !== 'string') report(span, kind, '"cache_file" must be a string (a file name in the manifest\'s directory).');
        else if (!isBareFileName(literal)) error(span, `"cache_file" must be a bare file name in the manifest's directory; "${literal}" is a path and will not be read.`);
        else fileIds.set(literal, (columns.file[i] = files.push(literal) - 1));
      } else if (key.name === 'window_idx') {
        columns.windowOffset[i] = span.offset;
        columns.windowLength[i] = span.length;
        if (typeof literal === 'number' && Number.isSafeInteger(literal) && literal >= 0) columns.window[i] = literal;
        else report(span, kind, '"window_idx" must be a non-negative integer.');
      }
    }
    return 'other';
  };

  const begin = (offset: number, kind: 'object' | 'array') => {
    problem = undefined;
    const role = onValue({ offset, length: 0 }, kind);
    const parent = stack[stack.length - 1];
    const frame: Frame = { role, category: parent?.category ?? -1, entry: -1, start: offset, problem };
    if (role === 'entry') frame.entry = columns.add(parent.category, offset);
    if (role === 'category') frame.category = CATEGORY_INDEX.get(rootKeys[rootKeys.length - 1].category)!;
    stack.push(frame);
  };
  const end = (offset: number, length: number): Frame | undefined => {
    const frame = stack.pop();
    if (frame?.problem) error({ offset: frame.start, length: offset + length - frame.start }, frame.problem);
    return frame;
  };

  walk({
      onObjectBegin(offset) {
        begin(offset, 'object');
      },
      onObjectEnd(offset, length) {
        const frame = end(offset, length);
        if (frame?.role === 'entry') {
          const i = frame.entry;
          columns.entryLength[i] = offset + length - columns.entryOffset[i];
          const span = { offset: columns.entryOffset[i], length: columns.entryLength[i] };
          if (columns.fileOffset[i] < 0) error(span, 'Entry has no "cache_file".');
          if (columns.windowOffset[i] < 0) error(span, 'Entry has no "window_idx".');
        }
      },
      onArrayBegin(offset) {
        begin(offset, 'array');
      },
      onArrayEnd(offset, length) {
        const frame = end(offset, length);
        if (frame?.role === 'category') {
          const key = rootKeys[rootKeys.length - 1];
          key.value = { offset: key.value.offset, length: offset + length - key.value.offset };
        }
      },
      onObjectProperty(name, offset, length) {
        property = { name, offset, length };
      },
      onLiteralValue(value, offset, length) {
        onValue({ offset, length }, 'literal', value);
      },
      onError(code, offset, length) {
        error({ offset, length }, `Invalid JSON (${jsonErrorText(code)}).`);
      },
  });

  const isManifest = rootKeys.length > 0;
  if (isManifest) {
    const present = new Set(rootKeys.map((k) => k.category));
    const missing = CATEGORIES.filter((c) => !present.has(c));
    if (missing.length) {
      schema.push(diagnostic(rootKeys[0].key, 'warning', 'manifest-schema', `Missing ${missing.map((m) => `"${m}"`).join(', ')}: training treats it as empty.`));
    }
    flagDuplicateKeys(rootKeys, schema);
  }
  if (!rootSeen && text.trim() === '') schema.push(diagnostic({ offset: 0, length: 0 }, 'error', 'manifest-schema', 'Empty file.'));
  return { isManifest, rootKeys, files, entries: columns.finish(), schema };
}

function flagDuplicateKeys(keys: CategoryKey[], out: Diagnostic[]): void {
  const seen = new Set<Category>();
  for (const key of keys) {
    if (seen.has(key.category)) out.push(diagnostic(key.key, 'warning', 'manifest-schema', `Duplicate key "${key.category}": Python's json keeps only the last one.`));
    seen.add(key.category);
  }
}

function jsonErrorText(code: number): string {
  const names: Record<number, string> = {
    1: 'invalid symbol', 2: 'invalid number format', 3: 'property name expected', 4: 'value expected', 5: 'colon expected',
    6: 'comma expected', 7: 'closing brace expected', 8: 'closing bracket expected', 9: 'end of file expected',
    10: 'comments are not allowed', 11: 'unexpected end of comment', 12: 'unexpected end of string',
    13: 'unexpected end of number', 14: 'invalid unicode', 15: 'invalid escape character', 16: 'invalid character',
  };
  return names[code] ?? `error ${code}`;
}

/** What is known about each cache file the manifest names, gathered by an adapter. */
export interface CacheFileFacts {
  exists: boolean;
  /** Present when contents were read. */
  summary?: NpzSummary;
  /** Present when the file exists but could not be read, or (with exists false) is a dangling symbolic link. */
  error?: string;
}

export interface ManifestCheckInput {
  /** Facts per entry of `parsed.files`. */
  files: CacheFileFacts[];
  /** `*.npz` names in the manifest's directory, with their summaries when read (for unreferenced files). */
  directory?: { name: string; facts: CacheFileFacts }[];
}

/** Training rescans the cache when more than this fraction of entries reference missing files. */
export const STALE_MISSING_FRACTION = 0.05;
/** Training warns when the balanced seizure ratio is below this. */
export const LOW_SEIZURE_RATIO = 0.001;

/** Content diagnostics: missing and unreadable files, ranges, duplicates, categories, staleness. */
export function checkManifest(parsed: ParsedManifest, input: ManifestCheckInput): Diagnostic[] {
  const out: Diagnostic[] = [];
  const { entries } = parsed;
  // Windows listed per file: finds duplicates, and later the windows no entry lists.
  const referencedWindows = new Map<number, Set<number>>();
  for (let i = 0; i < entries.count; i++) {
    const fileId = entries.file[i];
    if (fileId < 0) continue;
    const facts = input.files[fileId];
    const window = entries.window[i];
    if (!facts.exists) {
      const fileSpan = { offset: entries.fileOffset[i], length: entries.fileLength[i] };
      const why = facts.error ? ` (${facts.error})` : '';
      out.push(diagnostic(fileSpan, 'error', 'missing-cache-file', `${parsed.files[fileId]} does not exist${why}: training skips this entry.`));
      continue;
    }
    if (facts.error) {
      const fileSpan = { offset: entries.fileOffset[i], length: entries.fileLength[i] };
      out.push(diagnostic(fileSpan, 'error', 'unreadable-cache-file', `${parsed.files[fileId]} cannot be read: ${facts.error}`));
      continue;
    }
    if (Number.isNaN(window)) continue;
    const name = parsed.files[fileId];
    let windows = referencedWindows.get(fileId);
    if (!windows) referencedWindows.set(fileId, (windows = new Set()));
    if (windows.has(window)) {
      out.push(diagnostic(entrySpan(entries, i), 'warning', 'duplicate-entry', `${name} window ${window} is listed more than once: training uses it twice.`));
    } else windows.add(window);
    const summary = facts.summary;
    if (!summary) continue;
    if (window >= summary.windowCount) {
      const windowSpan = { offset: entries.windowOffset[i], length: entries.windowLength[i] };
      out.push(diagnostic(windowSpan, 'error', 'window-out-of-range', `${name} has ${summary.windowCount} windows; window_idx ${window} does not exist.`));
      continue;
    }
    const actual = categoryOf(summary, window);
    const listed = CATEGORIES[entries.category[i]];
    if (actual !== listed) {
      out.push(diagnostic(entrySpan(entries, i), 'error', 'category-mismatch', `Listed as ${listed}, but ${describeWindow(summary, window)}: it is ${actual}. The manifest is stale; rebuild it.`));
    }
  }
  out.push(...unreferenced(parsed, input, referencedWindows));
  return out;
}

function entrySpan(entries: ManifestEntries, i: number): Span {
  return { offset: entries.entryOffset[i], length: entries.entryLength[i] };
}

/** "41 of 15360 label samples (0.27%) are > 0" for a window, or why it has no labels. */
export function describeWindow(summary: NpzSummary, window: number): string {
  if (!summary.hasLabels) return 'the file has no labels';
  const positives = windowPositives(summary, window);
  const samples = summary.samplesPerWindow;
  return `${positives} of ${samples} label samples (${formatPercent(positives / samples)}) are > 0`;
}

export function formatPercent(ratio: number): string {
  if (Number.isNaN(ratio)) return 'n/a';
  return `${(ratio * 100).toFixed(ratio !== 0 && ratio < 0.001 ? 4 : 2)}%`;
}

function unreferenced(parsed: ParsedManifest, input: ManifestCheckInput, referenced: Map<number, Set<number>>): Diagnostic[] {
  if (!input.directory || parsed.rootKeys.length === 0) return [];
  const anchor = parsed.rootKeys[0].key;
  const ids = new Map(parsed.files.map((f, i) => [f, i]));
  const out: Diagnostic[] = [];
  for (const { name, facts } of input.directory) {
    const id = ids.get(name);
    const summary = facts.summary;
    if (facts.error) {
      if (id === undefined) out.push(diagnostic(anchor, 'warning', 'unreadable-cache-file', `${name} in the cache directory cannot be read (${facts.error}); the builder skips it.`));
    } else if (id === undefined) {
      // A file without windows has nothing to list: no build would add it.
      if (summary?.windowCount === 0) continue;
      const windows = summary ? ` (${summary.windowCount} windows)` : '';
      out.push(diagnostic(anchor, 'warning', 'unreferenced-cache-file', `${name}${windows} is in the cache directory but not in the manifest${rebuildAdvice(summary, 'it')}`));
    } else if (summary && input.files[id]?.summary) {
      let listed = 0;
      for (const w of referenced.get(id) ?? []) if (w < summary.windowCount) listed++;
      if (listed < summary.windowCount) {
        out.push(diagnostic(anchor, 'warning', 'unreferenced-cache-file', `${name} has ${summary.windowCount} windows but the manifest lists ${listed}${rebuildAdvice(summary, 'the rest')}`));
      }
    }
  }
  return out;
}

/** "; rebuild to include it.", unless NeuroCache's build leaves the file out for its size (then why). */
function rebuildAdvice(summary: NpzSummary | undefined, what: string): string {
  if (!summary || summary.windowCount <= MAX_WINDOWS_PER_FILE) return `; rebuild to include ${what}.`;
  const notes = summary.notes.length ? ` (${summary.notes.join('; ')})` : '';
  return `; NeuroCache's build leaves it out, with more than ${MAX_WINDOWS_PER_FILE} windows${notes}.`;
}

/** Training's composition, from `BalancedSeizureDataset`: ratios and the RNG seed. */
export interface CompositionSettings {
  fullRatio: number;
  backgroundRatio: number;
  seed: number;
}

export const DEFAULT_COMPOSITION: CompositionSettings = { fullRatio: 0.3, backgroundRatio: 2.5, seed: 42 };

export interface ManifestStats {
  files: number;
  missingFiles: number;
  windows: Record<Category, number>;
  missingWindows: Record<Category, number>;
  total: number;
  /** Fraction of seizure windows (partial + full) over all entries. */
  rawSeizureRatio: number;
  /** What training builds for `seed`: kept windows per category (entries with missing files are skipped). */
  balanced: {
    seed: number;
    partial: number;
    full: number;
    background: number;
    total: number;
    seizureRatio: number;
    posWeight: number;
  };
  /** Training rebuilds the manifest: no entries, or more than STALE_MISSING_FRACTION reference missing files. */
  stale: boolean;
  /** Training refuses to start: no partial windows. */
  refuses: boolean;
  lowSeizureRatio: boolean;
}

/** pos_weight as training derives it from the seizure ratio. */
export function posWeight(ratio: number): number {
  return ratio > 0 && ratio < 0.5 ? Math.sqrt((1 - ratio) / ratio) : 1.0;
}

/**
 * How many full and no-seizure windows training picks for `partial` partial windows:
 * `int(ratio * len(partial))` in Python (a float product, truncated), at most all of them.
 */
function pickCounts(partial: number, available: { full: number; background: number }, settings: CompositionSettings): { full: number; background: number } {
  return {
    full: Math.min(Math.trunc(settings.fullRatio * partial), available.full),
    background: Math.min(Math.trunc(settings.backgroundRatio * partial), available.background),
  };
}

/** Entry indices of each category, in document order (the lists training indexes into). */
function entriesByCategory(parsed: ParsedManifest): Record<Category, number[]> {
  const lists: Record<Category, number[]> = { partial_seizure: [], full_seizure: [], no_seizure: [] };
  for (let i = 0; i < parsed.entries.count; i++) lists[CATEGORIES[parsed.entries.category[i]]].push(i);
  return lists;
}

/**
 * The entries training picks: `rng.choice(len(full), int(0.3 * len(partial)))` then the same
 * for no-seizure windows, on one `default_rng(seed)` — reproduced exactly (numpyRandom.ts).
 */
export function balancedPicks(parsed: ParsedManifest, settings = DEFAULT_COMPOSITION): { partial: number[]; full: number[]; background: number[] } {
  const lists = entriesByCategory(parsed);
  const k = pickCounts(lists.partial_seizure.length, { full: lists.full_seizure.length, background: lists.no_seizure.length }, settings);
  const picks = balancedSelection(settings.seed, lists.full_seizure.length, k.full, lists.no_seizure.length, k.background);
  return {
    partial: lists.partial_seizure,
    full: picks.full.map((i) => lists.full_seizure[i]),
    background: picks.background.map((i) => lists.no_seizure[i]),
  };
}

/**
 * Statistics and the balanced composition. `fileExists[i]` says whether `parsed.files[i]`
 * exists; entries with an invalid cache_file count as missing, as training would fail to find them.
 */
export function manifestStats(parsed: ParsedManifest, fileExists: boolean[], settings = DEFAULT_COMPOSITION): ManifestStats {
  const windows = { partial_seizure: 0, full_seizure: 0, no_seizure: 0 };
  const missingWindows = { partial_seizure: 0, full_seizure: 0, no_seizure: 0 };
  const { entries } = parsed;
  const exists = (i: number) => entries.file[i] >= 0 && fileExists[entries.file[i]];
  for (let i = 0; i < entries.count; i++) {
    const category = CATEGORIES[entries.category[i]];
    windows[category]++;
    if (!exists(i)) missingWindows[category]++;
  }
  const total = windows.partial_seizure + windows.full_seizure + windows.no_seizure;
  const missingTotal = missingWindows.partial_seizure + missingWindows.full_seizure + missingWindows.no_seizure;
  const partialAll = windows.partial_seizure;
  let { full, background } = pickCounts(partialAll, { full: windows.full_seizure, background: windows.no_seizure }, settings);
  // Only when picks can hit missing files do the kept counts depend on the RNG.
  if ((missingWindows.full_seizure && full) || (missingWindows.no_seizure && background)) {
    const picks = balancedPicks(parsed, settings);
    full = picks.full.filter(exists).length;
    background = picks.background.filter(exists).length;
  }
  const partial = partialAll - missingWindows.partial_seizure;
  const keptTotal = partial + full + background;
  const seizureRatio = keptTotal > 0 ? (partial + full) / keptTotal : 0;
  return {
    files: parsed.files.length,
    missingFiles: fileExists.filter((e) => !e).length,
    windows,
    missingWindows,
    total,
    rawSeizureRatio: total > 0 ? (windows.partial_seizure + windows.full_seizure) / total : 0,
    balanced: { seed: settings.seed, partial, full, background, total: keptTotal, seizureRatio, posWeight: posWeight(seizureRatio) },
    stale: total === 0 || missingTotal / total > STALE_MISSING_FRACTION,
    refuses: partialAll === 0,
    lowSeizureRatio: keptTotal > 0 && seizureRatio < LOW_SEIZURE_RATIO,
  };
}

/** Whole-file findings from the statistics, anchored on the root keys they concern. */
export function compositionDiagnostics(parsed: ParsedManifest, stats: ManifestStats): Diagnostic[] {
  if (!parsed.isManifest) return [];
  const keyOf = (category: Category) => (parsed.rootKeys.find((k) => k.category === category) ?? parsed.rootKeys[0]).key;
  const out: Diagnostic[] = [];
  if (stats.stale) {
    const missing = Object.values(stats.missingWindows).reduce((a, b) => a + b, 0);
    const why = stats.total === 0
      ? 'it has no entries'
      : `${missing} of ${stats.total} entries (${formatPercent(missing / stats.total)}) reference missing files, over the ${formatLimit(STALE_MISSING_FRACTION)} limit`;
    out.push(diagnostic(parsed.rootKeys[0].key, 'error', 'stale-manifest', `Training will discard this manifest and rescan the cache: ${why}.`));
  }
  if (stats.refuses) {
    out.push(diagnostic(keyOf('partial_seizure'), 'error', 'no-partial-windows', 'No partial seizure windows: training refuses to start.'));
  } else if (stats.lowSeizureRatio) {
    out.push(diagnostic(keyOf('partial_seizure'), 'warning', 'low-seizure-ratio', `Balanced seizure ratio ${formatPercent(stats.balanced.seizureRatio)} is below ${formatLimit(LOW_SEIZURE_RATIO)}: training warns and will learn little.`));
  }
  return out;
}

/** The manifest the Python builder writes for these per-file results (files sorted by name). */
export function buildManifest(files: { name: string; summary: NpzSummary }[]): Record<Category, { cache_file: string; window_idx: number }[]> {
  const manifest: Record<Category, { cache_file: string; window_idx: number }[]> = { partial_seizure: [], full_seizure: [], no_seizure: [] };
  for (const { name, summary } of files) {
    for (let w = 0; w < summary.windowCount; w++) manifest[categoryOf(summary, w)].push({ cache_file: name, window_idx: w });
  }
  return manifest;
}

/**
 * Serialises byte-for-byte like Python's `json.dump(manifest, f, indent=2)` (ASCII-escaped);
 * an empty directory gets the builder's un-indented form.
 */
export function serializeManifest(manifest: Record<Category, unknown[]>, anyFiles: boolean): string {
  return anyFiles ? pythonJson(manifest) : '{"partial_seizure": [], "full_seizure": [], "no_seizure": []}';
}

/** Python sorts paths by code point; JavaScript's default sort compares UTF-16 units. */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
