/**
 * Where an NPZ is counted when the main thread may count too (the CLI's build, `countHereBytes`):
 * here or on a thread. Starting a thread costs more than counting a few files (measured: 8 files
 * of 3.7 MB, ~10 ms to count cold, ~40 ms to start each thread), so the main thread counts alone
 * while the whole work in sight fits its allowance, and once threads run, one file whenever every
 * thread has one waiting. Not for the language server, whose main thread must stay free.
 */
export class MainThreadCounting {
  /** NPZ files counted here, and the inflated `labels` bytes they held. */
  counted = 0;
  bytesCounted = 0;
  /** NPZ counts asked for and not yet counted or handed over. */
  private undecided = 0;
  /** Files whose `labels` size is known (fetched or counted) and those sizes' sum: their mean stands in for the rest. */
  private known = { files: 0, bytes: 0 };
  /** The counting turns, one NPZ file each (turn). */
  private turns: Promise<void> = Promise.resolve();

  /** `allowance`: inflated `labels` bytes the main thread may count alone, without any thread (0: never count here). */
  constructor(private readonly allowance: number) {}

  get allowed(): boolean {
    return this.allowance > 0;
  }

  /** Whether any file's `labels` size is known yet (before that there is nothing to go by). */
  get anyKnown(): boolean {
    return this.known.files > 0;
  }

  /** The mean `labels` size of the files known so far (0 before any). */
  get meanLabels(): number {
    return this.known.files ? this.known.bytes / this.known.files : 0;
  }

  /** A file's count was asked for; the function returned says it is decided (counted here or handed on), once. */
  asked(): () => void {
    this.undecided++;
    let open = true;
    return () => {
      if (open) this.undecided--;
      open = false;
    };
  }

  /** A file's inflated `labels` size became known. */
  noteLabels(bytes: number): void {
    this.known.files++;
    this.known.bytes += bytes;
  }

  /** A file was counted here. */
  noteCounted(labels: number): void {
    this.counted++;
    this.bytesCounted += labels;
  }

  /**
   * Whether an NPZ whose labels inflate to `labels` bytes is counted here, given the threads'
   * queue (`queued`, undefined before any thread is started): while every thread has a file
   * waiting, or, before any thread is started, when the whole work in sight fits the allowance:
   * what was counted here, this file, and the files still undecided at the mean size. Decided at
   * the first file, not after the allowance is used up: a thread then starts while this one
   * counts, instead of after it (at 160 of the bench's files the thread started only after 70
   * were counted here and then had little left to take).
   */
  takes(labels: number, queued: number | undefined): boolean {
    if (!this.allowed) return false;
    if (queued !== undefined) return queued > 0;
    const inSight = this.bytesCounted + labels + (this.undecided - 1) * this.meanLabels;
    return inSight <= this.allowance;
  }

  /**
   * Waits for a file's turn to be counted here or handed over: a turn of the event loop after
   * the last file's. Reads complete many at once, and counting each as its read completes kept
   * the main thread busy for all of them in one go while a thread's messages (ready, done)
   * waited, and with them the files it would take (seen at 160 files: a thread that was ready
   * early got its first file 570 ms later, and counted 3 of 160). Resolves to the release; no
   * wait at all when this thread never counts.
   */
  async turn(): Promise<() => void> {
    if (!this.allowed) return () => {};
    const previous = this.turns;
    let release!: () => void;
    this.turns = new Promise<void>((resolve) => (release = resolve));
    await previous;
    await new Promise<void>((resolve) => setImmediate(resolve));
    return release;
  }
}
