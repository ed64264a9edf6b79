import type { CallRequest, Service } from '../api/service.js';
import type { EmbeddedState } from '../state.js';
import type { Worker } from '../store/stores.js';
import { stringList } from './common.js';

const DEFAULT_TIMEOUT_SEC = 600;

/** Workers: register/status_report keep a record; a report on a task refreshes its last_update. */
export function createWorkersService(state: EmbeddedState): Service {
  const store = state.stores.workers;

  const touch = (req: CallRequest): Worker => {
    const id = typeof req.body.worker === 'string' && req.body.worker ? req.body.worker : 'unknown';
    const now = state.isoNow();
    const w: Worker = structuredClone(store.get(id)) ?? {
      id, register_time: now, last_activity_time: now, queues: [], company: req.identity.company, user: req.identity.user,
    };
    w.last_activity_time = now;
    if (req.body.queues !== undefined) w.queues = stringList(req.body.queues);
    if (req.body.tags !== undefined) w.tags = stringList(req.body.tags);
    const timeout = Number(req.body.timeout);
    if (Number.isFinite(timeout) && timeout > 0) w.timeout = timeout;
    return w;
  };

  return {
    register: (req) => {
      store.put(touch(req));
      return {};
    },
    unregister: (req) => {
      if (typeof req.body.worker === 'string') store.delete(req.body.worker);
      return {};
    },
    status_report: (req) => {
      const w = touch(req);
      const now = state.isoNow();
      w.last_report_time = now;
      const taskId = typeof req.body.task === 'string' ? req.body.task : undefined;
      const task = taskId ? state.stores.tasks.get(taskId) : undefined;
      w.task = task ? { id: task.id, name: task.name } : null;
      if (req.body.machine_stats) w.machine_stats = req.body.machine_stats;
      store.put(w);
      if (task) {
        state.stores.tasks.put({ ...structuredClone(task), last_worker: w.id, last_worker_report: now, last_update: now });
      }
      return {};
    },
    // a worker that stopped reporting disappears after its timeout (600 s by default), like the real server
    get_all: (req) => {
      const now = state.now().getTime();
      const lastSeen = Number(req.body.last_seen);
      const alive = [...store.values()].filter((w) => {
        const limit = (Number.isFinite(lastSeen) && lastSeen > 0 ? lastSeen : Number(w.timeout) || DEFAULT_TIMEOUT_SEC) * 1000;
        return now - Date.parse(w.last_activity_time) <= limit;
      });
      return { workers: alive.map((w) => structuredClone(w)) };
    },
    get_activity_report: () => ({ total: [], active: [] }),
  };
}
