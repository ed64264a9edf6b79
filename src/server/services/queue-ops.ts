import type { CallRequest } from '../api/service.js';
import type { EmbeddedState } from '../state.js';
import { newId } from '../util/ids.js';
import { validateName } from './common.js';

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

export function createQueue(state: EmbeddedState, req: CallRequest, name: string, fields: { tags?: string[]; system_tags?: string[] } = {}): string {
  const now = state.isoNow();
  const id = newId();
  state.stores.queues.put({
    id, name: validateName(name, 'queue'), created: now, last_update: now,
    tags: fields.tags ?? [], system_tags: fields.system_tags ?? [], entries: [],
    company: req.identity.company, user: req.identity.user,
  });
  return id;
}
