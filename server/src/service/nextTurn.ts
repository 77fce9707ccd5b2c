/**
 * Resolves on the event loop's next turn, after the I/O that came meanwhile. An awaited promise
 * that is already settled resumes before any I/O, so a long check of a 1M-entry manifest that
 * awaits only those keeps every hover (and the edit that should stop it) waiting until it ends;
 * a check awaits this between its stages instead.
 */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
