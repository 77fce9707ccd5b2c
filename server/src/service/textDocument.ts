/**
 * Open documents whose edits are queued as they arrive and applied in one pass when the text
 * is next read. A burst of 5,000 small edits on a 13 MB manifest then costs one rebuild of
 * the text instead of 5,000 (applying each edit at once costs a copy of the text and an
 * update of every later line offset, per edit).
 *
 * Positions follow LSP: 0-based lines split at \r\n, \n or \r; characters in UTF-16 code
 * units (JavaScript's own); a character past the line's end means its end, a line past the
 * last means the end of the text.
 */

export interface TextPosition {
  line: number;
  character: number;
}

/** LSP's `TextDocumentContentChangeEvent`: a range edit, or the whole text. */
export type ContentChange =
  { range: { start: TextPosition; end: TextPosition }; text: string } | { range?: undefined; text: string };

/** One version of a document's text, with lazily computed line starts. */
export class TextSnapshot {
  /** Line starts computed by scanning a whole text (for the work counters and tests). */
  static fullScans = 0;

  constructor(
    readonly text: string,
    readonly version: number,
    private starts?: number[],
  ) {}

  /**
   * This text with one range replaced. The line starts (when known) are carried over instead of
   * rescanned: those before the edit kept, the edited lines scanned, those after shifted. On a
   * 1M-entry manifest (~6M lines) a keystroke then costs an array copy, not a scan of 120 MB
   * and a split into millions of line strings.
   */
  edited(range: { start: TextPosition; end: TextPosition }, replacement: string, version: number): TextSnapshot {
    let start = this.offsetAt(range.start);
    let end = this.offsetAt(range.end);
    if (end < start) [start, end] = [end, start]; // inverted, taken the right way round
    const text = this.text.slice(0, start) + replacement + this.text.slice(end);
    const old = this.lineStarts();
    // From the line before the edit's (a \r there may join a \n the replacement starts with) to
    // the line after the edit's end line (the first whose start nothing in the edit can move).
    const first = Math.max(0, lineOf(old, start) - 1);
    const after = lineOf(old, end) + 2;
    const delta = replacement.length - (end - start);
    const scanFrom = old[first];
    const scanTo = after < old.length ? old[after] + delta : text.length;
    const starts = old.slice(0, first + 1);
    for (let i = scanFrom; i < scanTo; i++) {
      const c = text.charCodeAt(i);
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      if ((c === 13 || c === 10) && i + 1 < scanTo) starts.push(i + 1);
    }
    if (after < old.length) {
      for (let line = after; line < old.length; line++) starts.push(old[line] + delta);
    } else if (scanTo > scanFrom && isLineBreak(text.charCodeAt(scanTo - 1))) starts.push(scanTo);
    return new TextSnapshot(text, version, starts);
  }

  private lineStarts(): number[] {
    if (!this.starts) {
      TextSnapshot.fullScans++;
      const starts = [0];
      const text = this.text;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
        if (c === 13 || c === 10) starts.push(i + 1);
      }
      this.starts = starts;
    }
    return this.starts;
  }

  offsetAt(position: TextPosition): number {
    const starts = this.lineStarts();
    if (position.line >= starts.length) return this.text.length;
    if (position.line < 0) return 0;
    const start = starts[position.line];
    let end = position.line + 1 < starts.length ? starts[position.line + 1] : this.text.length;
    // The character may not reach into the line break.
    while (end > start && isLineBreak(this.text.charCodeAt(end - 1))) end--;
    return Math.min(start + Math.max(0, position.character), end);
  }

  positionAt(offset: number): TextPosition {
    const starts = this.lineStarts();
    const at = Math.max(0, Math.min(offset, this.text.length));
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (starts[middle] <= at) low = middle;
      else high = middle - 1;
    }
    // An offset inside a line break counts as the end of the line's content.
    let end = at;
    while (end > starts[low] && isLineBreak(this.text.charCodeAt(end - 1))) end--;
    return { line: low, character: end - starts[low] };
  }
}

const isLineBreak = (c: number) => c === 10 || c === 13;

/** The line holding `offset`: the last start at or before it. */
function lineOf(starts: number[], offset: number): number {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (starts[middle] <= offset) low = middle;
    else high = middle - 1;
  }
  return low;
}

/** The text's lines, each with its line break (\r\n, \n or \r); at least one (possibly empty) line. */
function splitLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 10 && c !== 13) continue;
    if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
    lines.push(text.slice(start, i + 1));
    start = i + 1;
  }
  if (start < text.length || lines.length === 0) lines.push(text.slice(start));
  return lines;
}

const contentLength = (line: string) => {
  let end = line.length;
  while (end > 0 && isLineBreak(line.charCodeAt(end - 1))) end--;
  return end;
};

/** Applies LSP range changes in order (each relative to the text the previous ones produced). */
export function applyChanges(text: string, changes: readonly ContentChange[]): string {
  let lines: string[] | undefined;
  for (const change of changes) {
    if (!change.range) {
      lines = undefined;
      text = change.text;
      continue;
    }
    lines ??= splitLines(text);
    // A position as (line index, character within that line); past the last line: the very end.
    const locate = ({ line, character }: TextPosition): [number, number] => {
      if (line >= lines!.length) return [lines!.length - 1, lines![lines!.length - 1].length];
      if (line < 0) return [0, 0];
      return [line, Math.min(Math.max(0, character), contentLength(lines![line]))];
    };
    let [startLine, startCharacter] = locate(change.range.start);
    let [endLine, endCharacter] = locate(change.range.end);
    // An inverted range is taken the right way round, as vscode-languageserver-textdocument does.
    if (endLine < startLine || (endLine === startLine && endCharacter < startCharacter)) {
      [startLine, startCharacter, endLine, endCharacter] = [endLine, endCharacter, startLine, startCharacter];
    }
    // A \r ending the previous line joins a \n the new text may start with: split them together.
    const first = startLine > 0 && lines[startLine - 1].endsWith('\r') ? startLine - 1 : startLine;
    const before = (first < startLine ? lines[first] : '') + lines[startLine].slice(0, startCharacter);
    // Keeps the end line's break, so the next line cannot join what comes before it.
    const after = lines[endLine].slice(endCharacter);
    lines.splice(first, endLine - first + 1, ...splitLines(before + change.text + after));
  }
  return lines ? lines.join('') : text;
}

/** An open document: edits are queued by `update` and applied when `snapshot` is next called. */
export class OpenDocument {
  private current: TextSnapshot;
  private queued: ContentChange[] = [];
  private queuedVersion: number;
  /** Times queued edits were applied (for the work counters). */
  textBuilds = 0;

  constructor(
    readonly uri: string,
    version: number,
    text: string,
  ) {
    this.current = new TextSnapshot(text, version);
    this.queuedVersion = version;
  }

  get version(): number {
    return this.queuedVersion;
  }

  update(changes: readonly ContentChange[], version: number): void {
    for (const change of changes) {
      // A whole-text change makes everything queued before it irrelevant.
      if (!change.range) this.queued = [];
      this.queued.push(change);
    }
    this.queuedVersion = version;
  }

  /** The latest text; applies the queued edits once. */
  snapshot(): TextSnapshot {
    if (this.queued.length || this.current.version !== this.queuedVersion) {
      const changes = this.queued;
      this.queued = [];
      this.textBuilds++;
      // One edit (a keystroke between two reads): replaced in place, line starts carried over.
      // Several: split into lines once and applied there (a burst costs one pass).
      const [only] = changes;
      this.current =
        changes.length === 1 && only.range
          ? this.current.edited(only.range, only.text, this.queuedVersion)
          : new TextSnapshot(applyChanges(this.current.text, changes), this.queuedVersion);
    }
    return this.current;
  }
}
