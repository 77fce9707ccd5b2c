/**
 * At most `limit` async calls under way at once; the rest start in the order they were asked as
 * earlier ones end. A check of a 35,000-file manifest asked for every file's facts at once: 35,000
 * stats queued in libuv (each a request object with its stat buffers) and four suspended async
 * frames per file, ~100 MB held at the peak of the check (heap snapshot of the language server,
 * 1M entries). libuv runs at most its thread pool's size of them anyway (threadpool.ts asks for
 * 128, and allows at most 1024), so a limit at least that large overlaps just as many round trips.
 */
export type Gate = <T>(call: () => Promise<T>) => Promise<T>;

export function concurrencyGate(limit: number): Gate {
  let running = 0;
  // A queue read from `head`: Array.shift moves every element, 35,000 of them per call.
  const waiting: (() => void)[] = [];
  let head = 0;
  const done = () => {
    running--;
    if (head < waiting.length) {
      const start = waiting[head];
      waiting[head++] = undefined!;
      if (head === waiting.length) waiting.length = head = 0;
      start();
    }
  };
  return <T>(call: () => Promise<T>): Promise<T> => {
    const run = (): Promise<T> => {
      running++;
      let called: Promise<T>;
      try {
        called = call();
      } catch (error) {
        called = Promise.reject(error);
      }
      return called.finally(done);
    };
    if (running < limit) return run();
    return new Promise<T>((resolve, reject) => waiting.push(() => run().then(resolve, reject)));
  };
}
