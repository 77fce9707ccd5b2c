/**
 * The language server's reader of LSP messages on stdin: vscode-jsonrpc's StreamMessageReader,
 * except that a large body is parsed while its bytes arrive (streamingJsonParse.ts) instead of
 * being buffered, concatenated, decoded and then parsed. For an 88 MB document opened with
 * `didOpen` (a 100 MB message) the stock reader holds the received chunks, their concatenation,
 * the decoded body and the parsed text at once; this one holds the parsed text and the bytes of
 * the one string under way.
 *
 * Everything else is the stock reader's (vscode-jsonrpc 9, lib/common/messageReader.js and
 * messageBuffer.js), so that every stream reads the same: the header block ends at the first
 * CRLFCRLF (found by the same byte scan), header names are case-insensitive, the last of a
 * repeated header wins, Content-Length is read with `parseInt`, Content-Type (and its charset) is
 * not looked at, bodies are UTF-8; a header block it cannot use is reported with the same error
 * (and, as there, the bytes after it are read as the next header once more bytes arrive); a body
 * that is not JSON is reported with a SyntaxError and reading goes on; the partial-message event
 * fires after the same wait; messages are handed on one per event-loop turn, in order.
 *
 * Differences, on streams the stock reader cannot read either: a negative Content-Length is
 * reported as an error (the stock reader cuts the buffered bytes at that offset from their end),
 * and one over MAX_MESSAGE_BYTES is reported and its body skipped without being held (the stock
 * reader would buffer it, however long). In the server stdioFraming.ts ends the process on the first;
 * of the second the server is told what it was (`onSkipped`, from its first bytes) and lives on.
 * And a message cut short by the stream's end, or left when the reader is disposed, stops its
 * partial-message timer (the stock reader's re-arms for ever).
 */
import { AbstractMessageReader, DataCallback, Disposable, MessageReader } from 'vscode-languageserver/node';
import { MAX_MESSAGE_BYTES } from './stdioFraming';
import { describeSkipped, SKIPPED_PREFIX_BYTES, SkippedMessage } from './skippedMessage';
import { ReceivedBytes } from './stdioReceivedBytes';
import { StreamingJsonParser } from './streamingJsonParse';

/**
 * Bodies from this size on are parsed as they arrive. Below it, `JSON.parse` of the decoded
 * body (V8's parser, several times faster than any in JavaScript) and the three short-lived
 * copies are cheap: at 1 MiB they are a few MB, while the messages that matter (didOpen and
 * full-text didChange of large documents) are tens of MB. Almost every message (hovers, edits
 * of a few characters, settings) stays on the fast path.
 */
export const LARGE_BODY_BYTES = 1 << 20;

/** The stock reader's wait before it reports a message that has not fully arrived. */
const PARTIAL_MESSAGE_TIMEOUT_MS = 10_000;

export interface StdioMessageReaderOptions {
  /** Bodies of at least this many bytes are parsed while they arrive (tests lower it). */
  largeBodyBytes?: number;
  /** Longest body read; a longer one is reported and skipped. */
  maxBodyBytes?: number;
  /**
   * Told what a skipped message was (from its first bytes) as soon as they are in, or at its
   * end if shorter: the server answers a request and forgets the document it named.
   */
  onSkipped?: (message: SkippedMessage) => void;
}

/** What the reader does with the bytes after a header block. */
const enum Body {
  /** None: reading a header block. */
  None,
  /** Buffered until complete, then JSON.parse. */
  Whole,
  /** Fed to the streaming parser as it comes. */
  Streamed,
  /** Over the bound: counted off and dropped. */
  Skipped,
}

export class StdioMessageReader extends AbstractMessageReader implements MessageReader {
  private readonly largeBodyBytes: number;
  private readonly maxBodyBytes: number;
  private readonly onSkipped: ((message: SkippedMessage) => void) | undefined;
  /** The first bytes of a skipped body, until they are told (then undefined). */
  private skippedPrefix: Buffer[] | undefined;
  private skippedPrefixLength = 0;
  private callback: DataCallback | undefined;
  /** Received bytes not yet used: a header block under way, a small body, or what follows a body. */
  private readonly received = new ReceivedBytes();
  private body = Body.None;
  private bodyLength = 0;
  /** Bytes of a streamed or skipped body still to come. */
  private bodyLeft = 0;
  private parser: StreamingJsonParser | undefined;
  private parseError: unknown;
  /** Messages (or their failures) to hand on, in order, one per event-loop turn. */
  private readonly deliveries: (() => void)[] = [];
  private delivering = false;
  private partialMessageTimer: NodeJS.Timeout | undefined;
  private partialTimeout = PARTIAL_MESSAGE_TIMEOUT_MS;
  private readonly messageToken = 0;

  constructor(
    private readonly readable: NodeJS.ReadableStream,
    options: StdioMessageReaderOptions = {},
  ) {
    super();
    this.largeBodyBytes = options.largeBodyBytes ?? LARGE_BODY_BYTES;
    this.maxBodyBytes = options.maxBodyBytes ?? MAX_MESSAGE_BYTES;
    this.onSkipped = options.onSkipped;
  }

  set partialMessageTimeout(timeout: number) {
    this.partialTimeout = timeout;
  }

  get partialMessageTimeout(): number {
    return this.partialTimeout;
  }

  listen(callback: DataCallback): Disposable {
    this.callback = callback;
    const onData = (data: Buffer | string) => this.onData(data);
    this.readable.on('data', onData);
    this.readable.on('error', (error: Error) => this.fireError(error));
    // A message cut short by the stream's end can never complete: its partial-message timer
    // stops there (the stock reader's re-arms for ever and keeps the process alive).
    this.readable.on('end', () => this.clearPartialMessageTimer());
    this.readable.on('close', () => {
      this.clearPartialMessageTimer();
      this.fireClose();
    });
    return Disposable.create(() => {
      this.readable.off('data', onData);
      this.clearPartialMessageTimer();
    });
  }

  private onData(data: Buffer | string): void {
    try {
      const chunk = typeof data === 'string' ? Buffer.from(data, 'utf-8') : data;
      this.received.append(chunk);
      for (;;) {
        if (this.body === Body.None && !this.startBody()) return;
        if (this.body === Body.Whole) {
          if (this.received.length < this.bodyLength) {
            this.setPartialMessageTimer();
            return;
          }
          const bytes = this.received.take(this.bodyLength);
          this.enqueue(() => JSON.parse(bytes.toString('utf-8')));
        } else {
          this.passBodyBytes();
          if (this.bodyLeft > 0) {
            this.setPartialMessageTimer();
            return;
          }
          if (this.body === Body.Streamed) this.endStreamedBody();
        }
        this.clearPartialMessageTimer();
        this.body = Body.None;
      }
    } catch (error) {
      this.fireError(error);
    }
  }

  /** Reads a header block when a whole one has arrived; false: wait for more bytes (or it was reported). */
  private startBody(): boolean {
    const headers = this.received.takeHeaders();
    if (!headers) return false;
    const contentLength = headers.get('content-length');
    if (!contentLength) {
      this.fireError(
        new Error(`Header must provide a Content-Length property.\n${JSON.stringify(Object.fromEntries(headers))}`),
      );
      return false;
    }
    const length = parseInt(contentLength);
    if (isNaN(length)) {
      this.fireError(new Error(`Content-Length value must be a number. Got ${contentLength}`));
      return false;
    }
    if (length < 0) {
      this.fireError(new Error(`Content-Length value must not be negative. Got ${contentLength}`));
      return false;
    }
    this.bodyLength = length;
    this.bodyLeft = length;
    if (length > this.maxBodyBytes) {
      this.fireError(
        new Error(
          `Content-Length ${length} is over the ${this.maxBodyBytes} bytes a message may have: its body is skipped`,
        ),
      );
      this.body = Body.Skipped;
      this.skippedPrefix = this.onSkipped ? [] : undefined;
      this.skippedPrefixLength = 0;
    } else if (length >= this.largeBodyBytes) {
      this.body = Body.Streamed;
      this.parser = new StreamingJsonParser(length);
      this.parseError = undefined;
    } else this.body = Body.Whole;
    return true;
  }

  /** Hands the buffered bytes of a streamed or skipped body to the parser (or drops them); keeps what follows. */
  private passBodyBytes(): void {
    while (this.bodyLeft > 0) {
      const part = this.received.takePiece(this.bodyLeft);
      if (!part) return;
      this.bodyLeft -= part.length;
      if (this.skippedPrefix) this.keepSkippedPrefix(part);
      if (!this.parser) continue;
      try {
        this.parser.push(part);
      } catch (error) {
        // Invalid JSON: the rest of the body is only counted off, and the error reported in the message's turn.
        this.parseError = error;
        this.parser = undefined;
      }
    }
  }

  /** Keeps a skipped body's first bytes; tells them once there are enough, or the body ended. */
  private keepSkippedPrefix(part: Uint8Array): void {
    const prefix = this.skippedPrefix!;
    const wanted = SKIPPED_PREFIX_BYTES - this.skippedPrefixLength;
    if (wanted > 0) {
      prefix.push(Buffer.from(part.subarray(0, wanted)));
      this.skippedPrefixLength += Math.min(wanted, part.length);
    }
    if (this.skippedPrefixLength < SKIPPED_PREFIX_BYTES && this.bodyLeft > 0) return;
    this.skippedPrefix = undefined;
    const message = describeSkipped(this.bodyLength, Buffer.concat(prefix));
    // In the messages' order: after those before it are handed on.
    const told = this.onSkipped!;
    this.inTurn(() => told(message));
  }

  private endStreamedBody(): void {
    const parser = this.parser;
    this.parser = undefined;
    let error = this.parseError;
    let message: unknown;
    this.parseError = undefined;
    if (parser) {
      try {
        message = parser.end();
      } catch (e) {
        error = e;
      }
    }
    this.enqueue(() => {
      if (error !== undefined) throw error;
      return message;
    });
  }

  /** Queues a message to hand on: like the stock reader's semaphore, one per setImmediate, in order. */
  private enqueue(decode: () => unknown): void {
    this.inTurn(() => this.callback!(decode() as Parameters<DataCallback>[0]));
  }

  /** Runs `step` in its own event-loop turn, after the messages queued before it; its failure is reported. */
  private inTurn(step: () => void): void {
    this.deliveries.push(() => {
      try {
        step();
      } catch (error) {
        this.fireError(error);
      }
    });
    if (!this.delivering) {
      this.delivering = true;
      setImmediate(this.deliverNext);
    }
  }

  private readonly deliverNext = () => {
    this.deliveries.shift()!();
    if (this.deliveries.length > 0) setImmediate(this.deliverNext);
    else this.delivering = false;
  };

  private clearPartialMessageTimer(): void {
    if (this.partialMessageTimer) {
      clearTimeout(this.partialMessageTimer);
      this.partialMessageTimer = undefined;
    }
  }

  /** As the stock reader: while a body is incomplete, reports every `partialMessageTimeout` ms that it still is. */
  private setPartialMessageTimer(): void {
    this.clearPartialMessageTimer();
    if (this.partialTimeout <= 0) return;
    const timeout = this.partialTimeout;
    this.partialMessageTimer = setTimeout(() => {
      this.partialMessageTimer = undefined;
      this.firePartialMessage({ messageToken: this.messageToken, waitingTime: timeout });
      this.setPartialMessageTimer();
    }, timeout);
  }
}
