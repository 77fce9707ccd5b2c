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

import { LineStarts } from './lineStarts';
import { LineStartsBuilder } from './lineStartsBuilder';
import { PieceText } from './pieceText';

export interface TextPosition {
  line: number;
  character: number;
}

/** LSP's `TextDocumentContentChangeEvent`: a range edit, or the whole text. */
export type ContentChange = RangeChange | { range?: undefined; text: string };

type RangeChange = { range: { start: TextPosition; end: TextPosition }; text: string };

/** Where a snapshot differs from the one it was made from: `removed` characters at `offset` became `inserted` ones. */
export interface SnapshotChange {
  /** The `id` of the snapshot it was made from. */
  baseId: number;
  offset: number;
  removed: number;
  inserted: number;
}

let lastSnapshotId = 0;

/** One version of a document's text, with lazily computed line starts. */
export class TextSnapshot {
  /** Line starts computed by scanning a whole text (for the work counters and tests). */
  static fullScans = 0;
  /** Tells snapshots apart (a change names the snapshot it was made from without holding on to its text). */
  readonly id = ++lastSnapshotId;

  /** The text, as a root with the pieces edits replaced (made whole only when `text` is read). */
  readonly content: PieceText;

  constructor(
    text: string | PieceText,
    readonly version: number,
    private starts?: LineStarts,
    /** How this text differs from earlier snapshots it was made from by range edits, nearest first. */
    readonly since: readonly SnapshotChange[] = [],
  ) {
    this.content = typeof text === 'string' ? new PieceText(text) : text;
  }

  /** The whole text (after edits, built once when first read: a whole parse needs it, a re-parse does not). */
  get text(): string {
    return this.content.toString();
  }

  get length(): number {
    return this.content.length;
  }

  slice(from: number, to: number): string {
    return this.content.slice(from, to);
  }

  hasReplacementCharacter(): boolean {
    return this.content.hasReplacementCharacter();
  }

  /** How this text differs from the snapshot with id `baseId`, when it was made from it by range edits. */
  changeSince(baseId: number): SnapshotChange | undefined {
    return this.since.find((c) => c.baseId === baseId);
  }

  /**
   * This text with one range replaced. The line starts (when known) are carried over instead of
   * rescanned: those before the edit kept, the edited lines scanned, those after shifted (a
   * number per chunk of lines, see lineStarts.ts). On a 1M-entry manifest (~4.2M lines) a
   * keystroke then costs a few chunk shifts, not a scan of 120 MB and a split into millions of
   * line strings.
   */
  edited(range: { start: TextPosition; end: TextPosition }, replacement: string, version: number): TextSnapshot {
    let start = this.offsetAt(range.start);
    let end = this.offsetAt(range.end);
    if (end < start) [start, end] = [end, start]; // inverted, taken the right way round
    const text = this.content.replaced(start, end, replacement);
    const old = this.lineStarts();
    // From the line before the edit's (a \r there may join a \n the replacement starts with) to
    // the line after the edit's end line (the first whose start nothing in the edit can move).
    const first = Math.max(0, old.lineOf(start) - 1);
    const after = Math.min(old.lineOf(end) + 2, old.count);
    const delta = replacement.length - (end - start);
    const scanFrom = old.at(first);
    const scanTo = after < old.count ? old.at(after) + delta : text.length;
    const scanned: number[] = [];
    for (let i = scanFrom; i < scanTo; i++) {
      const c = text.charCodeAt(i);
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      if ((c === 13 || c === 10) && i + 1 < scanTo) scanned.push(i + 1);
    }
    // Through the end of the text: a line break ending it starts one more (empty) line.
    if (after === old.count && scanTo > scanFrom && isLineBreak(text.charCodeAt(scanTo - 1))) scanned.push(scanTo);
    const starts = old.spliced(first + 1, after, scanned, delta);
    const change = { baseId: this.id, offset: start, removed: end - start, inserted: replacement.length };
    return new TextSnapshot(text, version, starts, sinceEarlier(this, change));
  }

  /** Offsets at which lines start (0 first): computed once per text, or carried over from the snapshot it was made from. */
  lineStarts(): LineStarts {
    if (!this.starts) {
      TextSnapshot.fullScans++;
      this.starts = scanLineStarts(this.text);
    }
    return this.starts;
  }

  offsetAt(position: TextPosition): number {
    const starts = this.lineStarts();
    if (position.line >= starts.count) return this.length;
    if (position.line < 0) return 0;
    const start = starts.at(position.line);
    let end = position.line + 1 < starts.count ? starts.at(position.line + 1) : this.length;
    // The character may not reach into the line break.
    while (end > start && isLineBreak(this.content.charCodeAt(end - 1))) end--;
    return Math.min(start + Math.max(0, position.character), end);
  }

  positionAt(offset: number): TextPosition {
    const starts = this.lineStarts();
    const at = Math.max(0, Math.min(offset, this.length));
    const line = starts.lineOf(at);
    const start = starts.at(line);
    // An offset inside a line break counts as the end of the line's content.
    let end = at;
    while (end > start && isLineBreak(this.content.charCodeAt(end - 1))) end--;
    return { line, character: end - start };
  }
}

/**
 * Where the lines of `text` start. Breaks are found by the engine's native `indexOf`, 3-4x the
 * speed of reading every character (an 88 MB manifest: ~150 ms instead of ~600, which its
 * first hover after open waited for), unless a lone CR breaks a line: CRLF starts its line after
 * the LF just as LF does, so only CR alone needs the reading of every character.
 */
function scanLineStarts(text: string): LineStarts {
  if (hasLoneCarriageReturn(text)) return scanEveryCharacter(text);
  const starts = new LineStartsBuilder();
  starts.push(0);
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) starts.push(at + 1);
  return starts.finish();
}

function hasLoneCarriageReturn(text: string): boolean {
  for (let at = text.indexOf('\r'); at !== -1; at = text.indexOf('\r', at + 1))
    if (text.charCodeAt(at + 1) !== 10) return true;
  return false;
}

function scanEveryCharacter(text: string): LineStarts {
  const starts = new LineStartsBuilder();
  starts.push(0);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
    if (c === 13 || c === 10) starts.push(i + 1);
  }
  return starts.finish();
}

/** A piece of a text as a snapshot of its own (its line starts scanned: it is small). */
const pieceOf = (text: string, version: number) => new TextSnapshot(text, version, scanLineStarts(text));

/**
 * A window holding more text than this is applied in pieces: the changes so far become a text of
 * their own (one copy of the whole text), and the rest are applied to it in a new window.
 */
const MAX_WINDOW_CHARS = 1 << 20;
/** Pieces beyond which a burst is applied by splitting the whole text into lines once (applyChanges). */
const MAX_PIECES = 8;

/**
 * `base` with a burst of range changes applied within a window of whole lines around them, the
 * rest of the text and its line starts carried over: a burst of keystrokes in a 90 MB manifest
 * costs one copy of the text, not a split into millions of lines (changes far apart: a copy per
 * MAX_WINDOW_CHARS window). The result records the one range in which it differs from `base`.
 * Undefined when the changes spread over more than MAX_PIECES windows, or one change alone over
 * more than one.
 */
export function withChanges(
  base: TextSnapshot,
  changes: readonly { range: { start: TextPosition; end: TextPosition }; text: string }[],
  version: number,
  pieces = 1,
): TextSnapshot | undefined {
  const starts = base.lineStarts();
  // Only a new version (a change event with no changes): the same text.
  if (!changes.length)
    return new TextSnapshot(
      base.content,
      version,
      starts,
      sinceEarlier(base, { baseId: base.id, offset: 0, removed: 0, inserted: 0 }),
    );
  const lines = starts.count;
  const startOf = (line: number) => (line < lines ? starts.at(line) : base.length);
  // The window holds base lines [first, end) (end === lines: through the end of the text), edited.
  let first = -1;
  let end = -1;
  let window = pieceOf('', version);
  /** Lines of the window, not counting the start of the line after it. */
  const windowLines = () => window.lineStarts().count - (end < lines ? 1 : 0);
  const take = (from: number, to: number) => (window = pieceOf(base.slice(startOf(from), startOf(to)), version));

  /** The text with the window's changes: the base's line starts kept before it, shifted after it. */
  const assemble = (): TextSnapshot => {
    const windowStart = startOf(first);
    const windowEnd = startOf(end);
    const text = base.content.replaced(windowStart, windowEnd, window.text);
    const delta = window.text.length - (windowEnd - windowStart);
    const local = window.lineStarts();
    const inserted = new Int32Array(windowLines());
    for (let i = 0; i < inserted.length; i++) inserted[i] = windowStart + local.at(i);
    const lineStarts = starts.spliced(first, end, inserted, delta);
    // The one range that differs: the window without what it shares with the old one at either end.
    const before = base.slice(windowStart, windowEnd);
    const after = window.text;
    let same = 0;
    while (same < before.length && same < after.length && before.charCodeAt(same) === after.charCodeAt(same)) same++;
    let sameEnd = 0;
    while (
      sameEnd < before.length - same &&
      sameEnd < after.length - same &&
      before.charCodeAt(before.length - 1 - sameEnd) === after.charCodeAt(after.length - 1 - sameEnd)
    )
      sameEnd++;
    const change = {
      baseId: base.id,
      offset: windowStart + same,
      removed: before.length - same - sameEnd,
      inserted: after.length - same - sameEnd,
    };
    return new TextSnapshot(text, version, lineStarts, sinceEarlier(base, change));
  };

  for (let i = 0; i < changes.length; i++) {
    const { range, text } = changes[i];
    // The changed lines (a line past the last: the last) with one untouched line either side.
    const total = first < 0 ? lines : first + windowLines() + (lines - end);
    const low = Math.max(0, Math.min(range.start.line, range.end.line, total - 1) - 1);
    const high = Math.min(Math.max(range.start.line, range.end.line), total - 1) + 1;
    if (first < 0) {
      first = low;
      end = Math.min(lines, high + 1);
      take(first, end);
    } else {
      if (low < first) {
        window = pieceOf(base.slice(startOf(low), startOf(first)) + window.text, version);
        first = low;
      }
      const past = high - (first + windowLines()); // lines needed beyond the window's end
      if (past >= 0 && end < lines) {
        const to = Math.min(lines, end + past + 1);
        window = pieceOf(window.text + base.slice(startOf(end), startOf(to)), version);
        end = to;
      }
    }
    if (window.text.length > MAX_WINDOW_CHARS) {
      // Far from the changes before it: those become the text the rest are applied to.
      if (i === 0 || pieces >= MAX_PIECES) return undefined;
      return withChanges(assemble(), changes.slice(i), version, pieces + 1);
    }
    const local = (p: TextPosition) => ({ line: p.line - first, character: p.character });
    window = window.edited({ start: local(range.start), end: local(range.end) }, text, version);
  }
  return assemble();
}

/** Earlier snapshots a snapshot's change is also told against (a check may have been made from any of them). */
const MAX_SINCE = 8;

/** `change` (from `base` to a new text), and the change from each snapshot `base` was made from to that text. */
function sinceEarlier(base: TextSnapshot, change: SnapshotChange): SnapshotChange[] {
  return [change, ...base.since.slice(0, MAX_SINCE - 1).map((earlier) => composed(earlier, change))];
}

/** One range covering both: `first` (from X to Y) then `second` (from Y to Z), as a change from X to Z. */
function composed(first: SnapshotChange, second: SnapshotChange): SnapshotChange {
  // The union, in Y's offsets, of what `first` wrote and what `second` replaced.
  const start = Math.min(first.offset, second.offset);
  const end = Math.max(first.offset + first.inserted, second.offset + second.removed);
  const removed = end - start - (first.inserted - first.removed);
  return { baseId: first.baseId, offset: start, removed, inserted: end - start + second.inserted - second.removed };
}

const isLineBreak = (c: number) => c === 10 || c === 13;

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
      // Range edits (keystrokes): applied within a window around them, line starts carried over.
      // Spread over the whole text (or a whole-text change): split into lines once and applied there.
      const ranges = changes.every((c) => c.range) ? (changes as RangeChange[]) : undefined;
      this.current =
        (ranges && withChanges(this.current, ranges, this.queuedVersion)) ??
        new TextSnapshot(applyChanges(this.current.text, changes), this.queuedVersion);
    }
    return this.current;
  }
}
