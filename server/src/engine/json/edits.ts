/**
 * Text edits and Python's JSON output: what every fix is made of. Fixes are applied as workspace
 * edits to an open buffer, or to the text of a closed file that is then written atomically.
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

const asciiOnly = (json: string) => json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Python's `json.dumps(value, indent=2)` (ensure_ascii): what the pipeline itself writes. */
export function pythonJson(value: unknown): string {
  return asciiOnly(JSON.stringify(value, null, 2));
}

/** Python's `json.dumps(value)` with its defaults: `", "` and `": "` separators, no indentation, ensure_ascii. */
export function pythonJsonDumps(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([key, item]) => `${asciiOnly(JSON.stringify(key))}: ${pythonJsonDumps(item)}`).join(', ')}}`;
  }
  return asciiOnly(JSON.stringify(value));
}

