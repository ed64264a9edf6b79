/** queues.* calls: finding the queue to enqueue the cleanup task in. */
import type { ApiCaller } from '../client.js';
import type { Queue } from '../../types/clearml.js';
import type { ListQuery } from './common.js';

export class QueuesApi {
  constructor(private readonly api: ApiCaller) {}

  /** `name` is an unanchored regex, e.g. "^services$" */
  getAll(req: ListQuery): Promise<{ queues: Queue[]; scroll_id?: string }> {
    return this.api.call('queues.get_all', req);
  }
  create(req: { name: string; tags?: string[]; system_tags?: string[] }): Promise<{ id: string }> {
    return this.api.call('queues.create', req);
  }
}
