/**
 * The `runtime` abort-callback protocol of clearml-agent: with `_abort_callback_timeout` and
 * `_abort_poll_freq` in the task's runtime, a UI Abort makes the agent wait for
 * `_abort_callback_completed` instead of killing us at once. `runtime` is replaced wholesale by
 * tasks.edit, so every write is a read-modify-write that keeps the agent's own keys.
 */
import { RUNTIME_ABORT_DONE } from './constants.js';
import { abortRuntime } from './fields.js';
import type { TaskClient } from './register.js';

async function readRuntime(client: TaskClient, taskId: string): Promise<Record<string, unknown>> {
  const { tasks } = await client.tasks.getAll({ id: [taskId], only_fields: ['id', 'runtime'], search_hidden: true });
  return { ...(tasks[0]?.runtime ?? {}) };
}

export async function registerAbortCallback(client: TaskClient, taskId: string, timeoutSec?: number, pollSec?: number): Promise<void> {
  const runtime = await readRuntime(client, taskId);
  await client.tasks.edit({ task: taskId, force: true, runtime: { ...runtime, ...abortRuntime(timeoutSec, pollSec) } });
}

/** Tells the waiting agent that the graceful stop is done (it then ends the task as stopped). */
export async function completeAbortCallback(client: TaskClient, taskId: string): Promise<void> {
  const runtime = await readRuntime(client, taskId);
  await client.tasks.edit({ task: taskId, force: true, runtime: { ...runtime, [RUNTIME_ABORT_DONE]: '1' } });
}
