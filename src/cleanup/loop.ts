/**
 * The paced loop: a pass, then sleep for what is left of the period (a pass longer than the period
 * starts the next right away), waking early when aborted, calling onTick while asleep so a caller
 * can keep a liveness ping going.
 */
import { abortableSleep } from './pass.js';

export interface LoopDeps<R> {
  runPass: () => Promise<R>;
  periodDays: number;
  signal?: AbortSignal;
  /** one pass then return */
  once?: boolean;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
  /** called every tickMs while sleeping (and once after each pass) */
  onTick?: () => void | Promise<void>;
  tickMs?: number;
  /** after each pass, with the ms it will sleep */
  onPassDone?: (result: R, sleepMs: number) => void | Promise<void>;
  /** a pass that throws (it should not: runPass reports) is logged here, and the loop goes on */
  onPassError?: (err: unknown) => void;
}

export async function runLoop<R>(deps: LoopDeps<R>): Promise<R | undefined> {
  const sleep = deps.sleep ?? abortableSleep;
  const now = deps.now ?? Date.now;
  const periodMs = deps.periodDays * 86_400_000;
  const tickMs = deps.tickMs ?? 60_000;
  let last: R | undefined;
  while (!deps.signal?.aborted) {
    const start = now();
    try {
      last = await deps.runPass();
    } catch (err) {
      deps.onPassError?.(err);
    }
    if (deps.once || deps.signal?.aborted) break;
    const wait = Math.max(0, start + periodMs - now());
    if (last !== undefined) await deps.onPassDone?.(last, wait);
    await deps.onTick?.();
    const until = now() + wait;
    while (!deps.signal?.aborted) {
      const left = until - now();
      if (left <= 0) break;
      await sleep(Math.min(left, tickMs), deps.signal);
      if (!deps.signal?.aborted && deps.onTick && now() < until) await deps.onTick();
    }
  }
  return last;
}
