/**
 * Where a finding about a cache file as a whole sits in its manifest: on the `cache_file` of
 * the file's first entry when the manifest lists it (the path string it is about), else on the
 * `[` that opens the first category's list. Never on a category key: VS Code draws the problems
 * at a position above the hover, and the key's hover is the manifest's statistics, which six
 * findings about files in the folder would push out of sight.
 */
import type { TextSpan } from '../diagnostics';
import { fileSpan } from './manifestEntries';
import type { ByteColumn, IntColumn } from './entryColumn';
import type { ParsedManifest } from './manifestParse';

/**
 * The anchor for each cache file name (call once per check). The entries are indexed at the first
 * question, not before: a check that finds nothing about whole files (the usual case) then never
 * walks a 1M-entry manifest for it.
 */
export function fileAnchors(parsed: ParsedManifest): (name: string) => TextSpan {
  let first: Int32Array | undefined;
  const list = parsed.rootKeys[0]?.value;
  const bracket: TextSpan = list ? { offset: list.offset, length: 1 } : { offset: 0, length: 1 };
  const { entries } = parsed;
  return (name) => {
    first ??= firstEntries(parsed);
    const id = fileIds(parsed.files).get(name);
    const i = id === undefined ? -1 : first[id];
    return i >= 0 ? fileSpan(entries, i) : bracket;
  };
}

/**
 * Per file id, the first entry naming it, kept by the columns it comes from: an edit's re-parse
 * shares them when it leaves them as they were (manifestReparse.ts), and the next check's anchors
 * then cost no walk of the entries.
 */
const firstEntriesKept = new WeakMap<IntColumn, { shadowed: ByteColumn; files: number; first: Int32Array }>();

function firstEntries(parsed: ParsedManifest): Int32Array {
  const { entries } = parsed;
  const kept = firstEntriesKept.get(entries.file);
  if (kept && kept.shadowed === entries.shadowed && kept.files === parsed.files.length) return kept.first;
  const first = new Int32Array(parsed.files.length).fill(-1);
  for (let i = 0; i < entries.count; i++) {
    const id = entries.file.at(i);
    // A shadowed entry is one Python's json drops: the entry training reads is the one to point at.
    if (id < 0 || entries.shadowed.at(i) || first[id] >= 0) continue;
    first[id] = i;
  }
  firstEntriesKept.set(entries.file, { shadowed: entries.shadowed, files: parsed.files.length, first });
  return first;
}

const fileIdsKept = new WeakMap<readonly string[], Map<string, number>>();

/** Each name's id in `files` (a parse's `files`, never changed once made: kept while re-parses share it). */
export function fileIds(files: readonly string[]): Map<string, number> {
  let ids = fileIdsKept.get(files);
  if (!ids) fileIdsKept.set(files, (ids = new Map(files.map((name, id) => [name, id]))));
  return ids;
}
