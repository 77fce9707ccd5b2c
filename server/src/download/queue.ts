/**
 * A fixed number of workers pull from one queue: latency hiding without unbounded memory. The
 * first failure aborts `stop`, so nothing keeps working once the run has failed.
 */
export async function runQueue<T>(
  count: number,
  jobs: number,
  stop: AbortController,
  signal: AbortSignal,
  work: (index: number) => Promise<T>,
  onDone: (index: number) => void,
): Promise<{ results: T[]; failed: boolean }> {
  const results: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count && !signal.aborted) {
      const index = next++;
      results[index] = await work(index);
      onDone(index);
    }
  };
  const outcomes = await Promise.allSettled(
    Array.from({ length: Math.max(1, Math.min(jobs, count)) }, () =>
      worker().catch((error) => {
        stop.abort(error);
        throw error;
      }),
    ),
  );
  return { results, failed: outcomes.some((o) => o.status === 'rejected') };
}
