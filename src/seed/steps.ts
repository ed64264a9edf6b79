/** The steps after every task exists: model links, status transitions, archiving, backdating. */
import type { LimitFunction } from 'p-limit';
import { backdateTasks, type BackdateGroup } from './backdate.js';
import { ensureQueue, type Ctx } from './context.js';
import type { TaskPlan } from './plan.js';
import type { SeededModel, SeededTask } from './types.js';

const ARCHIVE_CHUNK = 500;

/** Second models on a shared file, then one tasks.edit per task for models.output and models.input. */
export async function linkModels(ctx: Ctx, plans: TaskPlan[], byIndex: Map<number, SeededTask>, limit: LimitFunction) {
  const modelByTaskAndName = new Map<string, SeededModel>();
  for (const m of ctx.models) modelByTaskAndName.set(`${m.taskId}/${m.name}`, m);
  const shares: Array<{ source: SeededModel; target: SeededTask }> = [];
  const inputs = new Map<string, Array<{ name: string; model: string }>>();
  for (const p of plans) {
    const t = byIndex.get(p.index)!;
    for (const mp of p.models) {
      const m = modelByTaskAndName.get(`${t.id}/${mp.name}`)!;
      if (mp.shareWith !== undefined) shares.push({ source: m, target: byIndex.get(mp.shareWith)! });
      if (mp.consumer !== undefined) {
        const consumer = byIndex.get(mp.consumer)!;
        m.usedBy.push(consumer.id);
        consumer.inputModels.push(m.id);
        const list = inputs.get(consumer.id) ?? [];
        list.push({ name: list.length ? `Input Model #${list.length}` : 'Input Model', model: m.id });
        inputs.set(consumer.id, list);
      }
    }
  }
  await Promise.all(
    shares.map(({ source, target }) =>
      limit(async () => {
        const name = `${source.name} (imported)`;
        const created = await ctx.api.call<{ id: string }>('models.create', {
          uri: source.uri, name, task: target.id, project: target.projectId, framework: 'PyTorch', ready: false, public: false,
        });
        source.sharedUri = true;
        target.models.push(created.id);
        ctx.models.push({ id: created.id, name, taskId: target.id, uri: source.uri, sharedUri: true, usedBy: [] });
      }),
    ),
  );
  const names = new Map(ctx.models.map((m) => [m.id, m.name]));
  const edits = ctx.tasks.filter((t) => t.models.length || inputs.has(t.id));
  let done = 0;
  await Promise.all(
    edits.map((t) =>
      limit(async () => {
        const models: Record<string, unknown> = {
          output: t.models.map((id) => ({ name: names.get(id)!, model: id })),
        };
        if (inputs.has(t.id)) models.input = inputs.get(t.id);
        await ctx.api.call('tasks.edit', { task: t.id, force: true, models });
        ctx.progress('links', ++done, edits.length);
      }),
    ),
  );
}

export async function applyStatuses(ctx: Ctx, plans: TaskPlan[], byIndex: Map<number, SeededTask>, limit: LimitFunction) {
  const { api } = ctx;
  const queueId = plans.some((p) => p.status === 'queued') ? await ensureQueue(api, 'default') : undefined;
  const moving = plans.filter((p) => p.status !== 'created');
  let done = 0;
  await Promise.all(
    moving.map((p) =>
      limit(async () => {
        const task = byIndex.get(p.index)!.id;
        if (p.status === 'queued') {
          await api.call('tasks.enqueue', { task, queue: queueId, verify_watched_queue: false });
        } else {
          await api.call('tasks.started', { task, force: false });
          if (p.status === 'stopped') await api.call('tasks.stopped', { task, force: false, status_reason: 'aborted by user' });
          if (p.status === 'failed') await api.call('tasks.failed', { task, force: false, status_reason: 'Exception RuntimeError: CUDA out of memory' });
          if (p.status === 'completed' || p.status === 'published') {
            await api.call('tasks.completed', { task, force: false, status_reason: 'completed', publish: false });
          }
          if (p.status === 'published') await api.call('tasks.publish', { task, force: false, publish_model: true });
        }
        ctx.progress('statuses', ++done, moving.length);
      }),
    ),
  );
}

interface ArchiveManyResult {
  succeeded?: Array<{ id: string }>;
  failed?: Array<{ id: string; error?: { msg?: string } }>;
}

export async function archive(ctx: Ctx, plans: TaskPlan[], byIndex: Map<number, SeededTask>) {
  const ids = plans.filter((p) => p.archived).map((p) => byIndex.get(p.index)!.id);
  let done = 0;
  for (let i = 0; i < ids.length; i += ARCHIVE_CHUNK) {
    const chunk = ids.slice(i, i + ARCHIVE_CHUNK);
    let res: ArchiveManyResult;
    try {
      res = await ctx.api.call<ArchiveManyResult>('tasks.archive_many', { ids: chunk, status_reason: 'seeded' });
    } catch (e) {
      // Older servers only have tasks.archive, which takes a list too.
      if ((e as { code?: number }).code !== 404) throw e;
      await ctx.api.call('tasks.archive', { tasks: chunk });
      res = { succeeded: chunk.map((id) => ({ id })) };
    }
    if (res.failed?.length) {
      throw new Error(`tasks.archive_many failed for ${res.failed.length} tasks: ${res.failed[0].error?.msg ?? 'unknown error'}`);
    }
    done += chunk.length;
    ctx.progress('archive', done, ids.length);
  }
}

export async function backdate(ctx: Ctx, plans: TaskPlan[], byIndex: Map<number, SeededTask>): Promise<boolean> {
  const byDays = new Map<number, BackdateGroup>();
  for (const p of plans) {
    if (p.ageDays <= 0) continue;
    const group = byDays.get(p.ageDays) ?? { tasks: [], models: [] };
    const t = byIndex.get(p.index)!;
    group.tasks.push(t.id);
    group.models.push(...t.models);
    byDays.set(p.ageDays, group);
  }
  if (!byDays.size) return true;
  ctx.progress('backdate', 0, byDays.size);
  const outcome = await backdateTasks(ctx.hosts.apiUrl, await ctx.api.getToken(), byDays);
  if (!outcome.supported) {
    ctx.warn(`tasks were not backdated (this server offers no /_embedded/backdate: ${outcome.reason}); every task is recent, none is eligible`);
    return false;
  }
  ctx.progress('backdate', byDays.size, byDays.size);
  return true;
}

/** Archives the dataset versions meant to be archived, and ages them all (when the server can). */
export async function settleDatasets(ctx: Ctx, members: Array<{ built: { id: string }; archived: boolean; ageDays: number }>, backdate: boolean) {
  const ids = members.filter((m) => m.archived).map((m) => m.built.id);
  for (let i = 0; i < ids.length; i += ARCHIVE_CHUNK) {
    const res = await ctx.api.call<ArchiveManyResult>('tasks.archive_many', { ids: ids.slice(i, i + ARCHIVE_CHUNK), status_reason: 'seeded' });
    if (res.failed?.length) throw new Error(`tasks.archive_many failed for ${res.failed.length} dataset versions: ${res.failed[0].error?.msg ?? 'unknown error'}`);
  }
  if (!backdate) return;
  const byDays = new Map<number, BackdateGroup>();
  for (const m of members) {
    if (m.ageDays <= 0) continue;
    const g = byDays.get(m.ageDays) ?? { tasks: [], models: [] };
    g.tasks.push(m.built.id);
    byDays.set(m.ageDays, g);
  }
  const outcome = await backdateTasks(ctx.hosts.apiUrl, await ctx.api.getToken(), byDays);
  if (!outcome.supported) ctx.warn(`dataset versions were not backdated: ${outcome.reason}`);
}
