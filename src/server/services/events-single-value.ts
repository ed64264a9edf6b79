import { ApiFault } from '../api/fault.js';
import type { Service } from '../api/service.js';
import type { EventsStore } from '../store/events-store.js';
import { stringList } from './common.js';

/**
 * events.get_task_single_value_metrics: the scalars the SDK reports with report_single_value,
 * stored at the reserved iteration -2^31, shown by the web app as a table above the SCALARS plots
 * (apiserver/bll/event/event_metrics.py). Each task gets its newest value per metric/variant.
 */
export const SINGLE_VALUE_ITERATION = -(2 ** 31);

export function createSingleValueMetrics(events: EventsStore): Service {
  return {
    get_task_single_value_metrics: (req) => {
      const tasks = stringList(req.body.tasks);
      if (!tasks.length) throw new ApiFault(400, 11, 'Missing required fields: tasks', { fields: ['tasks'] });
      return {
        tasks: tasks.map((task) => {
          const newest = new Map<string, { metric: string; variant: string; value: unknown; timestamp: number }>();
          for (const e of events.atIters({ tasks: [task], type: 'training_stats_scalar' }, [SINGLE_VALUE_ITERATION])) {
            const key = `${e.metric}\u0000${e.variant}`;
            const seen = newest.get(key);
            if (!seen || e.timestamp >= seen.timestamp) newest.set(key, { metric: e.metric, variant: e.variant, value: e.doc.value, timestamp: e.timestamp });
          }
          return { task, values: [...newest.values()] };
        }),
      };
    },
  };
}
