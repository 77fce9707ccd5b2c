/**
 * Line starts collected into chunks as a scan finds them equal the starts pushed, at every count
 * around the first chunk's growth and the chunk boundaries, and a whole text's scan still finds
 * its lines (LF, CRLF and lone CR) when they fill several chunks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { CHUNK_LINES } from '../../server/src/service/lineStarts';
import { LineStartsBuilder } from '../../server/src/service/lineStartsBuilder';
import { TextSnapshot } from '../../server/src/service/textDocument';

test('the builder gives back every start pushed, whatever the count', () => {
  for (const count of [1, 2, 255, 256, 257, CHUNK_LINES - 1, CHUNK_LINES, CHUNK_LINES + 1, 3 * CHUNK_LINES + 7]) {
    const builder = new LineStartsBuilder();
    for (let line = 0; line < count; line++) builder.push(line * 3);
    const starts = builder.finish();
    assert.equal(starts.count, count, `${count} starts`);
    for (let line = 0; line < count; line++) assert.equal(starts.at(line), line * 3, `${count} starts: line ${line}`);
    assert.equal(starts.lineOf(count * 3 + 100), count - 1, `${count} starts: past the end`);
    // Edited afterwards as any line starts are.
    const edited = starts.spliced(1, Math.min(count, 2), [], 0);
    assert.equal(edited.count, count === 1 ? 1 : count - 1);
  }
});

test('a text of several chunks of lines is scanned as vscode-languageserver-textdocument scans it', () => {
  for (const breaks of ['\n', '\r\n', '\r', '\n\r\n\r']) {
    const text = Array.from({ length: 2 * CHUNK_LINES + 100 }, (_, i) => `{"window_idx": ${i}}`).join(breaks);
    const ours = new TextSnapshot(text, 1);
    const reference = TextDocument.create('file:///x.json', 'json', 1, text);
    assert.equal(ours.lineStarts().count, reference.lineCount, JSON.stringify(breaks));
    for (let offset = 0; offset <= text.length; offset += 97)
      assert.deepEqual(
        ours.positionAt(offset),
        reference.positionAt(offset),
        `${JSON.stringify(breaks)}: offset ${offset}`,
      );
  }
});
