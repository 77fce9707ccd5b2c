/**
 * Where a finding about a cache file as a whole sits in its manifest: on the `cache_file` of
 * the file's first entry when the manifest lists it (the path string it is about), else on the
 * `[` that opens the first category's list. Never on a category key: VS Code draws the problems
 * at a position above the hover, and the key's hover is the manifest's statistics, which six
 * findings about files in the folder would push out of sight.
 */
import type { TextSpan } from '../diagnostics';
import type { ParsedManifest } from './manifestParse';

/** The anchor for each cache file name (call once per check: it indexes the entries). */
export function fileAnchors(parsed: ParsedManifest): (name: string) => TextSpan {
  const { entries } = parsed;
  const first = new Map<number, TextSpan>();
  for (let i = 0; i < entries.count; i++) {
    const id = entries.file[i];
    // A shadowed entry is one Python's json drops: the entry training reads is the one to point at.
    if (id < 0 || entries.shadowed[i] || first.has(id)) continue;
    first.set(id, { offset: entries.fileOffset[i], length: entries.fileLength[i] });
  }
  const ids = new Map(parsed.files.map((name, id) => [name, id]));
  const list = parsed.rootKeys[0]?.value;
  const bracket: TextSpan = list ? { offset: list.offset, length: 1 } : { offset: 0, length: 1 };
  return (name) => {
    const id = ids.get(name);
    return (id !== undefined && first.get(id)) || bracket;
  };
}
