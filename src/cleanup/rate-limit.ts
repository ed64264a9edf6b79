/**
 * A limit on the rate of API requests the ClearML server sees from one pass: a token bucket that
 * holds `burst` tokens, refilled at `perSecond`; each call takes one token, or waits for it.
 *
 * Why a rate and not pauses between batches: a pause idles both sides (the server has nothing of
 * ours to do, and we wait), while a rate only slows us down when we would otherwise send more than
 * the server's other users should have to share it with. A pass under the limit runs at full speed.
 *
 * It is kept as the time the next token is due ("GCRA", the virtual-scheduling form of a token
 * bucket): each caller reserves its slot synchronously when it asks, so the waiting callers go in
 * the order they asked and no timer wakes a crowd that then races for one token.
 */
import type { Api } from './ports.js';

export class RequestRate {
  /** ms between two tokens */
  private readonly interval: number;
  /** how far ahead of the steady rate a burst may run, ms */
  private readonly tolerance: number;
  /** when the bucket is back to full at the steady rate (the "theoretical arrival time"), ms */
  private due = 0;

  /** perSecond <= 0 or not finite: no limit. */
  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly clock: () => number = () => performance.now(),
    private readonly wait: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.interval = perSecond > 0 && Number.isFinite(perSecond) ? 1000 / perSecond : 0;
    this.tolerance = Math.max(0, Math.floor(burst) - 1) * this.interval;
  }

  get limited(): boolean {
    return this.interval > 0;
  }

  /** Resolves when this request may go; the delay is reserved now, in the order of the calls. */
  take(): Promise<void> {
    if (!this.limited) return Promise.resolve();
    const now = this.clock();
    const due = Math.max(this.due, now);
    const at = due - this.tolerance;
    this.due = due + this.interval;
    return at > now ? this.wait(at - now) : Promise.resolve();
  }
}

/** The engine's API port, each call after a token of `rate`. */
export class RateLimitedApi implements Api {
  constructor(
    private readonly inner: Api,
    private readonly rate: RequestRate,
  ) {}

  async call<T>(endpoint: string, body?: object): Promise<T> {
    await this.rate.take();
    return this.inner.call<T>(endpoint, body);
  }

  /** Not a request (the version comes with the login token): no token taken, and never lost, or an
   * older server would be sent what it lacks. */
  serverApiVersion(): Promise<string | undefined> {
    return this.inner.serverApiVersion?.() ?? Promise.resolve(undefined);
  }
}
