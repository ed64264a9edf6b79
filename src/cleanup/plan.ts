/**
 * Phase two, per batch of at most 500 candidates: read the tasks again by id (offsets no longer
 * matter), re-apply the rules, and work out every file and model that goes with them, keeping
 * whatever something outside the deletion still points to.
 */
import type { LimitFunction } from 'p-limit';
import type { Api } from './ports.js';
import { judge, SELECT_FIELDS, type Candidate, type Rules, type SkippedTask, type TaskRow } from './select.js';
import { listAll, listAllChunked } from './listing.js';
import { collectEventUrls, type EventScanState } from './events.js';

export interface PlannedTask {
  id: string;
  name?: string;
  status: string;
  project?: string;
  /** ISO time of archiving used for the age test, and the field it came from */
  archivedAt: string;
  dateField: string;
  /** every file that goes with the task (artifacts, debug images, plot images, its models' files) */
  files: string[];
  /** ids of its models deleted with it */
  models: string[];
  /** sizes the task records for some files (artifact content_size), for the bytes freed */
  sizes?: Record<string, number>;
  /** the rule that decided the deletion, and why ("older than 30 days", "over budget of ...") */
  rule?: string;
  reason?: string;
}

export interface PlannedModel {
  id: string;
  name?: string;
  owner: string;
  uri?: string;
  /** false when another kept model points to the same file */
  deleteFile: boolean;
  keepFileReason?: string;
}

export interface KeptModel {
  id: string;
  name?: string;
  owner?: string;
  reason: string;
}

/** A model whose other users are deleted later in this pass: decided once they are gone. */
export interface DeferredModel {
  id: string;
  name?: string;
  owner: string;
  uri?: string;
  waitingFor: string[];
}

export interface BatchPlan {
  tasks: PlannedTask[];
  models: PlannedModel[];
  deferred: DeferredModel[];
  keptModels: KeptModel[];
  /** kept on purpose, with the reason */
  skipped: SkippedTask[];
  /** could not be planned safely (e.g. its debug images could not be listed); retried next pass */
  failed: SkippedTask[];
  /** files that stay because something kept points to them: url -> reason */
  keptFiles: Array<{ url: string; reason: string }>;
}

export interface PlanContext {
  api: Api;
  rules: Rules;
  /** every task this pass intends to delete (all batches) */
  passDeletable: ReadonlySet<string>;
  limit: LimitFunction;
  eventState: EventScanState;
  eventTasksPerCall: number;
}

interface TaskDoc extends TaskRow {
  execution?: { artifacts?: Array<{ key?: string; mode?: string; uri?: string; content_size?: number }> };
  models?: { input?: Array<{ model?: string; name?: string }>; output?: Array<{ model?: string; name?: string }> };
  parent?: string;
}

interface ModelDoc {
  id: string;
  name?: string;
  task?: string | null;
  uri?: string;
  ready?: boolean;
}

export const DOC_FIELDS = [...SELECT_FIELDS, 'project', 'tags', 'execution.artifacts', 'models.output', 'models.input'];
const MODEL_FIELDS = ['id', 'name', 'task', 'uri', 'ready'];

/** Artifacts we uploaded: mode output (the default) with a URI. Input artifacts belong to others. */
export function artifactUrls(doc: TaskDoc): string[] {
  const out: string[] = [];
  for (const a of doc.execution?.artifacts ?? []) {
    if (a && a.mode !== 'input' && typeof a.uri === 'string' && a.uri.trim()) out.push(a.uri.trim());
  }
  return out;
}

function isDeletedMarker(task: string | null | undefined): boolean {
  return !task || task.startsWith('__DELETED__');
}

export async function planBatch(ctx: PlanContext, batch: Candidate[]): Promise<BatchPlan> {
  const { api, rules, limit } = ctx;
  const plan: BatchPlan = { tasks: [], models: [], deferred: [], keptModels: [], skipped: [], failed: [], keptFiles: [] };
  const ids = batch.map((c) => c.id);

  // 1. The tasks again, by id, with what we need to know about their files.
  const docs = await limit(() =>
    listAll<TaskDoc>(api, 'tasks.get_all', { id: ids, only_fields: DOC_FIELDS, search_hidden: true }, 'tasks'),
  );
  const docById = new Map(docs.map((d) => [d.id, d]));
  const live: TaskDoc[] = [];
  const decided = new Map<string, Candidate>();
  for (const c of batch) {
    const d = docById.get(c.id);
    if (!d) {
      plan.skipped.push({ id: c.id, name: c.name, status: c.status, reason: 'no longer exists', rule: 'changed' });
      continue;
    }
    const v = judge(d, rules, c);
    if (v.kind === 'delete') {
      live.push(d);
      decided.set(d.id, v.candidate);
    } else if (v.kind === 'skip') plan.skipped.push({ id: d.id, name: d.name, status: d.status, reason: v.why, rule: v.rule });
    else plan.skipped.push({ id: d.id, name: d.name, status: d.status, reason: `changed since selection: ${v.why}`, rule: 'changed' });
  }
  if (live.length === 0) return plan;
  const liveIds = live.map((d) => d.id);

  // 2. In parallel: models, published children, debug images, plot images.
  const outputIds = new Set<string>();
  for (const d of live) for (const m of d.models?.output ?? []) if (m?.model) outputIds.add(m.model);
  const [byTask, children, debug, plots] = await Promise.all([
    limit(() => listAll<ModelDoc>(api, 'models.get_all', { task: liveIds, only_fields: MODEL_FIELDS }, 'models')),
    rules.forceDelete
      ? Promise.resolve([] as TaskDoc[])
      : limit(() =>
          listAll<TaskDoc>(
            api,
            'tasks.get_all',
            { parent: liveIds, status: ['published'], only_fields: ['id', 'parent'], search_hidden: true },
            'tasks',
          ),
        ),
    collectEventUrls(api, liveIds, 'debug', { tasksPerCall: ctx.eventTasksPerCall, limit, state: ctx.eventState }),
    collectEventUrls(api, liveIds, 'plot', { tasksPerCall: ctx.eventTasksPerCall, limit, state: ctx.eventState }),
  ]);
  const models = new Map<string, ModelDoc>(byTask.map((m) => [m.id, m]));
  const missingOutputs = [...outputIds].filter((id) => !models.has(id));
  if (missingOutputs.length) {
    const extra = await limit(() =>
      listAllChunked<ModelDoc>(api, 'models.get_all', { only_fields: MODEL_FIELDS }, 'models', 'id', missingOutputs),
    );
    for (const m of extra) models.set(m.id, m);
  }

  // 3. Owner of each model: its `task`, or the task listing it as output when it has no live owner.
  const liveSet = new Set(liveIds);
  const ownerOf = new Map<string, string>();
  for (const m of models.values()) if (m.task && liveSet.has(m.task)) ownerOf.set(m.id, m.task);
  for (const d of live) {
    for (const ref of d.models?.output ?? []) {
      const m = ref?.model ? models.get(ref.model) : undefined;
      if (!m || ownerOf.has(m.id)) continue;
      if (isDeletedMarker(m.task)) ownerOf.set(m.id, d.id);
      else plan.keptModels.push({ id: m.id, name: m.name, owner: m.task ?? undefined, reason: `created by task ${m.task}, not by ${d.id}` });
    }
  }

  // 4. Tasks the server would refuse without force: found now, before any file is touched.
  const refuse = new Map<string, string>();
  for (const c of children) if (c.parent && liveSet.has(c.parent)) refuse.set(c.parent, `has published child task ${c.id} and force_delete is off`);
  if (!rules.forceDelete) {
    for (const [mid, owner] of ownerOf) {
      if (models.get(mid)?.ready && !refuse.has(owner)) refuse.set(owner, `has published output model ${mid} and force_delete is off`);
    }
  }
  for (const [id, why] of [...debug.failed, ...plots.failed]) if (!refuse.has(id)) refuse.set(id, `!${why}`);
  const deleting = live.filter((d) => !refuse.has(d.id));
  for (const d of live) {
    const why = refuse.get(d.id);
    if (why === undefined) continue;
    if (why.startsWith('!')) plan.failed.push({ id: d.id, name: d.name, status: d.status, reason: why.slice(1) });
    else plan.skipped.push({ id: d.id, name: d.name, status: d.status, reason: why, rule: 'dependencies' });
  }
  const deletingSet = new Set(deleting.map((d) => d.id));
  for (const [mid, owner] of [...ownerOf]) if (!deletingSet.has(owner)) ownerOf.delete(mid);

  // 5. Models used as input elsewhere: kept, or deferred until their other users are deleted.
  const candidateModels = [...ownerOf.keys()];
  const users = candidateModels.length
    ? await limit(() =>
        listAllChunked<TaskDoc>(
          api,
          'tasks.get_all',
          { only_fields: ['id', 'models.input'], search_hidden: true },
          'tasks',
          'models.input.model',
          candidateModels,
        ),
      )
    : [];
  const usersOf = new Map<string, string[]>();
  for (const u of users) {
    for (const ref of u.models?.input ?? []) {
      if (!ref?.model || !ownerOf.has(ref.model) || deletingSet.has(u.id)) continue;
      const list = usersOf.get(ref.model) ?? [];
      if (!list.includes(u.id)) list.push(u.id);
      usersOf.set(ref.model, list);
    }
  }
  const deleteModels = new Set<string>();
  const deferred = new Set<string>();
  for (const mid of candidateModels) {
    const m = models.get(mid)!;
    const others = usersOf.get(mid) ?? [];
    if (others.length === 0) deleteModels.add(mid);
    else if (others.every((u) => ctx.passDeletable.has(u))) {
      deferred.add(mid);
      plan.deferred.push({ id: mid, name: m.name, owner: ownerOf.get(mid)!, uri: m.uri || undefined, waitingFor: others });
    } else {
      const kept = others.filter((u) => !ctx.passDeletable.has(u));
      plan.keptModels.push({ id: mid, name: m.name, owner: ownerOf.get(mid), reason: `used as input by task ${kept.join(', ')}` });
    }
  }

  // 6. Files another model (kept, deferred or foreign) also points to stay.
  const candidateUris = new Set<string>();
  for (const mid of deleteModels) if (models.get(mid)!.uri) candidateUris.add(models.get(mid)!.uri!);
  for (const d of deleting) for (const u of artifactUrls(d)) candidateUris.add(u);
  const sharing = candidateUris.size
    ? await limit(() =>
        listAllChunked<ModelDoc>(api, 'models.get_all', { only_fields: ['id', 'uri', 'task'] }, 'models', 'uri', [...candidateUris]),
      )
    : [];
  const keptBy = new Map<string, string>();
  for (const m of sharing) if (m.uri && !deleteModels.has(m.id) && !keptBy.has(m.uri)) keptBy.set(m.uri, m.id);

  for (const mid of deleteModels) {
    const m = models.get(mid)!;
    const uri = m.uri || undefined;
    const holder = uri ? keptBy.get(uri) : undefined;
    plan.models.push({
      id: mid,
      name: m.name,
      owner: ownerOf.get(mid)!,
      uri,
      deleteFile: !!uri && !holder,
      ...(holder ? { keepFileReason: `model ${holder} points to the same file` } : {}),
    });
  }

  const keptFiles = new Map<string, string>();
  for (const d of deleting) {
    const c = decided.get(d.id);
    const files = new Set<string>();
    for (const u of artifactUrls(d)) {
      const holder = keptBy.get(u);
      if (holder) keptFiles.set(u, `model ${holder} points to the same file`);
      else files.add(u);
    }
    for (const u of debug.urls.get(d.id) ?? []) files.add(u);
    for (const u of plots.urls.get(d.id) ?? []) files.add(u);
    const own = plan.models.filter((m) => m.owner === d.id);
    for (const m of own) {
      if (m.deleteFile && m.uri) files.add(m.uri);
      else if (m.uri && m.keepFileReason) keptFiles.set(m.uri, m.keepFileReason);
    }
    const sizes: Record<string, number> = {};
    for (const a of d.execution?.artifacts ?? []) {
      const u = a?.uri?.trim();
      if (u && files.has(u) && typeof a.content_size === 'number' && a.content_size > 0) sizes[u] = a.content_size;
    }
    plan.tasks.push({
      id: d.id,
      name: d.name,
      status: d.status ?? 'unknown',
      project: d.project,
      archivedAt: c ? new Date(c.archivedAt).toISOString() : '',
      dateField: c?.dateField ?? '',
      files: [...files],
      models: own.map((m) => m.id),
      ...(Object.keys(sizes).length ? { sizes } : {}),
      ...(c?.rule ? { rule: c.rule, reason: c.reason } : {}),
    });
  }
  plan.keptFiles = [...keptFiles].map(([url, reason]) => ({ url, reason }));
  return plan;
}
