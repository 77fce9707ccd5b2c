/**
 * Identical jobs in flight collapse into one: every caller that asks for the same key while it
 * runs shares its result. A caller whose signal aborts stops waiting at once; the job itself is
 * cancelled only when every caller has (one editor check superseding another must not cancel
 * the file read the newer check shares), and never while a caller without a signal waits.
 */

interface SharedJob<T> {
  result: Promise<T>;
  controller: AbortController;
  /** Callers still waiting that could give up (callers without a signal never do). */
  waiting: number;
  unstoppable: boolean;
}

export class SharedJobs<T> {
  private readonly inFlight = new Map<string, SharedJob<T>>();

  /** Distinct jobs running. */
  get size(): number {
    return this.inFlight.size;
  }

  /** `job`'s result, started now unless a job of the same key is running (then that one's). */
  run(key: string, signal: AbortSignal | undefined, job: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    let shared = this.inFlight.get(key);
    if (!shared) {
      const controller = new AbortController();
      const result = job(controller.signal).finally(() => {
        if (this.inFlight.get(key) === shared) this.inFlight.delete(key);
      });
      result.catch(() => undefined); // callers see the outcome; a job all of them left must not be an unhandled rejection
      shared = { result, controller, waiting: 0, unstoppable: false };
      this.inFlight.set(key, shared);
    }
    const entry = shared;
    if (!signal) {
      entry.unstoppable = true;
      return entry.result;
    }
    entry.waiting++;
    return new Promise((resolve, reject) => {
      const giveUp = () => {
        reject(signal.reason);
        if (--entry.waiting > 0 || entry.unstoppable) return;
        if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
        entry.controller.abort(signal.reason);
      };
      signal.addEventListener('abort', giveUp, { once: true });
      entry.result.then(resolve, reject).finally(() => signal.removeEventListener('abort', giveUp));
    });
  }
}
