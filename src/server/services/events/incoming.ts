import { createHash } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import { ApiFault } from '../../api/fault.js';
import type { Task } from '../../../types/clearml.js';
import type { NewEvent } from '../../store/events-store.js';

/**
 * Turns the events of events.add / add_batch into rows, with the real server's rules: per-event
 * problems are counted by message instead of failing the call, missing fields get defaults, and
 * non-log events are identified by task/iter/metric/variant/key so a resend replaces the old one.
 */

export const EVENT_TYPES = new Set([
  'training_stats_scalar',
  'training_stats_vector',
  'training_debug_image',
  'plot',
  'log',
]);

/** Published tasks accept no events unless the event says allow_locked. */
const LOCKED = new Set(['published', 'publishing']);

/** Plots at least this long are stored compressed (plot_data) as the real server does. */
export const PLOT_COMPRESSION_THRESHOLD = 100_000;

const LONG_LIMIT = 2 ** 63;

export interface IncomingContext {
  getTask(id: string): Task | undefined;
  worker: string;
  nowMs: number;
}

export interface Prepared {
  events: NewEvent[];
  errors: Record<string, number>;
}

export function prepareEvents(raw: Array<Record<string, unknown>>, ctx: IncomingContext): Prepared {
  const allowLocked = new Map<string, boolean>();
  const modelIds = new Set<string>();
  const items = raw.map((src) => {
    const ev: Record<string, unknown> = { ...src };
    if (ev.model_event) {
      if (ev.model !== undefined) ev.task = ev.model;
      delete ev.model;
    } else {
      ev.model_event = false;
    }
    const allowed = Boolean(ev.allow_locked);
    delete ev.allow_locked;
    const id = ev.task;
    if (typeof id === 'string' && id) {
      if (ev.model_event) modelIds.add(id);
      const prev = allowLocked.get(id);
      if (prev === undefined) allowLocked.set(id, allowed);
      else if (prev !== allowed) {
        throw new ApiFault(400, 12, `Inconsistent allow_locked setting in the passed events for ${id}`);
      }
    }
    return ev;
  });

  const validTasks = new Set<string>();
  for (const [id, allowed] of allowLocked) {
    if (modelIds.has(id)) continue;
    const task = ctx.getTask(id);
    if (task && (allowed || !LOCKED.has(task.status))) validTasks.add(id);
  }

  const errors: Record<string, number> = {};
  const fail = (msg: string) => {
    errors[msg] = (errors[msg] ?? 0) + 1;
  };
  const events: NewEvent[] = [];
  for (const ev of items) {
    delete ev.x_axis_label;
    if (ev.type === undefined || ev.type === null) {
      fail("Event must have a 'type' field");
      continue;
    }
    const type = String(ev.type).replace(/ /g, '_');
    if (!EVENT_TYPES.has(type)) {
      fail(`Invalid event type ${type}`);
      continue;
    }
    const isModel = Boolean(ev.model_event);
    if (isModel && type === 'log') {
      fail('Task log events are not supported for models');
      continue;
    }
    const task = ev.task;
    if (task === undefined || task === null) {
      fail("Event must have a 'task' field");
      continue;
    }
    // model events need a models store this service does not see: they are refused as unknown ids
    if (isModel || typeof task !== 'string' || !validTasks.has(task)) {
      fail(`Invalid ${isModel ? 'model' : 'task'} id ${String(task)}`);
      continue;
    }
    ev.type = type;
    ev['@timestamp'] = new Date(ctx.nowMs).toISOString();
    if ('ts' in ev) {
      ev.timestamp = ev.ts;
      delete ev.ts;
    }
    if (!('timestamp' in ev)) ev.timestamp = ctx.nowMs;
    if (!('worker' in ev)) ev.worker = ctx.worker;
    let iter: number | null = null;
    if (ev.iter !== undefined && ev.iter !== null) {
      const n = Math.trunc(Number(ev.iter));
      if (!Number.isFinite(n) || Math.abs(n) >= LONG_LIMIT) {
        fail('Iteration number should not exceed 9223372036854775807');
        continue;
      }
      iter = n;
      ev.iter = n;
    }
    if ('values' in ev) {
      ev.value = ev.values;
      delete ev.values;
    }
    ev.metric = ev.metric ? String(ev.metric) : '';
    ev.variant = ev.variant ? String(ev.variant) : '';
    if (type === 'plot') preparePlot(ev);

    const timestamp = Number(ev.timestamp);
    events.push({
      task,
      type,
      metric: ev.metric as string,
      variant: ev.variant as string,
      iter,
      timestamp: Number.isFinite(timestamp) ? timestamp : ctx.nowMs,
      url: typeof ev.url === 'string' && ev.url ? ev.url : null,
      modelEvent: isModel,
      dedupKey: type === 'log' ? null : dedupKey(type, ev),
      doc: ev,
    });
  }
  return { events, errors };
}

function dedupKey(type: string, ev: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const f of ['task', 'iter', 'metric', 'variant', 'key']) if (f in ev) parts.push(String(ev[f]));
  return `${type}:${createHash('md5').update(parts.join('-')).digest('hex')}`;
}

/** Image links anywhere in a plot: a "source" key whose value starts with a URL scheme. */
const SOURCE_URL = /["']source["']:\s?["']([a-z][a-z0-9+.-]*:\/\/[^"']*)["']/gi;

export function sourceUrls(plot: string): string[] {
  const found = new Set<string>();
  for (const m of plot.matchAll(SOURCE_URL)) found.add(m[1]);
  return [...found];
}

function preparePlot(ev: Record<string, unknown>): void {
  const plot = typeof ev.plot_str === 'string' ? ev.plot_str : '';
  delete ev.skip_validation;
  ev.plot_len = plot.length;
  if (!plot) return;
  const urls = sourceUrls(plot);
  if (urls.length) ev.source_urls = urls;
  if (plot.length >= PLOT_COMPRESSION_THRESHOLD) {
    ev.plot_data = wrap76(deflateSync(Buffer.from(plot, 'utf8'), { level: 1 }).toString('base64'));
    delete ev.plot_str;
  }
}

/** base64 in 76-character lines with a final newline, the way Python's encodebytes writes it. */
function wrap76(b64: string): string {
  let out = '';
  for (let i = 0; i < b64.length; i += 76) out += `${b64.slice(i, i + 76)}\n`;
  return out;
}

/** A stored plot with its text restored (views other than get_task_events show plot_str). */
export function expandPlot(doc: Record<string, unknown>): Record<string, unknown> {
  if (typeof doc.plot_data !== 'string' || typeof doc.plot_str === 'string') return doc;
  const { plot_data, ...rest } = doc;
  return { ...rest, plot_str: inflateSync(Buffer.from(plot_data as string, 'base64')).toString('utf8') };
}
