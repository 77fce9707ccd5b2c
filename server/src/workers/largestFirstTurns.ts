/**
 * Places for long jobs, one per thread, given largest first: a job (a deep check) takes one
 * thread from start to end, so the big ones go first and the small ones fill in at the end,
 * where otherwise a thread would idle while the other finishes a big file.
 */
export class LargestFirstTurns {
  /** Places taken (running or next in line on a thread). */
  private taken = 0;
  /** Jobs waiting for a place, largest first. */
  private readonly waiting: { size: number; go: () => void }[] = [];

  constructor(private readonly places: number) {}

  /** Waits for a place for a job of `size`; resolves to the release, which hands the place straight to the next in line. */
  async take(size: number, signal: AbortSignal): Promise<() => void> {
    const release = () => {
      const next = this.waiting.shift();
      if (next) next.go();
      else this.taken--;
    };
    if (this.taken < this.places) {
      this.taken++;
      return release;
    }
    signal.throwIfAborted();
    await new Promise<void>((resolve, reject) => {
      const entry = {
        size,
        go: () => {
          signal.removeEventListener('abort', giveUp);
          resolve();
        },
      };
      const giveUp = () => {
        this.waiting.splice(this.waiting.indexOf(entry), 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', giveUp, { once: true });
      const at = this.waiting.findIndex((w) => w.size < size);
      this.waiting.splice(at < 0 ? this.waiting.length : at, 0, entry);
    });
    return release;
  }
}
