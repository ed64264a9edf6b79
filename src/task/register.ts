/**
 * Registration as the SDK does it for `Task.init` + `connect` + `set_base_docker`: find or create the
 * project, reuse an unstarted Draft we registered earlier (or create a task), then one `tasks.edit`
 * with script, container, hyperparameters and runtime.
 */
import os from 'node:os';
import type { ClearMLClient } from '../api/index.js';
import { ApiError } from '../api/index.js';
import { CLIENT_VERSION } from '../api/version.js';
import type { Logger } from '../cleanup/index.js';
import { PROJECT_NAME, REGISTERED_BY, TASK_NAME, TASK_TYPE } from './constants.js';
import { taskFields } from './fields.js';
import type { RepoInfo } from './git.js';
import type { ServiceParams } from './params.js';

export type TaskClient = Pick<ClearMLClient, 'tasks' | 'projects' | 'queues' | 'events'>;

/** A name as an anchored, escaped regex (the server matches names as regexes). */
export function exactName(name: string): string {
  return `^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
}

export async function findOrCreateProject(client: TaskClient, name = PROJECT_NAME): Promise<string> {
  const lookup = async () => {
    const r = await client.projects.getAll({ name: exactName(name), only_fields: ['id', 'name'], search_hidden: true });
    return r.projects.find((p) => p.name === name)?.id;
  };
  const found = await lookup();
  if (found) return found;
  try {
    return (await client.projects.create({ name, description: 'Services run by clearml-agent (services queue)' })).id;
  } catch (e) {
    // someone created it meanwhile (400/801 name exists)
    const again = e instanceof ApiError && e.is(400) ? await lookup() : undefined;
    if (again) return again;
    throw e;
  }
}

export interface RegisterOptions {
  repo: RepoInfo;
  params: ServiceParams;
  log: Logger;
  projectName?: string;
  taskName?: string;
  /** the docker image a docker-mode agent runs the task in (default CONTAINER_IMAGE) */
  containerImage?: string;
}

export interface Registration {
  taskId: string;
  projectId: string;
  /** an unstarted Draft of ours was updated instead of creating a task */
  reused: boolean;
  /** our tasks of the same name already queued or running */
  active: Array<{ id: string; status: string }>;
}

export async function registerTask(client: TaskClient, o: RegisterOptions): Promise<Registration> {
  const taskName = o.taskName ?? TASK_NAME;
  const projectId = await findOrCreateProject(client, o.projectName ?? PROJECT_NAME);
  const { tasks } = await client.tasks.getAll({
    project: [projectId],
    name: exactName(taskName),
    type: [TASK_TYPE],
    system_tags: ['-archived'],
    only_fields: ['id', 'name', 'status', 'comment', 'parent', 'started', 'system_tags'],
    order_by: ['-last_update'],
    page_size: 100,
  });
  const ours = tasks.filter((t) => t.name === taskName);
  // a Draft we registered that never ran; a UI clone has a parent, a used task has `started`
  const reusable = ours.find(
    (t) => t.status === 'created' && !t.parent && !t.started && (t.comment ?? '').startsWith(REGISTERED_BY),
  );
  const active = ours.filter((t) => t.status === 'queued' || t.status === 'in_progress').map((t) => ({ id: t.id, status: t.status }));

  const comment = `${REGISTERED_BY} ${CLIENT_VERSION} at ${new Date().toISOString()} by ${safeUser()}@${os.hostname()}`;
  let taskId: string;
  if (reusable) {
    taskId = reusable.id;
  } else {
    taskId = (
      await client.tasks.create({ name: taskName, type: TASK_TYPE, project: projectId, comment, system_tags: ['development'] })
    ).id;
  }
  const fields = taskFields(o.repo, o.params, o.containerImage);
  await client.tasks.edit({ task: taskId, force: true, comment, ...fields });
  o.log.info(`${reusable ? 'Updated the unstarted Draft' : 'Created'} task ${taskId} "${taskName}" in project "${o.projectName ?? PROJECT_NAME}"`);
  return { taskId, projectId, reused: Boolean(reusable), active };
}

function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** The task's page in the web app, CONSOLE tab (the SDK's "results page"). */
export function taskWebUrl(webServer: string, projectId: string, taskId: string): string {
  return `${webServer.replace(/\/+$/, '')}/projects/${projectId}/experiments/${taskId}/output/log`;
}
