/**
 * Where a finding about a cache file as a whole sits in its manifest: on the `cache_file` of
 * the file's first entry when the manifest lists it (the path string it is about), else on the
 * `[` that opens the first category's list. Never on a category key: VS Code draws the problems
 * at a position above the hover, and the key's hover is the manifest's statistics, which six
 * findings about files in the folder would push out of sight.
 */
import type { TextSpan } from '../diagnostics';
import type { ParsedManifest } from './manifestParse';

/**
 * The anchor for each cache file name (call once per check). The entries are indexed at the first
 * question, not before: a check that finds nothing about whole files (the usual case) then never
 * walks a 1M-entry manifest for it.
 */
export function fileAnchors(parsed: ParsedManifest): (name: string) => TextSpan {
  let index: { first: Map<number, TextSpan>; ids: Map<string, number> } | undefined;
  const list = parsed.rootKeys[0]?.value;
  const bracket: TextSpan = list ? { offset: list.offset, length: 1 } : { offset: 0, length: 1 };
  return (name) => {
    index ??= indexFirstEntries(parsed);
    const id = index.ids.get(name);
    return (id !== undefined && index.first.get(id)) || bracket;
  };
}

function indexFirstEntries(parsed: ParsedManifest): { first: Map<number, TextSpan>; ids: Map<string, number> } {
  const { entries } = parsed;
  const first = new Map<number, TextSpan>();
  for (let i = 0; i < entries.count; i++) {
    const id = entries.file[i];
    // A shadowed entry is one Python's json drops: the entry training reads is the one to point at.
    if (id < 0 || entries.shadowed[i] || first.has(id)) continue;
    first.set(id, { offset: entries.fileOffset[i], length: entries.fileLength[i] });
  }
  return { first, ids: new Map(parsed.files.map((name, id) => [name, id])) };
}
