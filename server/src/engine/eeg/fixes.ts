/** Fixes for seizure manifests and EEG dataset indexes. */
import { TextEdit } from '../json/edits';
import { pythonJsonDumpsIndented } from '../json/pythonJsonDump';
import { Category, CATEGORIES } from './category';
import type { IndexFileFacts, ParsedDatasetIndex } from './datasetIndex';
import { entrySpan, ManifestEntries } from './manifestEntries';
import type { ParsedManifest } from './manifestParse';

/**
 * The manifest without the entries `keep` rejects, in the pipeline's own format (other root
 * keys and their order are preserved). Undefined when the text is not valid JSON.
 */
export function dropEntries(
  text: string,
  keep: (cacheFile: unknown) => boolean,
): { text: string; dropped: number } | undefined {
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(text);
  } catch {
    return undefined;
  }
  let dropped = 0;
  for (const category of CATEGORIES) {
    const entries = manifest[category];
    if (!Array.isArray(entries)) continue;
    manifest[category] = entries.filter((entry) => {
      const kept = keep((entry as { cache_file?: unknown } | null)?.cache_file);
      if (!kept) dropped++;
      return kept;
    });
  }
  return { text: pythonJsonDumpsIndented(manifest), dropped };
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\n' || c === '\r' || c === '\t';

/** The first offset at or after `at` that is not JSON whitespace. */
function skipSpaceForward(text: string, at: number): number {
  while (isSpace(text[at])) at++;
  return at;
}

/** The last offset before `at` that is not JSON whitespace (-1 when none). */
function skipSpaceBack(text: string, at: number): number {
  at--;
  while (at >= 0 && isSpace(text[at])) at--;
  return at;
}

/**
 * Removes one entry from its list with the comma that separates it, keeping the list's layout:
 * with the comma and space after it when an entry follows, else with the comma before it, else
 * (the only entry) leaving `[]`.
 */
export function dropEntryEdit(text: string, entries: ManifestEntries, i: number): TextEdit {
  const { offset, length } = entrySpan(entries, i);
  const end = offset + length;
  const next = skipSpaceForward(text, end);
  if (text[next] === ',') return { offset, length: skipSpaceForward(text, next + 1) - offset, newText: '' };
  const previous = skipSpaceBack(text, offset);
  if (text[previous] === ',') return { offset: previous, length: end - previous, newText: '' };
  // The only entry: from after `[` to `]`.
  return { offset: previous + 1, length: next - previous - 1, newText: '' };
}

/**
 * Moves one entry to the end of the `to` list (the last one of that name, the one Python's json
 * keeps), spaced like the entry was; undefined when the manifest has no such list.
 */
export function moveEntryEdits(text: string, parsed: ParsedManifest, i: number, to: Category): TextEdit[] | undefined {
  const target = parsed.rootKeys.filter((k) => k.category === to && k.isArray).at(-1);
  if (!target || CATEGORIES[parsed.entries.category.at(i)] === to) return undefined;
  const { offset, length } = entrySpan(parsed.entries, i);
  const entryText = text.slice(offset, offset + length);
  // The entry's indentation in its list, and that of its list's closing bracket.
  const lead = text.slice(skipSpaceBack(text, offset) + 1, offset);
  const source = parsed.rootKeys.find(
    (k) => k.isArray && offset > k.value.offset && offset < k.value.offset + k.value.length,
  );
  const sourceClose = source ? source.value.offset + source.value.length - 1 : offset + length;
  const closing = text.slice(skipSpaceBack(text, sourceClose) + 1, sourceClose);
  const close = target.value.offset + target.value.length - 1;
  const last = skipSpaceBack(text, close);
  const insert: TextEdit =
    text[last] === '['
      ? { offset: last + 1, length: close - last - 1, newText: `${lead}${entryText}${closing}` }
      : { offset: last + 1, length: 0, newText: `,${lead}${entryText}` };
  return [dropEntryEdit(text, parsed.entries, i), insert];
}

/**
 * Sets one recorded window count of a `_dataset_index.json` to the windows its cache holds;
 * undefined when training does not use the index as is, or there is nothing to change.
 */
export function windowCountEdit(
  parsed: ParsedDatasetIndex,
  k: number,
  facts: IndexFileFacts | undefined,
): TextEdit | undefined {
  const file = parsed.files[k];
  const windows = facts?.windows;
  if (parsed.outcome.kind !== 'trusted' || !file?.countSpan || windows === undefined || file.count === windows)
    return undefined;
  return { offset: file.countSpan.offset, length: file.countSpan.length, newText: String(windows) };
}
