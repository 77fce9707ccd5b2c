/**
 * An edit's re-parse of a seizure manifest: only the entries the edit touches are parsed again,
 * the rest carried over from the previous parse (later offsets shifted by the edit's length
 * change), giving exactly what `parseManifest` gives for the new text. On a 1M-entry manifest a
 * keystroke then costs a few typed-array copies instead of a parse of ~90 MB.
 *
 * Only when it is certain: the previous parse kept its re-parse state (plain JSON, one list per
 * category, every schema problem inside an entry), the edit lies within one category list's
 * brackets, and the new text of the touched stretch is a run of plain JSON entry objects that
 * fits between its neighbours. Anything else (a key, a bracket, broken JSON, NaN) is undefined:
 * the caller parses the whole text.
 */
import { Diagnostic } from '../diagnostics';
import { CATEGORIES } from './category';
import { fileIds } from './fileAnchor';
import { ByteColumn, IntColumn, NumberColumn, OffsetColumn, Values } from './entryColumn';
import { ManifestEntries } from './manifestEntries';
import {
  CategoryKey,
  keepReparseState,
  ParsedItems,
  ParsedManifest,
  parseManifestItems,
  reparseStateOf,
} from './manifestParse';

/** One replaced range of the previous text: `removed` characters at `offset` became `inserted` ones. */
export interface TextChange {
  offset: number;
  removed: number;
  inserted: number;
}

/** The first index in [low, high) for which `isAfter` holds (it must hold from some index on). */
function firstWhere(low: number, high: number, isAfter: (i: number) => boolean): number {
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (isAfter(middle)) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** A text read in ranges (an editor's document need not be one string: only the edited stretch is made one). */
export interface TextSource {
  readonly length: number;
  slice(from: number, to: number): string;
}

/** The parse of `text` (the previous text with `change` applied), or undefined when only a whole parse can tell. */
export function reparseManifest(
  previous: ParsedManifest,
  text: string | TextSource,
  change: TextChange,
): ParsedManifest | undefined {
  const state = reparseStateOf(previous);
  if (!state) return undefined;
  const start = change.offset;
  const end = start + change.removed;
  const delta = change.inserted - change.removed;
  // Strictly inside one list's brackets.
  const list = previous.rootKeys.find(
    (k) => k.isArray && k.value.offset < start && end < k.value.offset + k.value.length,
  );
  if (!list) return undefined;
  const listEnd = list.value.offset + list.value.length;
  const { entries } = previous;
  const { entryOffset, entryLength } = entries;
  const endOf = (i: number) => entryOffset.at(i) + entryLength.at(i);
  // The list's entries (one list per category, so they are contiguous), then those the edit touches.
  const first = firstWhere(0, entries.count, (i) => entryOffset.at(i) > list.value.offset);
  const last = firstWhere(first, entries.count, (i) => entryOffset.at(i) >= listEnd);
  const from = firstWhere(first, last, (i) => endOf(i) >= start);
  const to = firstWhere(from, last, (i) => entryOffset.at(i) > end);
  // From the end of the entry before to the start of the one after (or the list's brackets).
  const pieceStart = from > first ? endOf(from - 1) : list.value.offset + 1;
  const pieceEnd = to < last ? entryOffset.at(to) : listEnd - 1;
  const category = CATEGORIES.indexOf(list.category);
  const items = itemsOf(text, pieceStart, pieceEnd + delta, category, {
    afterItem: from > first,
    beforeItem: to < last,
  });
  if (!items) return undefined;

  const { files, columns } = spliceEntries(previous, from, to, items.entries, items.files, delta);
  const rootKeys = previous.rootKeys.map((k): CategoryKey => {
    if (k === list) return { ...k, value: { offset: k.value.offset, length: k.value.length + delta } };
    if (k.key.offset < list.key.offset) return k;
    return {
      ...k,
      key: { offset: k.key.offset + delta, length: k.key.length },
      value: { offset: k.value.offset + delta, length: k.value.length },
    };
  });
  // Entry problems lie inside their entries: those of the replaced ones sit in [pieceStart, pieceEnd).
  const before = firstWhere(0, state.entrySchema.length, (i) => state.entrySchema[i].offset >= pieceStart);
  const after = firstWhere(before, state.entrySchema.length, (i) => state.entrySchema[i].offset >= pieceEnd);
  const shifted = (d: Diagnostic) => (delta === 0 ? d : { ...d, offset: d.offset + delta });
  const entrySchema = [
    ...state.entrySchema.slice(0, before),
    ...items.schema,
    ...state.entrySchema.slice(after).map(shifted),
  ];
  const parsed: ParsedManifest = {
    isManifest: true,
    rootKeys,
    files,
    entries: columns,
    schema: [...entrySchema, ...state.tail],
  };
  return keepReparseState(parsed, { entrySchema, tail: state.tail });
}

/**
 * `parseManifestItems` of `text[from, to)`, read as one string only that far (and one character
 * beyond, which ends the piece's last value as it does in the whole text), offsets made whole-text ones.
 */
function itemsOf(
  text: string | TextSource,
  from: number,
  to: number,
  category: number,
  neighbours: { afterItem: boolean; beforeItem: boolean },
): ParsedItems | undefined {
  if (typeof text === 'string') return parseManifestItems(text, from, to, category, neighbours);
  const piece = text.slice(from, to + 1);
  const items = parseManifestItems(piece, 0, to - from, category, neighbours);
  if (!items) return undefined;
  const { entries } = items;
  const entryOffset = OffsetColumn.of(Int32Array.from(entries.entryOffset, (offset) => offset + from));
  return {
    ...items,
    entries: { ...entries, entryOffset },
    schema: items.schema.map((d) => ({ ...d, offset: d.offset + from })),
  };
}

/**
 * The previous columns with entries [from, to) replaced by `added` (whose `file` ids index
 * `addedFiles`), later offsets moved by `delta`, and file ids numbered again by first appearance,
 * as a whole parse numbers them.
 */
function spliceEntries(
  previous: ParsedManifest,
  from: number,
  to: number,
  added: ManifestEntries,
  addedFiles: string[],
  delta: number,
): { files: string[]; columns: ManifestEntries } {
  const old = previous.entries;
  const count = old.count - (to - from) + added.count;
  const sameCount = added.count === to - from;
  // A column the edit leaves as it was is shared with the previous parse (parses are never
  // changed once made); one it changes shares every chunk but those the edit lies in (entryColumn.ts).
  const splice = <C extends ByteColumn | IntColumn | NumberColumn>(oldColumn: C, addedColumn: Values): C =>
    sameCount && oldColumn.holds(from, addedColumn) ? oldColumn : (oldColumn.replaced(from, to, addedColumn) as C);
  // The added entries' names among the known ones (new names after them), then ids by first appearance.
  const names = previous.files.slice();
  // The previous names' ids are kept by their array (fileAnchor.ts): 35,000 names are not hashed again per edit.
  const known = fileIds(previous.files);
  const newNames = new Map<string, number>();
  const ids = addedFiles.map((name) => {
    let id = known.get(name) ?? newNames.get(name);
    if (id === undefined) newNames.set(name, (id = names.push(name) - 1));
    return id;
  });
  const addedIds = IntColumn.of(Int32Array.from(added.file, (id) => (id >= 0 ? ids[id] : id)));
  const sameOffsets = delta === 0 && sameCount && old.entryOffset.holds(from, added.entryOffset);
  const columns: ManifestEntries = {
    count,
    category: splice(old.category, added.category),
    file: splice(old.file, addedIds),
    window: splice(old.window, added.window),
    entryOffset: sameOffsets ? old.entryOffset : old.entryOffset.shifted(from, to, added.entryOffset, delta),
    entryLength: splice(old.entryLength, added.entryLength),
    fileStart: splice(old.fileStart, added.fileStart),
    fileLength: splice(old.fileLength, added.fileLength),
    windowStart: splice(old.windowStart, added.windowStart),
    windowLength: splice(old.windowLength, added.windowLength),
    // No entry of a parse that can be re-parsed is shadowed (one list per category).
    shadowed: sameCount ? old.shadowed : ByteColumn.of(new Uint8Array(count)),
  };
  // The same ids where they were (a shared column), or first appearances kept: the numbering holds.
  if (columns.file === old.file || sameFirstAppearances(old.file, from, to, addedIds))
    return { files: previous.files, columns };
  const file = new Int32Array(count);
  const renumbered = new Int32Array(names.length).fill(-1);
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = columns.file.at(i);
    if (id < 0) {
      file[i] = id;
      continue;
    }
    let next = renumbered[id];
    if (next < 0) {
      next = renumbered[id] = files.length;
      files.push(names[id]);
    }
    file[i] = next;
  }
  return { files, columns: { ...columns, file: IntColumn.of(file) } };
}

/**
 * Whether replacing entries [from, to) of `file` by `added` (ids in the same numbering) leaves every
 * file's first appearance where it was, and so the numbering as it is: when each removed and added
 * entry names a file that an entry before `from` names already. Ids number files by first
 * appearance, so the entries before `from` name exactly the ids up to their largest. A typed-over
 * window_idx or a changed name among known ones is then one read of the entries before the edit,
 * not a renumbering of them all.
 */
function sameFirstAppearances(file: IntColumn, from: number, to: number, added: IntColumn): boolean {
  let seen = -1;
  for (let i = 0; i < from; i++) seen = Math.max(seen, file.at(i));
  for (let i = from; i < to; i++) if (file.at(i) > seen) return false;
  for (let i = 0; i < added.length; i++) if (added.at(i) > seen) return false;
  return true;
}
