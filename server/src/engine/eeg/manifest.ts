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
import { pythonConstantAt } from '../json/pythonJson';
import { balancedSelection } from '../numpy/random';
import { DEFAULT_TRAINING_SETTINGS } from '../../protocol';
import { Category, CATEGORIES } from './category';
import { categoryOf, MAX_WINDOWS_PER_FILE, NpzSummary, windowPositives } from './npz';
import { describeOutcome, failureOutcome, LoadFailure } from './numpyLoad';

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
  window: Float64Array; // int(window_idx) as training computes it; NaN when missing or when int() raises
  entryOffset: Int32Array;
  entryLength: Int32Array;
  fileOffset: Int32Array; // -1 when absent
  fileLength: Int32Array;
  windowOffset: Int32Array; // -1 when absent
  windowLength: Int32Array;
  /** 1 for entries of a category key that appears again later: Python's json keeps only the last. */
  shadowed: Uint8Array;
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

/**
 * What `int(item["window_idx"])` in BalancedSeizureDataset makes of a value: floats are
 * truncated, numeric strings and booleans converted, anything else raises (when training
 * takes the entry: every partial entry, and the picked full and no-seizure ones).
 */
export function pythonIndex(value: unknown): { value?: number; problem?: { severity: 'error' | 'warning'; message: string } } {
  const raises = (exception: string) => ({ problem: { severity: 'error' as const, message: `"window_idx" ${describeValue(value)}: int() raises ${exception} when BalancedSeizureDataset takes this entry.` } });
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return raises('ValueError');
    if (!Number.isFinite(value)) return raises('OverflowError');
    const index = Math.trunc(value);
    if (index !== value) return { value: index, problem: { severity: 'warning', message: `"window_idx" ${value} is a float: int() truncates it, so training reads window ${index}.` } };
    if (index < 0) return { value: index, problem: { severity: 'warning', message: `"window_idx" ${index} is negative: Python counts it from the end (windows[${index}]); the builder never writes negative indexes.` } };
    return { value: index };
  }
  if (typeof value === 'boolean') return { value: Number(value), problem: { severity: 'warning', message: `"window_idx" ${value} is a bool: int() makes it ${Number(value)}.` } };
  if (typeof value === 'string') {
    // int(str): surrounding whitespace, a sign, digits with single underscores between them.
    const match = /^\s*([+-]?)(\d+(?:_\d+)*)\s*$/.exec(value);
    if (!match) return raises('ValueError');
    const index = Number(`${match[1]}${match[2].replace(/_/g, '')}`);
    return { value: index, problem: { severity: 'warning', message: `"window_idx" is the string ${JSON.stringify(value)}: int() converts it, so training reads window ${index}.` } };
  }
  return raises('TypeError');
}

function describeValue(value: unknown): string {
  if (value === null) return 'is null';
  if (Array.isArray(value)) return 'is a list';
  if (typeof value === 'object') return 'is an object';
  if (typeof value === 'number') return `is ${Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity'}`;
  return `is ${JSON.stringify(value)}`;
}

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
  shadowed = new Uint8Array(this.capacity);

  add(category: number, offset: number): number {
    if (this.count === this.capacity) this.grow();
    const i = this.count++;
    this.category[i] = category;
    this.file[i] = -1;
    this.window[i] = NaN;
    this.entryOffset[i] = offset;
    this.fileOffset[i] = -1;
    this.windowOffset[i] = -1;
    this.shadowed[i] = 0;
    return i;
  }

  private grow(): void {
    this.capacity *= 2;
    for (const key of ['category', 'file', 'window', 'entryOffset', 'entryLength', 'fileOffset', 'fileLength', 'windowOffset', 'windowLength', 'shadowed'] as const) {
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
      shadowed: trim(this.shadowed),
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
  let constantEnd = 0;
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
        // A repeated key replaces the earlier value, as in Python.
        columns.file[i] = -1;
        columns.fileOffset[i] = span.offset;
        columns.fileLength[i] = span.length;
        // Known names were validated when first seen: 150,000 entries name ~5,000 files.
        const known = typeof literal === 'string' ? fileIds.get(literal) : undefined;
        if (known !== undefined) columns.file[i] = known;
        else if (typeof literal !== 'string') report(span, kind, '"cache_file" must be a string (a file name in the manifest\'s directory).');
        else if (!isBareFileName(literal)) {
          error(span, `"cache_file" must be a bare file name in the manifest's directory. Training opens cache_dir / "${literal}" if it exists, while its staleness check counts the entry as missing; NeuroCache does not read files outside the cache directory.`);
        }
        else fileIds.set(literal, (columns.file[i] = files.push(literal) - 1));
      } else if (key.name === 'window_idx') {
        columns.windowOffset[i] = span.offset;
        columns.windowLength[i] = span.length;
        const index = pythonIndex(kind === 'literal' ? literal : kind === 'array' ? [] : {});
        columns.window[i] = index.value ?? NaN;
        if (index.problem) {
          if (kind === 'literal') schema.push(diagnostic(span, index.problem.severity, 'manifest-schema', index.problem.message));
          else problem = index.problem.message;
        }
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
        // NaN, Infinity and -Infinity are floats to Python's json: values, not syntax errors.
        if (offset < constantEnd || (code === 4 && text.slice(constantEnd, offset).trim() === '' && constantEnd > 0)) {
          if (offset >= constantEnd) constantEnd = 0;
          return;
        }
        const constant = pythonConstantAt(text, offset);
        if (constant) {
          constantEnd = offset + constant.length;
          onValue({ offset, length: constant.length }, 'literal', constant === 'NaN' ? NaN : constant === 'Infinity' ? Infinity : -Infinity);
          return;
        }
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
  const entries = columns.finish();
  shadowEarlierDuplicates(rootKeys, entries);
  if (!rootSeen && text.trim() === '') schema.push(diagnostic({ offset: 0, length: 0 }, 'error', 'manifest-schema', 'Empty file.'));
  return { isManifest, rootKeys, files, entries, schema };
}

/** Marks the entries of every category key but the last of its name: `json.load` drops them. */
function shadowEarlierDuplicates(keys: CategoryKey[], entries: ManifestEntries): void {
  const last = new Map<Category, CategoryKey>();
  for (const key of keys) last.set(key.category, key);
  if (last.size === keys.length) return;
  for (let i = 0; i < entries.count; i++) {
    const kept = last.get(CATEGORIES[entries.category[i]])!.value;
    const offset = entries.entryOffset[i];
    if (offset < kept.offset || offset > kept.offset + kept.length) entries.shadowed[i] = 1;
  }
}

function flagDuplicateKeys(keys: CategoryKey[], out: Diagnostic[]): void {
  const seen = new Set<Category>();
  for (const key of keys) {
    if (seen.has(key.category)) out.push(diagnostic(key.key, 'warning', 'manifest-schema', `Duplicate key "${key.category}": Python's json keeps only the last one, so training ignores the earlier list.`));
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
  /** What Python raises for it, and so what the builder does with it. */
  failure?: LoadFailure;
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

/** The code for a cache file that cannot be read, by what the Python builder does with it. */
const FAILURE_CODE = { skipped: 'unreadable-cache-file', 'stops-build': 'cache-file-stops-build', unsupported: 'unsupported-cache-file' } as const;

/** "x cannot be read (why): numpy raises ..., the builder ..." for a file that failed. */
export function describeFailure(name: string, failure: LoadFailure): string {
  if (failure.unsupported) return `${name}: ${failure.message}. The Python builder lists its windows; NeuroCache cannot check them`;
  return `${name} cannot be read: ${failure.message}. ${describePythonOutcome(failure)}`;
}

/** What the Python builder does with a file that failed (an unopened FIFO or device: it would wait or read on). */
export function describePythonOutcome(failure: LoadFailure): string {
  if (failure.exception) return describeOutcome(failure.exception, failure.olderNumpy);
  return "NeuroCache does not open it; the Python builder's np.load would wait on a FIFO forever, or read a device until it ends";
}

function failureOf(facts: CacheFileFacts): LoadFailure {
  // A dangling symbolic link: Python's open() raises FileNotFoundError.
  if (!facts.exists) return { message: facts.error ?? 'no such file', exception: 'FileNotFoundError' };
  return facts.failure ?? { message: facts.error ?? 'unreadable' };
}

/** Content diagnostics: missing and unreadable files, ranges, duplicates, categories, staleness. */
export function checkManifest(parsed: ParsedManifest, input: ManifestCheckInput): Diagnostic[] {
  const out: Diagnostic[] = [];
  const { entries } = parsed;
  // Windows listed per file: finds duplicates, and later the windows no entry lists.
  const referencedWindows = new Map<number, Set<number>>();
  for (let i = 0; i < entries.count; i++) {
    const fileId = entries.file[i];
    if (fileId < 0 || entries.shadowed[i]) continue;
    const facts = input.files[fileId];
    const window = entries.window[i];
    const name = parsed.files[fileId];
    const fileSpan = { offset: entries.fileOffset[i], length: entries.fileLength[i] };
    if (!facts.exists) {
      const why = facts.error ? ` (${facts.error})` : '';
      out.push(diagnostic(fileSpan, 'error', 'missing-cache-file', `${name} does not exist${why}: training skips this entry.`));
      continue;
    }
    if (facts.error) {
      const failure = failureOf(facts);
      const outcome = failureOutcome(failure);
      const training = outcome === 'unsupported' ? '' : ' Training fails when it reads this entry.';
      out.push(diagnostic(fileSpan, outcome === 'unsupported' ? 'warning' : 'error', FAILURE_CODE[outcome], `${describeFailure(name, failure)}.${training}`));
      continue;
    }
    if (Number.isNaN(window)) continue;
    const summary = facts.summary;
    const count = summary ? (summary.hasLabels ? summary.windowCount : summary.windowsShape?.[0]) : undefined;
    // Python indexes from the end with a negative index.
    const index = window < 0 && count !== undefined ? count + window : window;
    if (index >= 0) {
      let windows = referencedWindows.get(fileId);
      if (!windows) referencedWindows.set(fileId, (windows = new Set()));
      if (windows.has(index)) {
        out.push(diagnostic(entrySpan(entries, i), 'warning', 'duplicate-entry', `${name} window ${index} is listed more than once: training uses it twice.`));
      } else windows.add(index);
    }
    if (!summary) continue;
    if (!summary.hasLabels) {
      out.push(diagnostic(entrySpan(entries, i), 'warning', 'no-labels', `${name} has no labels: the builder leaves such files out (a rebuild drops this entry); until then training uses this window with all-zero labels.`));
    }
    if (count !== undefined && (index < 0 || index >= count)) {
      const windowSpan = { offset: entries.windowOffset[i], length: entries.windowLength[i] };
      out.push(diagnostic(windowSpan, 'error', 'window-out-of-range', `${name} has ${count} windows; window_idx ${window} does not exist: training raises IndexError when it reads this entry.`));
      continue;
    }
    if (summary.windowsError) {
      out.push(diagnostic(fileSpan, 'error', 'unreadable-cache-file', `${name}: windows cannot be read (${summary.windowsError}). The builder still lists the file (it reads only labels), but training fails when it reads this window.`));
    }
    if (!summary.hasLabels) continue;
    const actual = categoryOf(summary, index);
    const listed = CATEGORIES[entries.category[i]];
    if (actual !== listed) {
      out.push(diagnostic(entrySpan(entries, i), 'error', 'category-mismatch', `Listed as ${listed}, but ${describeWindow(summary, index)}: it is ${actual}. The manifest is stale; rebuild it.`));
    }
  }
  out.push(...unreferenced(parsed, input, referencedWindows));
  return out;
}

function entrySpan(entries: ManifestEntries, i: number): Span {
  return { offset: entries.entryOffset[i], length: entries.entryLength[i] };
}

/** "41 of 15360 label samples (0.27%) are > 0" for a window of a file with labels. */
export function describeWindow(summary: NpzSummary, window: number): string {
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
      const failure = failureOf(facts);
      const outcome = failureOutcome(failure);
      // A file that stops the build matters even when the manifest lists it: the next rebuild fails.
      if (outcome === 'stops-build') {
        out.push(diagnostic(anchor, 'error', 'cache-file-stops-build', `${describeFailure(name, failure)}. Training rebuilds a missing or stale manifest, and that rebuild would fail; delete or regenerate the file.`));
      } else if (id === undefined) {
        out.push(diagnostic(anchor, 'warning', FAILURE_CODE[outcome], `${describeFailure(name, failure)}.`));
      }
    } else if (summary && !summary.hasLabels) {
      if (id === undefined) out.push(diagnostic(anchor, 'warning', 'no-labels', `${name} has no labels: the builder leaves it out ("has NO LABELS"), so training never sees its windows.`));
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

/** The trainer's own (42 / 0.3 / 2.5), kept with the other setting defaults in protocol.ts. */
export const DEFAULT_COMPOSITION: CompositionSettings = DEFAULT_TRAINING_SETTINGS;

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
  for (let i = 0; i < parsed.entries.count; i++) if (!parsed.entries.shadowed[i]) lists[CATEGORIES[parsed.entries.category[i]]].push(i);
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
    if (entries.shadowed[i]) continue;
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
    // Files without labels are left out ("has NO LABELS"), as the builder has done since commit 63689f9.
    if (!summary.hasLabels) continue;
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
