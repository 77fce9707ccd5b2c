/** The download's progress: shards done, the fraction of rows read, sessions written, problems, bytes, rate and ETA. */
import type { DownloadProgress } from '../protocol';

/** Reports while bytes arrive, at most this often. */
const BYTES_REPORT_MS = 200;

export class ProgressTracker {
  private resumed = 0;
  private shardsDone = 0;
  private sessionsWritten = 0;
  private problems = 0;
  private lastReport = 0;
  /** Per shard, the fraction of its rows read; resumed shards count as done from the start. */
  private readonly shardFraction: number[];

  constructor(
    private readonly shards: number,
    private readonly started: number,
    /** Bytes transferred so far (counted by the network layer, the listing included). */
    private readonly bytes: () => number,
    private readonly onProgress?: (progress: DownloadProgress) => void,
  ) {
    this.shardFraction = new Array<number>(shards).fill(0);
  }

  /** Shards taken from the journal instead of fetched. */
  get shardsResumed(): number {
    return this.resumed;
  }

  shardResumed(): void {
    this.resumed++;
  }

  sessionWritten(): void {
    this.sessionsWritten++;
  }

  /** A written session taken out again (its mask failed counting). */
  sessionRemoved(): void {
    this.sessionsWritten--;
  }

  problemFound(): void {
    this.problems++;
  }

  /** `fraction` of shard `index`'s rows read. */
  shardRead(index: number, fraction: number): void {
    this.shardFraction[index] = fraction;
    this.report();
  }

  /** Bytes arrived: a report at most every BYTES_REPORT_MS, so that a slow link shows movement within a row group. */
  bytesArrived(): void {
    if (Date.now() - this.lastReport >= BYTES_REPORT_MS) this.report();
  }

  shardFinished(index: number): void {
    this.shardFraction[index] = 1;
    this.shardsDone++;
    this.report();
  }

  private report(): void {
    this.lastReport = Date.now();
    const seconds = (Date.now() - this.started) / 1000;
    const bytes = this.bytes();
    const rate = seconds > 0 ? bytes / seconds : 0;
    const fraction = this.shardFraction.reduce((a, b) => a + b, 0) / this.shards;
    const fetched = fraction - this.resumed / this.shards;
    const eta = fetched > 0 ? (seconds / fetched) * (1 - fraction) : undefined;
    this.onProgress?.({
      shards: this.shards,
      shardsDone: this.shardsDone,
      fraction,
      sessionsWritten: this.sessionsWritten,
      problems: this.problems,
      bytes,
      bytesPerSecond: rate,
      etaSeconds: eta,
    });
  }
}
