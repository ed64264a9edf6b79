/**
 * Reports, as clearml-server 1.9+ keeps them (apiserver/services/reports.py): a Report is a task of
 * type `report` with system tags `reports` and `hidden`, in a hidden `<project>/.reports` project.
 * Its markdown is the task field `report`; the web app uploads its images to
 * `<files>/reports/<report id>/...` and lists them in `report_assets`. Only the endpoints the web
 * app's Report page and the cleanup need.
 */
import { ApiFault } from '../api/fault.js';
import type { CallRequest, Service } from '../api/service.js';
import type { Project, Task } from '../../types/clearml.js';
import type { EmbeddedState } from '../state.js';
import { newId } from '../util/ids.js';
import { bool, optString, stringList } from './common.js';
import { deleteTask } from './task-delete.js';
import { applyStatus } from './task-status.js';
import { assertWritable, conformTask, isArchived, loadTask } from './task-docs.js';
import { createTaskDoc } from './tasks-core.js';
import { queryTasks } from './tasks-query.js';

export const REPORTS_PROJECT = '.reports';
export const REPORT_TAGS = ['reports', 'hidden'];
/** reports.update changes only these (the real list plus report_assets, which the web app sets) */
const UPDATABLE = ['name', 'tags', 'comment', 'report', 'report_assets'] as const;

function loadReport(state: EmbeddedState, id: unknown): Task {
  const t = loadTask(state, id);
  if (t.type !== 'report') throw new ApiFault(400, 1200, 'Operation is supported on reports only', { id: t.id });
  return t;
}

/** `<project>/.reports` (or `.reports` at the top), created hidden when missing. */
function reportsProject(state: EmbeddedState, req: CallRequest, projectId: unknown): string {
  let base = '';
  if (typeof projectId === 'string' && projectId) {
    const p = state.stores.projects.get(projectId);
    if (!p) throw new ApiFault(400, 401, `Invalid project id (no such project: ${projectId})`, { id: projectId });
    base = p.name;
  }
  const name = base.endsWith(`/${REPORTS_PROJECT}`) || base === REPORTS_PROJECT ? base : base ? `${base}/${REPORTS_PROJECT}` : REPORTS_PROJECT;
  const found = [...state.stores.projects.values()].find((p) => p.name === name);
  if (found) return found.id;
  const now = state.isoNow();
  const parent = base ? [...state.stores.projects.values()].find((p) => p.name === base) : undefined;
  const doc: Project = {
    id: newId(),
    name,
    basename: REPORTS_PROJECT,
    description: 'Reports project',
    user: req.identity.user,
    company: req.identity.company,
    created: now,
    last_update: now,
    tags: [],
    system_tags: [...REPORT_TAGS],
    ...(parent ? { parent: parent.id, path: [...((parent.path as string[]) ?? []), parent.id] } : { path: [] }),
  };
  state.stores.projects.put(doc);
  return doc.id;
}

export function createReportsService(state: EmbeddedState): Service {
  const store = state.stores.tasks;
  const touch = (t: Task, req: CallRequest) => {
    const now = state.isoNow();
    t.last_change = now;
    t.last_update = now;
    t.last_changed_by = req.identity.user;
    store.put(conformTask(t));
  };
  return {
    create: (req) =>
      store.transaction(() => {
        const project = reportsProject(state, req, req.body.project);
        const t = createTaskDoc(state, req, { name: req.body.name, comment: req.body.comment, tags: req.body.tags, type: 'report', project });
        t.system_tags = [...REPORT_TAGS];
        t.report = '';
        t.report_assets = [];
        store.put(conformTask(t));
        return { id: t.id, project_id: project };
      }),
    update: (req) => {
      const t = loadReport(state, req.body.task);
      assertWritable(t);
      if (t.status !== 'created') {
        throw new ApiFault(400, 110, 'Invalid task status (report must be in created status to edit)', { expected: 'created', status: t.status });
      }
      const fields: Record<string, unknown> = {};
      for (const k of UPDATABLE) {
        const v = req.body[k];
        if (v === undefined) continue;
        if (k === 'tags' || k === 'report_assets') fields[k] = stringList(v);
        else if (typeof v === 'string') fields[k] = v;
        else throw new ApiFault(400, 12, `Validation error (${k} must be a string)`, { field: k });
      }
      if (!Object.keys(fields).length) return { updated: 0 };
      Object.assign(t, fields);
      touch(t, req);
      return { updated: 1, fields };
    },
    publish: (req) => {
      const t = loadReport(state, req.body.task);
      assertWritable(t);
      const fields = applyStatus(t, {
        status: 'published',
        force: true,
        status_message: optString(req.body, 'message') ?? '',
        user: req.identity.user,
        now: state.isoNow(),
      });
      store.put(conformTask({ ...t, ...fields, published: state.isoNow() } as Task));
      return { updated: 1, fields };
    },
    archive: (req) => {
      const t = loadReport(state, req.body.task);
      assertWritable(t);
      if (!isArchived(t)) t.system_tags = [...(t.system_tags ?? []), 'archived'];
      t.status_message = optString(req.body, 'message') ?? '';
      touch(t, req);
      return { archived: 1 };
    },
    unarchive: (req) => {
      const t = loadReport(state, req.body.task);
      assertWritable(t);
      t.system_tags = (t.system_tags ?? []).filter((x) => x !== 'archived');
      t.status_message = optString(req.body, 'message') ?? '';
      touch(t, req);
      return { unarchived: 1 };
    },
    delete: (req) => {
      const t = loadReport(state, req.body.task);
      if (t.status !== 'created' && !isArchived(t) && !bool(req.body.force)) {
        throw new ApiFault(400, 123, 'Task cannot be deleted (due to status, use force=True)', { task: t.id, expected: 'created', current: t.status });
      }
      deleteTask(state, req.identity, t.id, { force: true });
      return { deleted: 1 };
    },
    get_all_ex: (req) => queryTasks(state, { ...req.body, type: ['report'], search_hidden: true }),
  };
}
