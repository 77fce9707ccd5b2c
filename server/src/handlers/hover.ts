/**
 * Hovers answer from the latest analysis' indexes, mapping positions with the text that
 * analysis was made from: during a burst of edits they answer at once from the last check
 * instead of waiting for the next one.
 */
import { Hover, HoverParams, MarkupKind } from 'vscode-languageserver/node';
import { hoverAt } from '../service/hover';
import { pictureMarkdown } from '../service/hoverPictures';
import type { ServerState } from './state';

export async function hover(state: ServerState, params: HoverParams): Promise<Hover | null> {
  const t = state.documents.tracked.get(params.textDocument.uri);
  const { analysis, analysed } = t ?? {};
  if (!analysis || !analysed || !state.documents.open.has(params.textDocument.uri)) return null;
  const found = hoverAt(analysis, analysed.offsetAt(params.position));
  if (!found) return null;
  const picture = found.picture
    ? await pictureMarkdown(found.picture, state.inspector).catch(() => undefined)
    : undefined;
  // Statistics, the picture, then the file and its findings.
  const value = [found.markdown, picture, found.after].filter(Boolean).join('\n\n');
  return {
    contents: { kind: MarkupKind.Markdown, value },
    range: {
      start: analysed.positionAt(found.span.offset),
      end: analysed.positionAt(found.span.offset + found.span.length),
    },
  };
}
