import type Database from 'better-sqlite3';
import type { Model, Project, Queue, Task } from '../../types/clearml.js';
import { DocCollection } from './collection.js';

export interface Worker {
  id: string;
  company?: string;
  user?: string;
  register_time: string;
  last_activity_time: string;
  last_report_time?: string;
  queues: string[];
  task?: { id: string; name?: string; running_time?: number } | null;
  tags?: string[];
  system_tags?: string[];
  ip?: string;
  key?: string;
  [k: string]: unknown;
}

export const TASKS_BY_PARENT = 'parent';
export const TASKS_BY_INPUT_MODEL = 'input_model';
export const MODELS_BY_TASK = 'task';
export const MODELS_BY_URI = 'uri';

/** Every entity collection of the embedded server. */
export class Stores {
  readonly tasks: DocCollection<Task>;
  readonly models: DocCollection<Model>;
  readonly projects: DocCollection<Project>;
  readonly queues: DocCollection<Queue>;
  readonly workers: DocCollection<Worker>;

  constructor(readonly db: Database.Database) {
    this.tasks = new DocCollection<Task>(db, 'tasks');
    this.models = new DocCollection<Model>(db, 'models');
    // what deleting a task looks up: its children, its output models, the users of a model
    this.tasks.addIndex(TASKS_BY_PARENT, (t) => (t.parent ? [t.parent] : []));
    this.tasks.addIndex(TASKS_BY_INPUT_MODEL, (t) => (t.models?.input ?? []).map((m) => m.model).filter((id) => typeof id === 'string'));
    this.models.addIndex(MODELS_BY_TASK, (m) => (m.task ? [m.task] : []));
    // what a pass's models.get_all asks by: task ids and file URIs
    this.models.addIndex(MODELS_BY_URI, (m) => (typeof m.uri === 'string' && m.uri ? [m.uri] : []));
    this.projects = new DocCollection<Project>(db, 'projects');
    this.queues = new DocCollection<Queue>(db, 'queues');
    this.workers = new DocCollection<Worker>(db, 'workers');
  }

  transaction<R>(fn: () => R): R {
    return this.db.transaction(fn)();
  }
}
