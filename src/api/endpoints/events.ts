/** events.* calls: debug images and plots to find files, logs and scalars for our own task. */
import type { ApiCaller } from '../client.js';
import type { TaskEvent } from '../../types/clearml.js';

export interface GetTaskEventsRequest {
  task: string;
  event_type?: string;
  metrics?: Array<{ metric: string; variants?: string[] }>;
  batch_size?: number;
  scroll_id?: string | null;
  order?: 'asc' | 'desc';
  navigate_earlier?: boolean;
  model_events?: boolean;
  count_total?: boolean;
}
export interface EventsPage {
  events: TaskEvent[];
  returned: number;
  total: number;
  scroll_id?: string | null;
}

export interface DebugImagesRequest {
  metrics: Array<{ task: string; metric?: string; variants?: string[] }>;
  iters?: number;
  navigate_earlier?: boolean;
  refresh?: boolean;
  scroll_id?: string | null;
  model_events?: boolean;
}
export interface DebugImagesResponse {
  scroll_id?: string;
  metrics: Array<{ task: string; iterations: Array<{ iter: number; events: TaskEvent[] }> }>;
}

export interface GetTaskPlotsRequest {
  task: string;
  iters?: number;
  scroll_id?: string | null;
  no_scroll?: boolean;
  metrics?: Array<{ metric: string; variants?: string[] }>;
  model_events?: boolean;
}
export interface PlotsPage {
  plots: TaskEvent[];
  returned: number;
  total: number;
  scroll_id?: string | null;
}

export interface GetTaskLogRequest {
  task: string;
  batch_size?: number;
  navigate_earlier?: boolean;
  from_timestamp?: number;
  order?: 'asc' | 'desc';
}

export interface AddBatchResponse {
  added: number;
  errors: number;
  errors_info?: Record<string, unknown>;
}

export class EventsApi {
  constructor(private readonly api: ApiCaller) {}

  getTaskEvents(req: GetTaskEventsRequest): Promise<EventsPage> {
    return this.api.call('events.get_task_events', req);
  }
  getTaskMetrics(req: { tasks: string[]; event_type?: string; model_events?: boolean }): Promise<{ metrics: Array<{ task: string; metrics: string[] }> }> {
    return this.api.call('events.get_task_metrics', req);
  }
  debugImages(req: DebugImagesRequest): Promise<DebugImagesResponse> {
    return this.api.call('events.debug_images', req);
  }
  getTaskPlots(req: GetTaskPlotsRequest): Promise<PlotsPage> {
    return this.api.call('events.get_task_plots', req);
  }
  getTaskLog(req: GetTaskLogRequest): Promise<EventsPage> {
    return this.api.call('events.get_task_log', req);
  }
  /** sent as json-lines, one event per line, Content-Type exactly application/json-lines */
  addBatch(events: readonly TaskEvent[]): Promise<AddBatchResponse> {
    return this.api.callJsonLines('events.add_batch', events);
  }
  deleteForTask(req: { task: string; allow_locked?: boolean }): Promise<{ deleted: number }> {
    return this.api.call('events.delete_for_task', req);
  }
}
