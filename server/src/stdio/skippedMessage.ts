/**
 * A message over MAX_MESSAGE_BYTES is skipped unread (stdioMessageReader.ts): its header framed
 * it, so the stream stays readable, but what it was is known only from its first bytes. Editors
 * write `{"jsonrpc", "id", "method", "params"}` in that order, so the id and the method stand
 * before "params" and a document's uri comes soon after it. Nothing here is trusted beyond
 * naming the message in a warning, answering its id, and forgetting the document it names.
 */
import { MAX_MESSAGE_BYTES } from './stdioFraming';

/** Bytes of a skipped body kept to tell what it was. */
export const SKIPPED_PREFIX_BYTES = 4096;

export interface SkippedMessage {
  /** Content-Length of the skipped message. */
  length: number;
  method?: string;
  /** The request's id, when the message is a request: it is answered with an error. */
  id?: number | string;
  /** params.textDocument.uri, for the document notifications. */
  uri?: string;
}

/** What a skipped message was, from the first bytes of its body. */
export function describeSkipped(length: number, prefix: Uint8Array): SkippedMessage {
  const text = Buffer.from(prefix).toString('utf8');
  const params = text.indexOf('"params"');
  // Only the keys before "params" are the message's own (params may hold anything).
  const head = params < 0 ? text : text.slice(0, params);
  const method = /"method"\s*:\s*"([^"\\]{1,200})"/.exec(head)?.[1];
  const id = /"id"\s*:\s*(\d{1,15}|"[^"\\]{0,200}")/.exec(head)?.[1];
  const uri = params < 0 ? undefined : /"uri"\s*:\s*"([^"\\]{1,2000})"/.exec(text.slice(params))?.[1];
  return {
    length,
    ...(method !== undefined && { method }),
    ...(id !== undefined && { id: id.startsWith('"') ? id.slice(1, -1) : Number(id) }),
    ...(uri !== undefined && { uri }),
  };
}

/** "335544321 bytes, over the 335544320 bytes NeuroCache reads: not read": for the log and the error answer. */
export function notReadReason(message: SkippedMessage): string {
  return `${message.length} bytes, over the ${MAX_MESSAGE_BYTES} bytes NeuroCache reads: not read`;
}
