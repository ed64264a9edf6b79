import type { EmbeddedState } from '../state.js';

/** Removes the task from every queue it is listed in; returns how many entries were removed. */
export function removeFromQueues(state: EmbeddedState, taskId: string, now: string): number {
  let removed = 0;
  for (const q of [...state.stores.queues.values()]) {
    if (!q.entries.some((e) => e.task === taskId)) continue;
    const copy = structuredClone(q);
    const before = copy.entries.length;
    copy.entries = copy.entries.filter((e) => e.task !== taskId);
    removed += before - copy.entries.length;
    copy.last_update = now;
    state.stores.queues.put(copy);
  }
  return removed;
}

export function addToQueue(state: EmbeddedState, queueId: string, taskId: string, now: string): void {
  removeFromQueues(state, taskId, now);
  const q = structuredClone(state.stores.queues.get(queueId)!);
  q.entries.push({ task: taskId, added: now });
  q.last_update = now;
  state.stores.queues.put(q);
}
