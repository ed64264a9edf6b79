/**
 * The seeder's background requests (event batches, multipart uploads): at most `concurrency` at
 * once, with back-pressure on the producer, and the first failure kept to be thrown to it.
 */
import pLimit from 'p-limit';

export class RequestQueue {
  private readonly limit;
  private readonly pending = new Set<Promise<void>>();
  private failure?: Error;

  constructor(concurrency: number) {
    this.limit = pLimit(concurrency);
  }

  /** Throws the first failure of a request sent so far. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  /** Sends in the background; a failure is kept, not thrown here. */
  push(send: () => Promise<void>): void {
    const p = this.limit(send)
      .catch((e: Error) => {
        this.failure ??= e;
      })
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Resolves once no more than two requests wait behind the running ones. */
  async waitForRoom(): Promise<void> {
    while (this.limit.pendingCount > 2 && this.pending.size) await Promise.race(this.pending);
  }

  /** Waits for every request; throws the first failure. */
  async drain(): Promise<void> {
    while (this.pending.size) await Promise.race(this.pending);
    this.check();
  }
}
