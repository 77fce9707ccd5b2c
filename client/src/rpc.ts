/** The protocol's typed messages, bound to a language client's connection. */
import type { CancellationToken, Disposable, LanguageClient } from 'vscode-languageclient/node';
import type { NotificationType, RequestType } from '../../server/src/protocol';

export function sendRequest<P, R>(
  to: LanguageClient,
  type: RequestType<P, R>,
  params: P,
  token?: CancellationToken,
): Promise<R> {
  return to.sendRequest<R>(type.method, params, token);
}

export function onNotification<P>(
  from: LanguageClient,
  type: NotificationType<P>,
  handler: (params: P) => void,
): Disposable {
  return from.onNotification(type.method, handler);
}
