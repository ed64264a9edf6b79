import { ApiFault } from '../api/fault.js';
import type { CallRequest, Service } from '../api/service.js';
import type { Task } from '../../types/clearml.js';
import type { EmbeddedState } from '../state.js';
import { newId } from '../util/ids.js';
import { bool, optString, requireString, stringList, validateName } from './common.js';
import { assertWritable, conformTask, loadTask } from './task-docs.js';
import { queryTasks } from './tasks-query.js';

const TASK_TYPES = new Set([
  'training', 'testing', 'inference', 'data_processing', 'application', 'monitor',
  'controller', 'optimizer', 'service', 'qc', 'custom', 'report',
]);

/** Fields shallow-merged by tasks.edit (embedded documents) vs. replaced as a whole (maps). */
const MERGED = ['script', 'execution', 'output', 'models'] as const;
const REPLACED = ['hyperparams', 'configuration', 'runtime', 'container'] as const;
const PLAIN = ['name', 'tags', 'system_tags', 'type', 'comment', 'parent', 'project', 'status_message', 'status_reason'] as const;
/** tasks.update only touches these (user-settable) fields */
const USER_SETTABLE = ['name', 'tags', 'system_tags', 'comment', 'project', 'parent', 'status_message'] as const;

export function validateProject(state: EmbeddedState, project: unknown): void {
  if (project === undefined || project === null || project === '') return;
  if (typeof project !== 'string' || !state.stores.projects.has(project)) {
    throw new ApiFault(400, 401, `Invalid project id (no such project: ${String(project)})`, { id: project });
  }
}

function validateType(type: unknown): string {
  if (typeof type !== 'string' || !type) throw new ApiFault(400, 11, 'Missing required fields: type', { fields: ['type'] });
  if (!TASK_TYPES.has(type)) throw new ApiFault(400, 12, `Validation error (invalid task type: ${type})`, { type });
  return type;
}

export function createTaskDoc(state: EmbeddedState, req: CallRequest, fields: Record<string, any>): Task {
  const now = state.isoNow();
  const name = validateName(fields.name, 'task');
  validateProject(state, fields.project);
  const t: Task = conformTask({
    id: newId(),
    name,
    user: req.identity.user,
    company: req.identity.company,
    type: validateType(fields.type),
    status: 'created',
    status_changed: null,
    created: now,
    last_update: now,
    last_change: now,
    last_changed_by: req.identity.user,
    project: typeof fields.project === 'string' && fields.project ? fields.project : undefined,
    parent: typeof fields.parent === 'string' && fields.parent ? fields.parent : null,
    comment: optString(fields, 'comment') ?? '',
    tags: stringList(fields.tags),
    system_tags: stringList(fields.system_tags),
    ...(fields.script ? { script: fields.script } : {}),
    ...(fields.execution ? { execution: fields.execution } : {}),
    ...(fields.hyperparams ? { hyperparams: fields.hyperparams } : {}),
    ...(fields.configuration ? { configuration: fields.configuration } : {}),
    ...(fields.container ? { container: fields.container } : {}),
    ...(fields.runtime ? { runtime: fields.runtime } : {}),
    ...(fields.models ? { models: fields.models } : {}),
    ...(fields.output_dest ? { output: { destination: fields.output_dest } } : {}),
  } as Task);
  return t;
}

export function tasksCore(state: EmbeddedState): Service {
  const store = state.stores.tasks;

  const edit = (req: CallRequest) => {
    const b = req.body;
    const t = loadTask(state, b.task);
    assertWritable(t);
    if (t.status !== 'created' && !bool(b.force)) {
      throw new ApiFault(400, 110, `Invalid task status (task must be in created status to edit, use force)`, {
        task: t.id, status: t.status,
      });
    }
    const fields: Record<string, unknown> = {};
    for (const k of PLAIN) {
      if (b[k] === undefined) continue;
      if (k === 'name') t.name = validateName(b.name, 'task');
      else if (k === 'type') t.type = validateType(b.type);
      else if (k === 'project') { validateProject(state, b.project); t.project = b.project; }
      else (t as any)[k] = b[k];
      fields[k] = (t as any)[k];
    }
    for (const k of MERGED) {
      if (b[k] && typeof b[k] === 'object') {
        (t as any)[k] = { ...((t as any)[k] ?? {}), ...b[k] };
        fields[k] = (t as any)[k];
      }
    }
    for (const k of REPLACED) {
      if (b[k] && typeof b[k] === 'object') {
        (t as any)[k] = b[k];
        fields[k] = b[k];
      }
    }
    const now = state.isoNow();
    t.last_change = now;
    t.last_update = now;
    t.last_changed_by = req.identity.user;
    store.put(conformTask(t));
    return { updated: Object.keys(fields).length ? 1 : 0, fields };
  };

  const update = (req: CallRequest, item: Record<string, any>) => {
    const t = loadTask(state, item.task);
    assertWritable(t);
    const fields: Record<string, unknown> = {};
    for (const k of USER_SETTABLE) {
      if (item[k] === undefined) continue;
      if (k === 'name') t.name = validateName(item.name, 'task');
      else if (k === 'project') { validateProject(state, item.project); t.project = item.project; }
      else (t as any)[k] = item[k];
      fields[k] = (t as any)[k];
    }
    if (item.output__error !== undefined) {
      t.output = { ...(t.output ?? {}), error: item.output__error };
      fields['output.error'] = item.output__error;
    }
    t.last_change = state.isoNow();
    t.last_changed_by = req.identity.user;
    store.put(t);
    return { updated: 1, fields };
  };

  return {
    create: (req) => {
      const t = createTaskDoc(state, req, req.body);
      store.put(t);
      return { id: t.id };
    },
    get_by_id: (req) => {
      const t = loadTask(state, req.body.task);
      return { task: conformTask(t) };
    },
    get_all: (req) => {
      const r = queryTasks(state, req.body);
      return r.scroll_id !== undefined ? { tasks: r.items, scroll_id: r.scroll_id } : { tasks: r.items };
    },
    get_all_ex: (req) => {
      const r = queryTasks(state, req.body);
      return r.scroll_id !== undefined ? { tasks: r.items, scroll_id: r.scroll_id } : { tasks: r.items };
    },
    get_types: () => {
      const types = new Set<string>();
      for (const t of store.values()) types.add(t.type);
      return { types: [...types].sort() };
    },
    edit,
    update: (req) => update(req, req.body),
    update_batch: (req) => {
      const items = Array.isArray(req.body.items) ? req.body.items : [];
      let updated = 0;
      store.transaction(() => {
        for (const item of items) updated += update(req, item).updated;
      });
      return { updated };
    },
    set_requirements: (req) => {
      const t = loadTask(state, req.body.task);
      assertWritable(t);
      const requirements = req.body.requirements;
      if (!requirements || typeof requirements !== 'object') {
        throw new ApiFault(400, 11, 'Missing required fields: requirements', { fields: ['requirements'] });
      }
      t.script = { ...(t.script ?? {}), requirements };
      const now = state.isoNow();
      t.last_update = now;
      t.last_change = now;
      store.put(t);
      return { updated: 1, fields: { 'script.requirements': requirements } };
    },
    clone: (req) => {
      const b = req.body;
      const src = loadTask(state, b.task);
      const now = state.isoNow();
      const project = b.new_task_project ?? src.project;
      validateProject(state, project);
      const execution = structuredClone(src.execution ?? {});
      execution.artifacts = (execution.artifacts ?? []).filter((a) => a.mode === 'input');
      delete execution.queue;
      if (b.execution_overrides && typeof b.execution_overrides === 'object') Object.assign(execution, b.execution_overrides);
      const t: Task = conformTask({
        id: newId(),
        name: b.new_task_name ? validateName(b.new_task_name, 'task') : src.name,
        user: req.identity.user,
        company: req.identity.company,
        type: src.type,
        status: 'created',
        status_changed: null,
        created: now,
        last_update: now,
        last_change: now,
        last_changed_by: req.identity.user,
        project,
        parent: b.new_task_parent ?? src.id,
        comment: b.new_task_comment ?? src.comment ?? '',
        tags: b.new_task_tags ?? [...(src.tags ?? [])],
        system_tags: b.new_task_system_tags ?? (src.system_tags ?? []).filter((t) => t !== 'archived' && t !== 'example'),
        script: structuredClone(src.script),
        execution,
        hyperparams: b.new_hyperparams ?? structuredClone(src.hyperparams ?? {}),
        configuration: b.new_configuration ?? structuredClone(src.configuration ?? {}),
        container: structuredClone(src.container ?? {}),
        models: { input: structuredClone(src.models?.input ?? []), output: [] },
        output: src.output?.destination ? { destination: src.output.destination } : {},
      } as Task);
      store.put(t);
      return { id: t.id };
    },
    move: (req) => {
      const ids = stringList(req.body.ids);
      let project = req.body.project as string | undefined;
      if (!project && req.body.project_name) {
        project = [...state.stores.projects.values()].find((p) => p.name === req.body.project_name)?.id;
      }
      validateProject(state, project);
      store.transaction(() => {
        for (const id of ids) {
          const t = loadTask(state, id);
          assertWritable(t);
          t.project = project;
          t.last_change = state.isoNow();
          store.put(t);
        }
      });
      return { project_id: project ?? null };
    },
  };
}

export { requireString };
