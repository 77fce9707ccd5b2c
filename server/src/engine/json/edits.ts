/**
 * Text edits: what every fix is made of. Fixes are applied as workspace edits to an open
 * buffer, or to the text of a closed file that is then written atomically.
 */
export interface TextEdit {
  offset: number;
  length: number;
  newText: string;
}

export function applyEdits(text: string, edits: TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => b.offset - a.offset);
  let out = text;
  for (const e of sorted) out = out.slice(0, e.offset) + e.newText + out.slice(e.offset + e.length);
  return out;
}
