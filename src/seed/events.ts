/**
 * Events as the SDK reports them (debug images, plots with an image, console lines, scalars), sent
 * in large `events.add_batch` json-lines calls that mix many tasks.
 */
import { RequestQueue } from './request-queue.js';
import type { SeedApi } from './types.js';

export interface AddBatchResult {
  added?: number;
  errors?: number;
  errors_info?: Record<string, number>;
}

export class EventBatcher {
  sent = 0;
  rejected = 0;
  private batch: object[] = [];
  private readonly queue: RequestQueue;

  constructor(
    private readonly api: SeedApi,
    private readonly perBatch = 5000,
    concurrency = 3,
    private readonly onRejected?: (msg: string) => void,
  ) {
    this.queue = new RequestQueue(concurrency);
  }

  async add(events: object[]): Promise<void> {
    this.queue.check();
    for (const e of events) {
      this.batch.push(e);
      if (this.batch.length >= this.perBatch) this.flush();
    }
    await this.queue.waitForRoom();
  }

  async finish(): Promise<void> {
    this.flush();
    await this.queue.drain();
  }

  private flush(): void {
    if (!this.batch.length) return;
    const items = this.batch;
    this.batch = [];
    this.queue.push(async () => {
      const res = await this.api.callJsonLines<AddBatchResult>('events.add_batch', items);
      this.sent += items.length;
      if (res?.errors) {
        this.rejected += res.errors;
        this.onRejected?.(`events.add_batch rejected ${res.errors} of ${items.length} events: ${JSON.stringify(res.errors_info ?? {})}`);
      }
    });
  }
}

export function debugImageEvent(taskId: string, iter: number, metric: string, variant: string, key: string, url: string, ts: number) {
  return { type: 'training_debug_image', task: taskId, timestamp: ts, iter, metric, variant, key, url };
}

/** a Plotly figure whose background image is an uploaded file (what the SDK does for matplotlib images) */
export function plotEvent(taskId: string, iter: number, metric: string, variant: string, url: string, ts: number) {
  const figure = {
    data: [{ type: 'scatter', x: [0, 1], y: [0, 1], mode: 'markers', opacity: 0 }],
    layout: {
      title: `${metric} - ${variant}`,
      images: [{ source: url, xref: 'x', yref: 'y', x: 0, y: 1, sizex: 1, sizey: 1, sizing: 'stretch', layer: 'below' }],
    },
  };
  return { type: 'plot', task: taskId, timestamp: ts, iter, metric, variant, plot_str: JSON.stringify(figure) };
}

export function logEvent(taskId: string, level: string, msg: string, ts: number) {
  return { type: 'log', task: taskId, timestamp: ts, level, worker: 'seed-worker', msg };
}

export function scalarEvent(taskId: string, iter: number, metric: string, variant: string, value: number, ts: number) {
  return { type: 'training_stats_scalar', task: taskId, timestamp: ts, iter, metric, variant, value };
}
