/**
 * The SyntaxError the streaming JSON parser throws where JSON.parse would reject the body: it
 * names the byte offset (JSON.parse's message names the character, which a parser that never
 * decodes the whole body does not know).
 */
export function unexpectedByte(chunk: Buffer, i: number, offset: number): SyntaxError {
  const b = chunk[i];
  const what = b >= 0x21 && b < 0x7f ? `token ${String.fromCharCode(b)}` : `byte 0x${b.toString(16).padStart(2, '0')}`;
  return new SyntaxError(`Unexpected ${what} in JSON at byte ${offset + i}`);
}
