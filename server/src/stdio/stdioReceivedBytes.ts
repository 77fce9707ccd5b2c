/**
 * The bytes the stdio reader (stdioMessageReader.ts) has received and not yet used, as the
 * chunks they came in (a header block under way, a small body, or what follows a body): taken
 * from the front as vscode-jsonrpc 9's message buffer (lib/common/messageBuffer.js) takes them,
 * so that a header block ends, splits and fails exactly where the stock reader's does.
 */

const CR = 13;
const LF = 10;

export class ReceivedBytes {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;

  /** Bytes held. */
  get length(): number {
    return this.buffered;
  }

  append(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * vscode-jsonrpc's AbstractMessageBuffer.tryReadHeaders, to the byte: the same end-of-block
   * scan (a CR in the middle of a CRLF CRLF starts it over), the same split and errors. The
   * header block, taken off the front, once a whole one has arrived; else undefined.
   */
  takeHeaders(): Map<string, string> | undefined {
    let state = 0;
    let chunkIndex = 0;
    let offset = 0;
    let chunkBytesRead = 0;
    row: while (chunkIndex < this.chunks.length) {
      const chunk = this.chunks[chunkIndex];
      offset = 0;
      while (offset < chunk.length) {
        const value = chunk[offset];
        if (value === CR) state = state === 0 ? 1 : state === 2 ? 3 : 0;
        else if (value === LF) {
          if (state === 1) state = 2;
          else if (state === 3) {
            state = 4;
            offset++;
            break row;
          } else state = 0;
        } else state = 0;
        offset++;
      }
      chunkBytesRead += chunk.length;
      chunkIndex++;
    }
    if (state !== 4) return undefined;
    const headers = this.take(chunkBytesRead + offset)
      .toString('ascii')
      .split('\r\n');
    const result = new Map<string, string>();
    // The block ends with CRLF CRLF: the split's last two pieces are empty.
    for (let i = 0; i < headers.length - 2; i++) {
      const header = headers[i];
      const index = header.indexOf(':');
      if (index === -1) throw new Error(`Message header must separate key and value using ':'\n${header}`);
      result.set(header.slice(0, index).toLowerCase(), header.slice(index + 1).trim());
    }
    return result;
  }

  /** Takes the first `count` bytes held (a view when they lie in one chunk, as the stock reader does). */
  take(count: number): Buffer {
    if (count === 0) return Buffer.alloc(0);
    const first = this.chunks[0];
    if (first.length >= count) {
      if (first.length === count) this.chunks.shift();
      else this.chunks[0] = first.subarray(count);
      this.buffered -= count;
      return first.subarray(0, count);
    }
    const result = Buffer.allocUnsafe(count);
    let at = 0;
    while (at < count) {
      const chunk = this.chunks[0];
      const take = Math.min(chunk.length, count - at);
      chunk.copy(result, at, 0, take);
      if (take === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(take);
      at += take;
    }
    this.buffered -= count;
    return result;
  }

  /** Takes the front chunk, or its first `most` bytes, without copying; undefined when nothing is held. */
  takePiece(most: number): Buffer | undefined {
    const chunk = this.chunks[0];
    if (!chunk) return undefined;
    const piece = chunk.length <= most ? chunk : chunk.subarray(0, most);
    if (piece === chunk) this.chunks.shift();
    else this.chunks[0] = chunk.subarray(piece.length);
    this.buffered -= piece.length;
    return piece;
  }
}
