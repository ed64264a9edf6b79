/** Enqueueing as `execute_remotely` does: the queue is looked up by exact name, never created. */
import { DEFAULT_QUEUE } from './constants.js';
import { TaskSetupError } from './errors.js';
import { exactName, type TaskClient } from './register.js';

export async function findQueue(client: TaskClient, name: string, apiHost: string): Promise<string> {
  const { queues } = await client.queues.getAll({ name: exactName(name), only_fields: ['id', 'name'] });
  const q = queues.find((x) => x.name === name) ?? queues.find((x) => x.name.toLowerCase() === name.toLowerCase());
  if (!q) {
    const hint =
      name === DEFAULT_QUEUE
        ? 'start a services agent (clearml-agent daemon --queue services --services-mode --create-queue) or create the queue in the web app (Orchestration > Queues)'
        : 'create it in the web app (Orchestration > Queues) or name an existing one with --queue';
    throw new TaskSetupError(`queue "${name}" does not exist on ${apiHost}: ${hint}`);
  }
  return q.id;
}

export async function enqueueTask(client: TaskClient, taskId: string, queueId: string): Promise<void> {
  await client.tasks.enqueue({ task: taskId, queue: queueId, status_reason: 'enqueued by clearml-cleanup' });
}
