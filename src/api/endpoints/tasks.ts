/** tasks.* calls used by the cleanup service and its own task. */
import type { ApiCaller } from '../client.js';
import type { HyperParam, Task, TaskContainer, TaskScript, TaskStatus } from '../../types/clearml.js';
import type { DateFilter, ListQuery, ManyResult, StatusChangeRequest, UpdatedResult } from './common.js';

export interface TasksGetAllRequest extends ListQuery {
  project?: string[];
  status?: TaskStatus[];
  type?: string[];
  user?: string[];
  parent?: string[];
  status_changed?: DateFilter;
  last_update?: DateFilter;
  last_change?: DateFilter;
  created?: DateFilter;
  include_subprojects?: boolean;
}
export interface TasksGetAllResponse {
  tasks: Task[];
  scroll_id?: string;
}

export interface TaskFileUrls {
  model_urls?: string[];
  event_urls?: string[];
  artifact_urls?: string[];
}

export interface TaskDeleteOptions {
  force?: boolean;
  move_to_trash?: boolean;
  return_file_urls?: boolean;
  delete_output_models?: boolean;
  /** the server then deletes files itself, checking no other entity: the client always sends false */
  delete_external_artifacts?: boolean;
  status_reason?: string;
}
export interface TasksDeleteRequest extends TaskDeleteOptions {
  task: string;
}
export interface TasksDeleteResponse {
  deleted: boolean | number;
  updated_children?: number;
  updated_models?: number;
  deleted_models?: number;
  events?: { deleted?: number };
  urls?: TaskFileUrls | null;
}
export interface TasksDeleteManyRequest extends Omit<TaskDeleteOptions, 'status_reason' | 'move_to_trash'> {
  ids: string[];
}
export type TasksDeleteManyResponse = ManyResult<Omit<TasksDeleteResponse, 'deleted'> & { deleted?: boolean }>;

export interface TasksCreateRequest {
  name: string;
  type: string;
  project?: string;
  comment?: string;
  tags?: string[];
  system_tags?: string[];
  parent?: string;
  script?: TaskScript;
  container?: TaskContainer;
  hyperparams?: Task['hyperparams'];
  configuration?: Task['configuration'];
  models?: Task['models'];
  execution?: Task['execution'];
  output_dest?: string;
  [field: string]: unknown;
}

export interface TasksEditRequest {
  task: string;
  force?: boolean;
  name?: string;
  comment?: string;
  tags?: string[];
  system_tags?: string[];
  script?: TaskScript;
  container?: TaskContainer;
  runtime?: Record<string, unknown>;
  hyperparams?: Task['hyperparams'];
  execution?: Task['execution'];
  models?: Task['models'];
  [field: string]: unknown;
}

export interface TasksEditHyperParamsRequest {
  task: string;
  hyperparams: HyperParam[];
  replace_hyperparams?: 'none' | 'section' | 'all';
  force?: boolean;
}

export interface TasksGetHyperParamsResponse {
  params: Array<{ task: string; hyperparams: HyperParam[] }>;
}

export interface TasksEnqueueRequest {
  task: string;
  queue?: string;
  queue_name?: string;
  force?: boolean;
  status_reason?: string;
  status_message?: string;
}

export interface TasksResetRequest {
  task: string;
  force?: boolean;
  clear_all?: boolean;
  return_file_urls?: boolean;
  delete_output_models?: boolean;
  /** sent as false whatever is given here (src/api/server-deletes.ts) */
  delete_external_artifacts?: boolean;
}

export class TasksApi {
  constructor(private readonly api: ApiCaller) {}

  getAll(req: TasksGetAllRequest): Promise<TasksGetAllResponse> {
    return this.api.call('tasks.get_all', req);
  }
  getById(req: { task: string }): Promise<{ task: Task }> {
    return this.api.call('tasks.get_by_id', req);
  }
  create(req: TasksCreateRequest): Promise<{ id: string }> {
    return this.api.call('tasks.create', req);
  }
  edit(req: TasksEditRequest): Promise<UpdatedResult> {
    return this.api.call('tasks.edit', req);
  }
  editHyperParams(req: TasksEditHyperParamsRequest): Promise<{ updated: number }> {
    return this.api.call('tasks.edit_hyper_params', req);
  }
  getHyperParams(req: { tasks: string[] }): Promise<TasksGetHyperParamsResponse> {
    return this.api.call('tasks.get_hyper_params', req);
  }
  delete(req: TasksDeleteRequest): Promise<TasksDeleteResponse> {
    return this.api.call('tasks.delete', req);
  }
  deleteMany(req: TasksDeleteManyRequest): Promise<TasksDeleteManyResponse> {
    return this.api.call('tasks.delete_many', req);
  }
  archive(req: { tasks: string[]; status_reason?: string; status_message?: string }): Promise<{ archived: number }> {
    return this.api.call('tasks.archive', req);
  }
  archiveMany(req: { ids: string[]; status_reason?: string }): Promise<ManyResult<{ archived: boolean }>> {
    return this.api.call('tasks.archive_many', req);
  }
  enqueue(req: TasksEnqueueRequest): Promise<UpdatedResult & { queued?: number }> {
    return this.api.call('tasks.enqueue', req);
  }
  started(req: StatusChangeRequest): Promise<UpdatedResult & { started?: number }> {
    return this.api.call('tasks.started', req);
  }
  stopped(req: StatusChangeRequest): Promise<UpdatedResult> {
    return this.api.call('tasks.stopped', req);
  }
  completed(req: StatusChangeRequest & { publish?: boolean }): Promise<UpdatedResult> {
    return this.api.call('tasks.completed', req);
  }
  failed(req: StatusChangeRequest): Promise<UpdatedResult> {
    return this.api.call('tasks.failed', req);
  }
  publish(req: StatusChangeRequest & { publish_model?: boolean }): Promise<UpdatedResult> {
    return this.api.call('tasks.publish', req);
  }
  reset(req: TasksResetRequest): Promise<UpdatedResult & { deleted_models?: number; urls?: TaskFileUrls | null }> {
    return this.api.call('tasks.reset', req);
  }
  /** liveness: the server stops in_progress tasks that stay silent for 2 h */
  ping(req: { task: string }): Promise<Record<string, never>> {
    return this.api.call('tasks.ping', req);
  }
}
