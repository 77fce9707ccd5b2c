/**
 * A text as a root string with a few replaced ranges, never copied whole per edit: a keystroke
 * in a 90 MB manifest adds or widens one piece instead of building a new 90 MB string (V8 would
 * build it at the first character read: a copy of the whole text per check, and one more text
 * alive while older snapshots hold theirs). The whole string is made only when asked for (a
 * whole parse), and it then becomes the root of this text.
 */

/** `text` stands where the root had `[rootStart, rootEnd)`; `at` is where it starts in this text. */
interface Piece {
  at: number;
  rootStart: number;
  rootEnd: number;
  text: string;
}

/** Pieces beyond which the text is made whole again (each read looks its offset up among them). */
const MAX_PIECES = 32;

export class PieceText {
  readonly length: number;

  constructor(
    private root: string,
    private pieces: readonly Piece[] = [],
    /** Whether the root holds U+FFFD, once known (the same for every text made from this root). */
    private rootReplacement?: { has?: boolean },
  ) {
    this.length = root.length + pieces.reduce((n, p) => n + p.text.length - (p.rootEnd - p.rootStart), 0);
  }

  /** The whole text; made once, then kept as the root (the pieces dropped). */
  toString(): string {
    if (this.pieces.length) {
      this.root = this.slice(0, this.length);
      this.pieces = [];
      this.rootReplacement = undefined;
    }
    return this.root;
  }

  /** `text[from, to)`, copying only what lies in that range. */
  slice(from: number, to: number): string {
    from = Math.max(0, from);
    to = Math.min(this.length, to);
    if (to <= from) return '';
    if (!this.pieces.length) return this.root.slice(from, to);
    const parts: string[] = [];
    // Alternately a stretch of the root and a piece, each with where it starts in this text.
    const take = (segment: string, at: number, start: number, end: number) => {
      const low = Math.max(from, at);
      const high = Math.min(to, at + (end - start));
      if (low < high) parts.push(segment.slice(start + low - at, start + high - at));
    };
    let at = 0;
    let root = 0;
    for (const piece of this.pieces) {
      if (at >= to) break;
      take(this.root, at, root, piece.rootStart);
      take(piece.text, piece.at, 0, piece.text.length);
      at = piece.at + piece.text.length;
      root = piece.rootEnd;
    }
    if (at < to) take(this.root, at, root, this.root.length);
    return parts.join('');
  }

  charCodeAt(offset: number): number {
    const pieces = this.pieces;
    // The last piece starting at or before the offset.
    let low = 0;
    let high = pieces.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (pieces[middle].at <= offset) low = middle + 1;
      else high = middle - 1;
    }
    if (high < 0) return this.root.charCodeAt(offset);
    const piece = pieces[high];
    const within = offset - piece.at;
    if (within < piece.text.length) return piece.text.charCodeAt(within);
    return this.root.charCodeAt(piece.rootEnd + within - piece.text.length);
  }

  /** Whether the text holds U+FFFD (what a client shows for bytes that are not UTF-8), without reading the root twice. */
  hasReplacementCharacter(): boolean {
    this.rootReplacement ??= {};
    this.rootReplacement.has ??= this.root.includes('\ufffd');
    if (this.pieces.some((p) => p.text.includes('\ufffd'))) return true;
    if (!this.rootReplacement.has) return false;
    // One in the root may lie in a replaced range: look in the stretches of root that are left.
    let from = 0;
    for (const piece of [...this.pieces, { rootStart: this.root.length, rootEnd: this.root.length }]) {
      const found = this.root.indexOf('\ufffd', from);
      if (found < 0) return false;
      if (found < piece.rootStart) return true;
      from = Math.max(from, piece.rootEnd);
    }
    return false;
  }

  /** This text with `[start, end)` replaced by `text`: the pieces it touches merged into one. */
  replaced(start: number, end: number, text: string): PieceText {
    if (this.pieces.length >= MAX_PIECES) return new PieceText(this.toString()).replaced(start, end, text);
    const delta = text.length - (end - start);
    const before: Piece[] = [];
    const absorbed: Piece[] = [];
    const after: Piece[] = [];
    const endOf = (p: Piece) => p.at + p.text.length;
    // A root offset is an offset of this text less the shift of the pieces before it.
    let shiftBefore = 0;
    for (const piece of this.pieces) {
      if (endOf(piece) < start) {
        before.push(piece);
        shiftBefore = endOf(piece) - piece.rootEnd;
      } else if (piece.at > end) after.push({ ...piece, at: piece.at + delta });
      else absorbed.push(piece); // touching or overlapping the replaced range
    }
    const first = absorbed[0];
    const last = absorbed[absorbed.length - 1];
    const shiftAfter = last ? endOf(last) - last.rootEnd : shiftBefore;
    const low = first && first.at < start ? first.at : start;
    const high = last && endOf(last) > end ? endOf(last) : end;
    const merged: Piece = {
      at: low,
      rootStart: first && first.at <= start ? first.rootStart : start - shiftBefore,
      rootEnd: last && endOf(last) >= end ? last.rootEnd : end - shiftAfter,
      text: this.slice(low, start) + text + this.slice(end, high),
    };
    return new PieceText(this.root, [...before, merged, ...after], this.rootReplacement);
  }
}
