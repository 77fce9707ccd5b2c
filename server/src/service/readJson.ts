/** JSON files read as Python reads them: bytes decoded as UTF-8, with the error json.load raises. */
import { decodeLikePython, PythonJsonError, pythonJsonError, UTF8_BOM } from '../engine/json/pythonJsonLoad';
import { Expectation, readRegularBytes, readRegularHead } from './regularFile';
import type { TextSnapshot } from './textDocument';

/**
 * A JSON file as Python reads it: UTF-8 decoded, with the UnicodeDecodeError json.load would
 * raise. Only a regular file, and bounded (a FIFO would block forever, /dev/zero never end).
 * `expectation` as for readRegularBytes (a stat the caller made of the path serves the read too).
 */
export async function readJsonFile(
  file: string,
  expectation: Expectation = 'present',
): Promise<{ text: string; decodeError?: PythonJsonError }> {
  return decodedJson(readRegularBytes(file, undefined, expectation));
}

/** readJsonFile's answer for a file whose bytes are being read already (by readRegularBytes). */
export async function decodedJson(bytes: Promise<Buffer>): Promise<{ text: string; decodeError?: PythonJsonError }> {
  const decoded = decodeLikePython(await bytes);
  return { text: decoded.text, decodeError: decoded.error };
}

/**
 * For a document open in an editor: the UnicodeDecodeError of the file on disk when the
 * editor shows exactly its bytes with replacement characters (the editor cannot tell us the bytes),
 * or json.load's byte-order-mark error when the file on disk starts with one: editors hide the
 * mark from the buffer (VS Code, Neovim) and write it back on save.
 */
export async function openDocumentDecodeError(file: string, open: TextSnapshot): Promise<PythonJsonError | undefined> {
  if (open.slice(0, 1) !== '\ufeff' && (await startsWithBom(file))) return pythonJsonError(`\ufeff${open.text}`);
  // Known per edit without reading the whole text again (pieceText.ts).
  if (!open.hasReplacementCharacter()) return undefined;
  const disk = await readJsonFile(file).catch(() => undefined);
  return disk?.decodeError && disk.text === open.text ? disk.decodeError : undefined;
}

async function startsWithBom(file: string): Promise<boolean> {
  const head = await readRegularHead(file, UTF8_BOM.length).catch(() => undefined);
  return !!head && Buffer.from(UTF8_BOM).equals(head);
}
