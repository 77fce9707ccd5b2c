/**
 * Python's `json.dump` / `json.dumps` output, byte for byte (ensure_ascii): what the pipeline
 * itself writes, and so what NeuroCache writes when it builds or fixes a file.
 */

const asciiOnly = (json: string) =>
  json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Python's `json.dumps(value, indent=2)` (ensure_ascii): what the pipeline itself writes. */
export function pythonJsonDumpsIndented(value: unknown): string {
  return asciiOnly(JSON.stringify(value, null, 2));
}

/** Python's `json.dumps(value)` with its defaults: `", "` and `": "` separators, no indentation, ensure_ascii. */
export function pythonJsonDumps(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([key, item]) => `${asciiOnly(JSON.stringify(key))}: ${pythonJsonDumps(item)}`)
      .join(', ')}}`;
  }
  return asciiOnly(JSON.stringify(value));
}
