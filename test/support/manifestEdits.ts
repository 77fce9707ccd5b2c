/**
 * Random seizure manifests and random edits of them, for the differential tests of the
 * re-parse (unit and over stdio): values, names, whole entries inserted and deleted, stray
 * brackets, quotes and commas that break the JSON, keys renamed, multi-byte characters.
 */

export const NAMES = [
  'a_windows.npz',
  'b_windows.npz',
  'c.npz',
  'café_é.npz',
  '😀 cache.npz',
  '../up.npz',
  'd/e.npz',
  '',
];
const WINDOWS = ['0', '3', '17', '-1', '2.5', '1e0', '"4"', 'true', 'null', '{}', '[]', '99999'];

export function randomManifest(random: () => number, entries: number): string {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
  const entry = () =>
    random() < 0.9
      ? `{"cache_file": ${JSON.stringify(pick(NAMES.slice(0, 5)))}, "window_idx": ${Math.floor(random() * 20)}}`
      : `{"window_idx": ${pick(WINDOWS)}, "cache_file": ${JSON.stringify(pick(NAMES))}}`;
  const list = (n: number) => `[\n    ${Array.from({ length: n }, entry).join(',\n    ')}\n  ]`;
  const third = Math.floor(entries / 3);
  const lists = [
    `"partial_seizure": ${list(third)}`,
    `"full_seizure": ${list(third)}`,
    `"no_seizure": ${list(entries - 2 * third)}`,
  ];
  if (random() < 0.2) lists.pop(); // a missing category: its warning rides along
  return `{\n  ${lists.join(',\n  ')},\n  "note": "x"\n}\n`;
}

/** A random edit: where, how much to remove, what to insert. */
/** `kinds`: only these kinds of edit (0 a window_idx, 1 a cache_file, 2 a new entry, 3 an entry deleted, 4 to 8 anything). */
export function randomEdit(
  random: () => number,
  text: string,
  kinds?: number[],
): { offset: number; removed: number; inserted: string } {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
  const at = (pattern: RegExp) => {
    const hits = [...text.matchAll(pattern)];
    return hits.length ? pick(hits) : undefined;
  };
  const kind = kinds ? kinds[Math.floor(random() * kinds.length)] : Math.floor(random() * 9);
  if (kind === 0) {
    const hit = at(/"window_idx": ([^,}\n]*)/g);
    if (hit) return { offset: hit.index! + 14, removed: hit[1].length, inserted: pick(WINDOWS) };
  }
  if (kind === 1) {
    const hit = at(/"cache_file": ("[^"]*")/g);
    if (hit)
      return {
        offset: hit.index! + 14,
        removed: hit[1].length,
        inserted: random() < 0.8 ? JSON.stringify(pick(NAMES)) : pick(['7', '"ü\\u00e9.npz"', '"x\\"y.npz"']),
      };
  }
  if (kind === 2) {
    // A whole entry inserted after another (or before the first of a list).
    const hit = at(/\}(,?)\n/g) ?? at(/\[\n/g);
    if (hit) {
      const name = JSON.stringify(pick(NAMES));
      const entry = `{"cache_file": ${name}, "window_idx": ${pick(WINDOWS)}}`;
      return hit[0].startsWith('}')
        ? { offset: hit.index! + 1, removed: 0, inserted: `,\n    ${entry}` }
        : { offset: hit.index! + 2, removed: 0, inserted: `    ${entry},\n` };
    }
  }
  if (kind === 3) {
    // A whole entry deleted with its comma.
    const hit = at(/,\n {4}\{[^{}]*\}/g);
    if (hit) return { offset: hit.index!, removed: hit[0].length, inserted: '' };
  }
  if (kind === 4) {
    // Several entries at once, from inside one to inside another.
    const a = Math.floor(random() * text.length);
    const b = Math.min(text.length, a + Math.floor(random() * 200));
    return {
      offset: a,
      removed: b - a,
      inserted: random() < 0.5 ? '' : pick(['}, {', '{"cache_file": "c.npz", ', '']),
    };
  }
  if (kind === 5) {
    // A stray character that may break the JSON (a later edit may restore it).
    const offset = Math.floor(random() * text.length);
    return {
      offset,
      removed: 0,
      inserted: pick(['{', '}', '[', ']', ',', '"', ':', ' ', '\n', 'é', '😀', 'NaN', '0']),
    };
  }
  if (kind === 6) {
    const offset = Math.floor(random() * text.length);
    return { offset, removed: Math.min(text.length - offset, 1 + Math.floor(random() * 3)), inserted: '' };
  }
  if (kind === 7) {
    // A key renamed inside an entry, or a second cache_file.
    const hit = at(/"(cache_file|window_idx)"/g);
    if (hit)
      return pick([
        { offset: hit.index!, removed: hit[0].length, inserted: '"cache_fil"' },
        { offset: hit.index!, removed: 0, inserted: '"cache_file": "b_windows.npz", ' },
        { offset: hit.index! + 1, removed: 0, inserted: 'é' },
      ]);
  }
  // Whitespace between tokens, anywhere.
  const hit = at(/[,:] /g);
  if (hit) return { offset: hit.index! + 1, removed: 0, inserted: pick(['  ', '\n', '\t', '\r\n']) };
  return { offset: 0, removed: 0, inserted: '' };
}

export const applyEdit = (text: string, e: { offset: number; removed: number; inserted: string }) =>
  text.slice(0, e.offset) + e.inserted + text.slice(e.offset + e.removed);
