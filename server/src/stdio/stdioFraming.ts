/**
 * LSP over stdio frames each message with a header block (`Content-Length: N`, CRLF lines, a
 * blank line) and N bytes of body. vscode-jsonrpc's reader reports a header it cannot use and
 * goes on reading the bytes that follow as if they were the next header: after a missing,
 * non-numeric or negative length, or a length shorter than the body (whose rest is then read as
 * a header), it never finds a message again and the server stops answering for ever.
 *
 * This check follows the same byte stream (it sees every chunk the reader sees) and names the
 * first framing error the moment it can be told: a header line that is not `Name: value`, a
 * header block without a usable Content-Length, or a header block longer than any real one. The
 * server then exits with that reason (the client restarts it): there is no way to resynchronise
 * on a stream without boundaries. A body that is not JSON-RPC but correctly framed is not a
 * framing error; the reader answers it and carries on. Nor is a Content-Length over
 * MAX_MESSAGE_BYTES: the reader skips that body without holding it (the stock reader would
 * buffer it: a 500 MB message left the server at 2 GB) and the server says what it was
 * (server/src/stdio/skippedMessage.ts). It used to exit here, and a client that opened the
 * document again after each restart took the server down for good: a manifest under
 * MAX_JSON_BYTES escapes by more than a quarter when tab-indented (measured: 27%) or when its
 * paths hold backslashes.
 */

import { MAX_JSON_BYTES } from '../service/regularFile';

/** Longest header block accepted (real ones are under 100 bytes: Content-Length and Content-Type). */
export const MAX_HEADER_BYTES = 8192;

/**
 * Largest message body read (a longer one is skipped): a didOpen of the largest document
 * NeuroCache checks, with room for the backslashes JSON adds to it (a pretty-printed manifest
 * escapes about a fifth of its characters: quotes and line breaks). Editors send no larger
 * documents (VS Code none over 50 MB).
 */
export const MAX_MESSAGE_BYTES = MAX_JSON_BYTES + MAX_JSON_BYTES / 4;

const CR = 13;
const LF = 10;
const COLON = 58;
// RFC 9110 token characters, the only ones a header name may contain.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const shown = (bytes: Uint8Array) => JSON.stringify(Buffer.from(bytes.subarray(0, 80)).toString('latin1'));

export class FramingCheck {
  /** Bytes of body still to skip; -1 while reading a header block. */
  private bodyLeft = -1;
  private header: number[] = [];

  /** Feeds the next chunk of the stream; returns the framing error it reveals, if any (then stop feeding). */
  push(chunk: Uint8Array): string | undefined {
    let at = 0;
    while (at < chunk.length) {
      if (this.bodyLeft > 0) {
        const skip = Math.min(this.bodyLeft, chunk.length - at);
        this.bodyLeft -= skip;
        at += skip;
        continue;
      }
      this.bodyLeft = -1;
      this.header.push(chunk[at++]);
      const problem = this.headerProblem();
      if (problem) return problem;
    }
    return undefined;
  }

  /** Checks the header block after each byte: complete (then starts the body), impossible, or not yet known. */
  private headerProblem(): string | undefined {
    const h = this.header;
    if (h.length > MAX_HEADER_BYTES)
      return `a message header longer than ${MAX_HEADER_BYTES} bytes without its end (${shown(Uint8Array.from(h))})`;
    const lineStart = lastLineStart(h);
    const line = Uint8Array.from(h.slice(lineStart));
    const colon = line.indexOf(COLON);
    const name = Buffer.from(line.subarray(0, colon < 0 ? line.length : colon))
      .toString('latin1')
      .replace(/\r?\n?$/, '');
    // A header name can be judged as soon as its characters arrive, without waiting for a line end that may never come.
    if (name && !TOKEN.test(name)) return `a message header line that is not "Name: value" (${shown(line)})`;
    if (colon === 0) return `a message header line without a name (${shown(line)})`;
    const n = h.length;
    if (h[n - 1] === LF && h[n - 2] !== CR) return `a message header line ending in a bare line feed (${shown(line)})`;
    if (h[n - 2] === CR && h[n - 1] !== LF)
      return `a message header line with a carriage return not followed by a line feed (${shown(line)})`;
    if (!(n >= 2 && h[n - 2] === CR && h[n - 1] === LF)) return undefined;
    if (line.length === 2) return this.endOfHeader();
    if (colon < 0) return `a message header line without ":" (${shown(line)})`;
    return undefined;
  }

  private endOfHeader(): string | undefined {
    const text = Buffer.from(this.header).toString('latin1');
    this.header = [];
    const lines = text.split('\r\n').filter(Boolean);
    const lengths = lines.filter((l) => /^content-length:/i.test(l)).map((l) => l.slice(l.indexOf(':') + 1).trim());
    if (lengths.length === 0) return `a message header without Content-Length (${JSON.stringify(lines.join(' | '))})`;
    if (lengths.length > 1) return `a message header with ${lengths.length} Content-Length lines`;
    if (!/^\d+$/.test(lengths[0]) || !Number.isSafeInteger(Number(lengths[0])))
      return `a message header whose Content-Length is ${JSON.stringify(lengths[0])}, not a byte count`;
    this.bodyLeft = Number(lengths[0]);
    return undefined;
  }
}

function lastLineStart(h: number[]): number {
  // The line under way starts after the last CRLF before the final two bytes.
  for (let i = h.length - 3; i >= 1; i--) if (h[i] === LF && h[i - 1] === CR) return i + 1;
  return 0;
}
