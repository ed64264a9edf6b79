/**
 * Two-stage pipelining of a pass's batches: batch i+1 is prepared (planned: reads only) while
 * batch i runs (journal, files, entities). At most two batches are in memory: the one running and
 * the one being prepared. Nothing of batch i+1 is written or deleted before batch i has finished,
 * so the journal's order, and what a kill at any moment leaves behind, are those of one batch after
 * the other. The caller learns whether a prepared batch overlapped a running one, because its reads
 * may have seen that batch's tasks and models before they were deleted.
 */

export interface OverlapSteps<P> {
  count: number;
  /** whether batch `next` may be prepared while the one before runs (false: one after the other) */
  overlap: boolean | ((next: number) => boolean);
  /** reads only; must not throw (return the error as a value) */
  prepare(i: number): Promise<P>;
  /** 'stop' ends the loop (the batch being prepared is awaited and dropped) */
  run(i: number, prepared: P, overlapped: boolean): Promise<'next' | 'stop'>;
  /** checked before each batch starts */
  stopped(): boolean;
}

/** Runs every batch in order; returns the index of the first batch not run (count when all ran). */
export async function runOverlapped<P>(s: OverlapSteps<P>): Promise<number> {
  let next: Promise<P> | undefined;
  try {
    for (let i = 0; i < s.count; i++) {
      if (s.stopped()) return i;
      const overlapped = next !== undefined;
      const prepared = await (next ?? s.prepare(i));
      const may = typeof s.overlap === 'function' ? s.overlap(i + 1) : s.overlap;
      next = may && i + 1 < s.count && !s.stopped() ? s.prepare(i + 1) : undefined;
      if ((await s.run(i, prepared, overlapped)) === 'stop') return i + 1;
    }
    return s.count;
  } finally {
    // a pass never ends with reads of ours still in flight (the lock is released after this)
    await next;
  }
}
