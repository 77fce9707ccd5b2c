/**
 * Explorer badges (`neurocache/fileProblems`): per checked document, its findings about data
 * files (the engine's `Diagnostic.file`), counted per file after the user's severity overrides,
 * sent when they change and at most once per document per turn of the event loop.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Diagnostic } from '../engine/diagnostics';
import { FileProblem, FileProblemsNotification } from '../protocol';
import { sendNotification, ServerState } from './state';

/** Lines of a badge's tooltip: enough to say what is wrong, never a wall of text. */
export const TOOLTIP_LINES = 3;

/** The data files `diagnostics` are about (resolved against the document's directory), with counts. */
export function fileProblems(diagnostics: Diagnostic[], directory: string): FileProblem[] {
  const byFile = new Map<string, { errors: number; warnings: number; lines: string[]; codes: Set<string> }>();
  // Resolved once per file: a 1M-entry manifest can hold a finding on every entry of a few thousand files.
  const uris = new Map<string, string>();
  for (const d of diagnostics) {
    if (d.file === undefined || (d.severity !== 'error' && d.severity !== 'warning')) continue;
    let uri = uris.get(d.file);
    if (uri === undefined) uris.set(d.file, (uri = pathToFileURL(path.resolve(directory, d.file)).href));
    let entry = byFile.get(uri);
    if (!entry) byFile.set(uri, (entry = { errors: 0, warnings: 0, lines: [], codes: new Set() }));
    if (d.severity === 'error') entry.errors++;
    else entry.warnings++;
    // One line per code: a file listed 500 times with no labels is one reason, not 500.
    if (entry.lines.length <= TOOLTIP_LINES && !entry.codes.has(d.code)) {
      entry.codes.add(d.code);
      entry.lines.push(`${d.code}: ${d.message}`);
    }
  }
  return [...byFile].map(([uri, { errors, warnings, lines }]) => ({
    uri,
    errors,
    warnings,
    tooltip: lines.length > TOOLTIP_LINES ? [...lines.slice(0, TOOLTIP_LINES), '…'].join('\n') : lines.join('\n'),
  }));
}

/** Records `document`'s file problems and sends them (coalesced) when they differ from the last sent. */
export function fileProblemsChanged(state: ServerState, document: string, files: FileProblem[]): void {
  const { sent, due } = state.documents.fileProblems;
  const json = JSON.stringify(files);
  if (!due.has(document) && (sent.get(document) ?? '[]') === json) return;
  const first = due.size === 0;
  due.set(document, files);
  if (!first) return;
  setImmediate(() => {
    for (const [uri, latest] of due) {
      const text = JSON.stringify(latest);
      if ((sent.get(uri) ?? '[]') === text || state.shuttingDown) continue;
      if (latest.length) sent.set(uri, text);
      else sent.delete(uri);
      void sendNotification(state.connection, FileProblemsNotification.type, { document: uri, files: latest });
    }
    due.clear();
  });
}
