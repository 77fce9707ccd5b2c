/**
 * `textDocument/documentLink`: paths in a checked document open their file on Ctrl+click
 * (cache files of a manifest, images and masks of a dataset_info.json as the checks resolve
 * them, the caches of a _dataset_index.json's EDFs; service/links.ts). NPZ and NIfTI files are binary: VS Code opens them in its binary
 * editor or offers "Open Anyway". Links are ranges in the current version's text, so they wait
 * for its check.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CancellationToken, DocumentLink, DocumentLinkParams } from 'vscode-languageserver/node';
import { documentPathLinks } from '../service/links';
import { currentAnalysis } from './diagnostics';
import type { ServerState } from './state';

export async function documentLinks(
  state: ServerState,
  params: DocumentLinkParams,
  token?: CancellationToken,
): Promise<DocumentLink[]> {
  const current = await currentAnalysis(state, params.textDocument.uri, token);
  if (!current) return [];
  const links = await documentPathLinks(current.analysis);
  if (token?.isCancellationRequested) return [];
  const { analysed } = current;
  return links.map(({ span, file }) => ({
    // The path inside the quotes, as editors underline string links.
    range: { start: analysed.positionAt(span.offset + 1), end: analysed.positionAt(span.offset + span.length - 1) },
    target: pathToFileURL(file).href,
    tooltip: `Open ${path.basename(file)}`,
  }));
}
