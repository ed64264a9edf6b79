/**
 * Watches our own task while the service runs: polls its status for an Abort from the web app
 * (status_message "stopping" while in_progress, as the agent does, or any status other than
 * in_progress when no agent holds the task), and keeps it alive with tasks.ping.
 */
import type { Logger } from '../cleanup/index.js';
import { errorMessage } from '../cleanup/ports.js';
import { ABORT_POLL_FREQ_SEC, PING_INTERVAL_MS } from './constants.js';
import type { TaskClient } from './register.js';

export type StopReason =
  /** Abort in the web app: status_message "stopping" (the agent waits for our callback) */
  | 'abort'
  /** the task left in_progress (stopped, reset, failed...) or was deleted */
  | 'status';

export interface WatcherOptions {
  client: TaskClient;
  taskId: string;
  log: Logger;
  pollMs?: number;
  pingMs?: number;
}

export class TaskWatcher {
  private readonly controller = new AbortController();
  private timer?: NodeJS.Timeout;
  private lastPing = 0;
  private running?: Promise<void>;
  reason?: StopReason;
  /** e.g. "stopped (Stopped by admin)" */
  detail?: string;

  constructor(private readonly o: WatcherOptions) {}

  /** fires when the task should stop */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  start(): void {
    this.lastPing = Date.now();
    this.schedule();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** tasks.ping now (between passes), errors only logged: liveness must never stop the service */
  async ping(): Promise<void> {
    this.lastPing = Date.now();
    try {
      await this.o.client.tasks.ping({ task: this.o.taskId });
    } catch (e) {
      this.o.log.warn(`tasks.ping failed: ${errorMessage(e)}`);
    }
  }

  private schedule(): void {
    if (this.controller.signal.aborted) return;
    this.timer = setTimeout(() => {
      this.running = this.poll().finally(() => {
        this.running = undefined;
        if (this.timer) this.schedule();
      });
    }, this.o.pollMs ?? ABORT_POLL_FREQ_SEC * 1000);
  }

  /** One status check, the way the agent checks (errors are ignored: the task keeps running). */
  async poll(): Promise<void> {
    if (Date.now() - this.lastPing >= (this.o.pingMs ?? PING_INTERVAL_MS)) await this.ping();
    let task;
    try {
      const r = await this.o.client.tasks.getAll({
        id: [this.o.taskId],
        only_fields: ['id', 'status', 'status_message'],
        search_hidden: true,
      });
      task = r.tasks[0];
      if (!task) return this.fire('status', 'the task no longer exists');
    } catch (e) {
      this.o.log.debug(`status poll failed: ${errorMessage(e)}`);
      return;
    }
    const message = task.status_message ?? '';
    if (task.status === 'in_progress') {
      if (message.includes('stopping')) this.fire('abort', 'Abort requested in the web app');
      return;
    }
    this.fire('status', `the task is now ${task.status}${message ? ` (${message})` : ''}`);
  }

  private fire(reason: StopReason, detail: string): void {
    if (this.controller.signal.aborted) return;
    this.reason = reason;
    this.detail = detail;
    this.o.log.warn(`${detail}: stopping after the current batch`);
    clearTimeout(this.timer);
    this.timer = undefined;
    this.controller.abort();
  }
}
