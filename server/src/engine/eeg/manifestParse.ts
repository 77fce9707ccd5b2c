/**
 * The seizure manifest's position-aware parse: one pass over the text into the columnar
 * entries (manifestEntries.ts), with schema problems as `manifest-schema` diagnostics and
 * Python's json semantics (NaN and Infinity load, a duplicate key keeps only the last list).
 */
import { JSONVisitor, visit } from 'jsonc-parser';
import { NotPlainJson, visitPlainItems, visitPlainJson } from '../json/fastJson';
import { Diagnostic, diagnostic, TextSpan } from '../diagnostics';
import { pythonConstantAt } from '../json/pythonJsonLoad';
import { Category, CATEGORIES } from './category';
import { EntryColumns, entryCapacity, ManifestEntries } from './manifestEntries';
import { pythonIndex } from './windowIndex';

export interface CategoryKey {
  category: Category;
  key: TextSpan;
  value: TextSpan;
  isArray: boolean;
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

type Frame = {
  role: 'root' | 'category' | 'entry' | 'other';
  category: number;
  entry: number;
  start: number;
  /** A schema error about this container, reported when its end (and so its range) is known. */
  problem?: string;
};

/**
 * What an edit needs from a parse to re-parse only the entries it touches (manifestReparse.ts):
 * kept for parses of plain JSON whose every schema problem is inside an entry, with one list per
 * category and one cache_file key per entry. Kept beside the parse, not in it, so a parse stays plain data.
 */
export interface ReparseState {
  /** The schema diagnostics inside entries, in document order (every one but `tail`). */
  entrySchema: Diagnostic[];
  /** What follows them in `schema`: the missing-categories warning, if any. */
  tail: Diagnostic[];
}

const reparseStates = new WeakMap<ParsedManifest, ReparseState>();

/** The re-parse state of a parse, when an edit may re-parse only what it touches. */
export function reparseStateOf(parsed: ParsedManifest): ReparseState | undefined {
  return reparseStates.get(parsed);
}

/** Records that `parsed` (made without a full parse, by manifestReparse.ts) can be re-parsed in turn. */
export function keepReparseState(parsed: ParsedManifest, state: ReparseState): ParsedManifest {
  reparseStates.set(parsed, state);
  return parsed;
}

/** Parses manifest text in one pass; schema problems become `manifest-schema` diagnostics. */
export function parseManifest(text: string): ParsedManifest {
  // Not plain valid JSON: jsonc-parser reports the syntax errors with their exact ranges.
  return parsePlainManifest(text) ?? parseManifestWithJsonc(text);
}

/**
 * The parse of a text that is plain valid JSON (fastJson.ts), else undefined. Such a text is
 * one Python's json.loads reads (see analyzeText): strict JSON, no BOM, at most 256 levels deep.
 */
export function parsePlainManifest(text: string): ParsedManifest | undefined {
  try {
    const collected = collectManifest(text, (events) => visitPlainJson(text, events));
    const { parsed, entrySchema, outsideEntries, repeatedFileKeys } = collected;
    const once = new Set(parsed.rootKeys.map((k) => k.category)).size === parsed.rootKeys.length;
    // Files are then numbered by the entries' names alone, as a re-parse numbers them.
    if (parsed.isManifest && outsideEntries === 0 && repeatedFileKeys === 0 && once)
      keepReparseState(parsed, { entrySchema, tail: parsed.schema.slice(entrySchema.length) });
    return parsed;
  } catch (error) {
    if (!(error instanceof NotPlainJson)) throw error;
    return undefined;
  }
}

/** The general path (also the reference the fast path is tested against). */
export function parseManifestWithJsonc(text: string): ParsedManifest {
  return collectManifest(text, (events) => visit(text, events, { disallowComments: true, allowTrailingComma: false }))
    .parsed;
}

/** Entries parsed from a piece of one category list (manifestReparse.ts), with offsets into the whole text. */
export interface ParsedItems {
  /** Distinct valid cache_file names, in order of first appearance in the piece. */
  files: string[];
  entries: ManifestEntries;
  /** Their schema diagnostics, in document order. */
  schema: Diagnostic[];
}

/**
 * The items of `text[from, to)`, a piece of the content of category `category`'s list, exactly as
 * a whole parse sees them; undefined when that is not certain (the piece is not a run of plain
 * JSON items fitting its neighbours, or one of its items is not an entry object).
 */
export function parseManifestItems(
  text: string,
  from: number,
  to: number,
  category: number,
  neighbours: { afterItem: boolean; beforeItem: boolean },
): ParsedItems | undefined {
  try {
    const collected = collectManifest(text, (events) => visitPlainItems(text, from, to, neighbours, events), category);
    if (collected.outsideEntries || collected.repeatedFileKeys) return undefined;
    const { files, entries, schema } = collected.parsed;
    return { files, entries, schema };
  } catch (error) {
    if (!(error instanceof NotPlainJson)) throw error;
    return undefined;
  }
}

type ManifestEvents = Parameters<typeof visitPlainJson>[1] & Pick<JSONVisitor, 'onError'>;

/**
 * The one pass behind every parse. `itemsOf`: the walk visits items of that category's list
 * (a piece of it), not a whole document. Counts the schema problems raised outside entries,
 * and keeps apart those inside them.
 */
function collectManifest(
  text: string,
  walk: (events: ManifestEvents) => void,
  itemsOf?: number,
): { parsed: ParsedManifest; entrySchema: Diagnostic[]; outsideEntries: number; repeatedFileKeys: number } {
  const schema: Diagnostic[] = [];
  const entrySchema: Diagnostic[] = [];
  let outsideEntries = 0;
  /** Entries' second cache_file keys: their first names stay in `files` with no entry naming them. */
  let repeatedFileKeys = 0;
  const rootKeys: CategoryKey[] = [];
  const files: string[] = [];
  const fileIds = new Map<string, number>();
  // A piece of a list is a few entries: grown as it fills. A whole text: allocated once.
  const columns = new EntryColumns(itemsOf === undefined ? entryCapacity(text) : undefined);
  // A piece of a list: inside the root object and that list already.
  const stack: Frame[] =
    itemsOf === undefined
      ? []
      : [
          { role: 'root', category: -1, entry: -1, start: -1 },
          { role: 'category', category: itemsOf, entry: -1, start: -1 },
        ];
  // The key just read, held in three variables, not an object per key (see RecentStrings in fastJson.ts).
  let propertyName: string | undefined;
  let propertyOffset = 0;
  let propertyLength = 0;
  const frames: Frame[] = [];
  let rootSeen = false;
  let constantEnd = 0;
  /** Whether the problem being raised is about an entry or something inside one (`stack[2]` is an entry). */
  let inEntry = () => stack.length > 2 && stack[2].role === 'entry';
  const push = (d: Diagnostic) => {
    schema.push(d);
    if (inEntry()) entrySchema.push(d);
    else outsideEntries++;
  };
  const error = (span: TextSpan, message: string) => push(diagnostic(span, 'error', 'manifest-schema', message));
  let problem: string | undefined;
  // Containers learn their length only at their end, so their problems wait in the frame.
  const report = (span: TextSpan, kind: 'object' | 'array' | 'literal', message: string) => {
    if (kind === 'literal') error(span, message);
    else problem = message;
  };

  // Called for each value (object, array or literal) with its span; returns the role of a container.
  // The span as two numbers: an object only where one is kept (a key, a diagnostic).
  const onValue = (
    offset: number,
    length: number,
    kind: 'object' | 'array' | 'literal',
    literal?: unknown,
  ): Frame['role'] => {
    const parent = stack[stack.length - 1];
    const keyName = propertyName;
    propertyName = undefined;
    if (!parent) {
      rootSeen = true;
      if (kind !== 'object')
        report(
          { offset, length },
          kind,
          'A seizure manifest must be a JSON object with partial_seizure, full_seizure and no_seizure lists.',
        );
      return 'root';
    }
    if (parent.role === 'root' && keyName !== undefined) {
      const category = CATEGORY_INDEX.get(keyName);
      if (category === undefined) return 'other';
      rootKeys.push({
        category: CATEGORIES[category],
        key: { offset: propertyOffset, length: propertyLength },
        value: { offset, length },
        isArray: kind === 'array',
      });
      if (kind !== 'array')
        report({ offset, length }, kind, `"${keyName}" must be a list of {"cache_file", "window_idx"} entries.`);
      return kind === 'array' ? 'category' : 'other';
    }
    if (parent.role === 'category') {
      if (kind !== 'object') {
        report(
          { offset, length },
          kind,
          'Each entry must be an object {"cache_file": "<name>.npz", "window_idx": <int>}.',
        );
        return 'other';
      }
      return 'entry';
    }
    if (parent.role === 'entry' && keyName !== undefined) {
      const i = parent.entry;
      if (keyName === 'cache_file') {
        // A repeated key replaces the earlier value, as in Python (the earlier name still counts among `files`).
        if (columns.fileStart[i] >= 0) repeatedFileKeys++;
        columns.file[i] = -1;
        columns.fileStart[i] = offset - columns.entryOffset[i];
        columns.fileLength[i] = length;
        // Known names were validated when first seen: 150,000 entries name ~5,000 files.
        const known = typeof literal === 'string' ? fileIds.get(literal) : undefined;
        if (known !== undefined) columns.file[i] = known;
        else if (typeof literal !== 'string')
          report({ offset, length }, kind, '"cache_file" must be a string (a file name in the manifest\'s directory).');
        else if (!isBareFileName(literal)) {
          error(
            { offset, length },
            `"cache_file" must be a bare file name in the manifest's directory. Training opens cache_dir / "${literal}" if it exists, while its staleness check counts the entry as missing; NeuroCache does not read files outside the cache directory.`,
          );
        } else fileIds.set(literal, (columns.file[i] = files.push(literal) - 1));
      } else if (keyName === 'window_idx') {
        columns.windowStart[i] = offset - columns.entryOffset[i];
        columns.windowLength[i] = length;
        // A whole number from 0 up is its own index (what pythonIndex says of it, without its answer object).
        if (typeof literal === 'number' && Number.isInteger(literal) && literal >= 0) {
          columns.window[i] = literal;
          return 'other';
        }
        const index = pythonIndex(kind === 'literal' ? literal : kind === 'array' ? [] : {});
        columns.window[i] = index.value ?? NaN;
        if (index.problem) {
          if (kind === 'literal')
            push(diagnostic({ offset, length }, index.problem.severity, 'manifest-schema', index.problem.message));
          else problem = index.problem.message;
        }
      }
    }
    return 'other';
  };

  const begin = (offset: number, kind: 'object' | 'array') => {
    problem = undefined;
    const role = onValue(offset, 0, kind);
    const parent = stack[stack.length - 1];
    // One frame per depth, used again by each container at that depth: not an object per entry.
    const frame = (frames[stack.length] ??= { role, category: -1, entry: -1, start: -1 });
    frame.role = role;
    frame.category = parent?.category ?? -1;
    frame.entry = -1;
    frame.start = offset;
    frame.problem = problem;
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
        if (columns.fileStart[i] >= 0 && columns.windowStart[i] >= 0) return;
        const span = { offset: columns.entryOffset[i], length: columns.entryLength[i] };
        // Popped already, but still about the entry.
        const outer = inEntry;
        inEntry = () => true;
        if (columns.fileStart[i] < 0) error(span, 'Entry has no "cache_file".');
        if (columns.windowStart[i] < 0) error(span, 'Entry has no "window_idx".');
        inEntry = outer;
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
      propertyName = name;
      propertyOffset = offset;
      propertyLength = length;
    },
    onLiteralValue(value, offset, length) {
      onValue(offset, length, 'literal', value);
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
        onValue(
          offset,
          constant.length,
          'literal',
          constant === 'NaN' ? NaN : constant === 'Infinity' ? Infinity : -Infinity,
        );
        return;
      }
      error({ offset, length }, `Invalid JSON (${jsonErrorText(code)}).`);
    },
  });

  const isManifest = rootKeys.length > 0;
  if (itemsOf !== undefined)
    return {
      parsed: { isManifest, rootKeys, files, entries: columns.finish(), schema },
      entrySchema,
      outsideEntries,
      repeatedFileKeys,
    };
  if (isManifest) {
    const present = new Set(rootKeys.map((k) => k.category));
    const missing = CATEGORIES.filter((c) => !present.has(c));
    if (missing.length) {
      schema.push(
        diagnostic(
          rootKeys[0].key,
          'warning',
          'manifest-schema',
          `Missing ${missing.map((m) => `"${m}"`).join(', ')}: training treats it as empty.`,
        ),
      );
    }
    flagDuplicateKeys(rootKeys, schema);
  }
  shadowEarlierDuplicates(rootKeys, columns);
  const entries = columns.finish();
  if (!rootSeen && text.trim() === '')
    schema.push(diagnostic({ offset: 0, length: 0 }, 'error', 'manifest-schema', 'Empty file.'));
  return { parsed: { isManifest, rootKeys, files, entries, schema }, entrySchema, outsideEntries, repeatedFileKeys };
}

/** Marks the entries of every category key but the last of its name (before the columns are finished): `json.load` drops them. */
function shadowEarlierDuplicates(keys: CategoryKey[], entries: EntryColumns): void {
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
    if (seen.has(key.category))
      out.push(
        diagnostic(
          key.key,
          'warning',
          'manifest-schema',
          `Duplicate key "${key.category}": Python's json keeps only the last one, so training ignores the earlier list.`,
        ),
      );
    seen.add(key.category);
  }
}

function jsonErrorText(code: number): string {
  const names: Record<number, string> = {
    1: 'invalid symbol',
    2: 'invalid number format',
    3: 'property name expected',
    4: 'value expected',
    5: 'colon expected',
    6: 'comma expected',
    7: 'closing brace expected',
    8: 'closing bracket expected',
    9: 'end of file expected',
    10: 'comments are not allowed',
    11: 'unexpected end of comment',
    12: 'unexpected end of string',
    13: 'unexpected end of number',
    14: 'invalid unicode',
    15: 'invalid escape character',
    16: 'invalid character',
  };
  return names[code] ?? `error ${code}`;
}
