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
  const t = state.tracked.get(params.textDocument.uri);
  const { analysis, analysed } = t ?? {};
  if (!analysis || !analysed || !state.documents.has(params.textDocument.uri)) return null;
  const found = hoverAt(analysis, analysed.offsetAt(params.position));
  if (!found) return null;
  const picture = found.picture ? await pictureMarkdown(found.picture, state.inspector).catch(() => undefined) : undefined;
  return {
    contents: { kind: MarkupKind.Markdown, value: picture ? `${found.markdown}\n\n${picture}` : found.markdown },
    range: { start: analysed.positionAt(found.span.offset), end: analysed.positionAt(found.span.offset + found.span.length) },
  };
}
