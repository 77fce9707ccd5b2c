/**
 * A counting semaphore over an amount (files being read, bytes held), first come first served.
 * A request larger than the whole budget is admitted when nothing else is held, so nothing
 * waits forever; `peak` records the most ever held, for tests and benchmarks.
 */
export class Budget {
  private used = 0;
  private readonly waiting: { amount: number; grant: () => void }[] = [];
  peak = 0;

  constructor(readonly capacity: number) {}

  acquire(amount: number): Promise<void> {
    if (this.waiting.length === 0 && this.fits(amount)) {
      this.take(amount);
      return Promise.resolve();
    }
    return new Promise((grant) => this.waiting.push({ amount, grant }));
  }

  /** Takes `amount` at once, over the capacity if need be: for holders that must not wait. */
  force(amount: number): void {
    this.take(amount);
  }

  release(amount: number): void {
    this.used -= amount;
    while (this.waiting.length && this.fits(this.waiting[0].amount)) {
      const next = this.waiting.shift()!;
      this.take(next.amount);
      next.grant();
    }
  }

  private fits(amount: number): boolean {
    return this.used === 0 || this.used + amount <= this.capacity;
  }

  private take(amount: number): void {
    this.used += amount;
    this.peak = Math.max(this.peak, this.used);
  }
}
