/**
 * A progress bar on stderr for long scans: counts, rate-based ETA, redrawn at most 10 times a
 * second. Silent when stderr is not a terminal (CI logs, pipes) or when asked to be.
 */
export class ProgressBar {
  private started = Date.now();
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly enabled = stream.isTTY === true,
  ) {}

  update(done: number, total: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (done < total && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const width = 24;
    const fraction = total > 0 ? done / total : 1;
    const filled = Math.round(fraction * width);
    const elapsed = (now - this.started) / 1000;
    const eta = done > 0 && done < total ? ` ETA ${formatSeconds((elapsed / done) * (total - done))}` : '';
    this.stream.write(
      `\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}${eta}\x1b[K`,
    );
    this.drawn = true;
  }

  finish(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s`;
}
