/**
 * CONSOLE lines for a task that no agent runs (`run --task-id`): under an agent its stdout already
 * reaches the CONSOLE tab, so this is used only without one. Lines are batched into
 * events.add_batch log events, flushed every couple of seconds and at the end.
 */
import os from 'node:os';
import type { Log } from '../log/index.js';
import type { TaskEvent } from '../types/clearml.js';
import type { TaskClient } from './register.js';

const LEVELS: Record<string, string> = { debug: 'debug', info: 'info', warn: 'warning', error: 'error' };

export interface ConsoleShipperOptions {
  client: TaskClient;
  taskId: string;
  worker?: string;
  flushMs?: number;
  /** lines per request */
  maxBatch?: number;
  /** where shipping problems are reported (never shipped themselves) */
  onError?: (msg: string) => void;
}

export class ConsoleShipper {
  private queue: TaskEvent[] = [];
  private timer?: NodeJS.Timeout;
  private sending: Promise<void> = Promise.resolve();
  private lastTs = 0;
  /** lines the server accepted */
  shipped = 0;

  constructor(private readonly o: ConsoleShipperOptions) {}

  add(level: string, text: string): void {
    // unique, increasing timestamps keep the order of lines written in the same millisecond
    const ts = Math.max(Date.now(), this.lastTs + 1);
    this.lastTs = ts;
    this.queue.push({
      type: 'log',
      task: this.o.taskId,
      timestamp: ts,
      level: LEVELS[level] ?? 'info',
      worker: this.o.worker ?? os.hostname(),
      msg: text,
    });
    if (this.queue.length >= (this.o.maxBatch ?? 500)) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.o.flushMs ?? 2000);
  }

  /** Sends what is queued (one request at a time, in order). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return this.sending;
    this.sending = this.sending.then(async () => {
      try {
        const r = await this.o.client.events.addBatch(batch);
        this.shipped += r.added ?? 0;
      } catch (e) {
        this.o.onError?.(`could not send ${batch.length} console lines to the task: ${(e as Error).message}`);
      }
    });
    return this.sending;
  }
}

/** The text format of src/log (message, then any details as JSON). */
function lineOf(level: string, msg: string, meta?: Record<string, unknown>): string {
  const details = meta && Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : '';
  return `${level === 'info' ? '' : `${level.toUpperCase()}: `}${msg}${details}`;
}

/** A Log that writes as `base` does and also ships each line to the task's CONSOLE. */
export function teeLog(base: Log, shipper: ConsoleShipper): Log {
  const both = (level: 'debug' | 'info' | 'warn' | 'error') => (msg: string, meta?: Record<string, unknown>) => {
    base[level](msg, meta);
    if (level !== 'debug') shipper.add(level, lineOf(level, msg, meta));
  };
  return {
    debug: both('debug'),
    info: both('info'),
    warn: both('warn'),
    error: both('error'),
    close: async () => {
      await shipper.flush();
      await base.close();
    },
  };
}
