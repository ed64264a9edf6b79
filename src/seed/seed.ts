/**
 * seedServer: fills a ClearML server (the embedded one, or a real one) with a realistic, seeded mix
 * of projects, tasks in every status, archived and not, old and recent, with files on the file
 * server, models (some used by other tasks, some sharing a file), debug images, plots and logs.
 * Everything goes through the public API and the file server, the way the SDK does it, so a
 * cleanup run against the result meets what it would meet in production.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import { backdateTasks, type BackdateGroup } from './backdate.js';
import { ContentFactory, contentKindOf } from './content.js';
import { debugImageEvent, EventBatcher, logEvent, plotEvent, scalarEvent } from './events.js';
import { BatchUploader, fileUrl, taskFolder } from './files.js';
import { buildPlan, isEligible, type TaskPlan } from './plan.js';
import { Prng } from './prng.js';
import { S3Seeder } from './s3.js';
import type {
  SeedApi, SeededFile, SeededFileKind, SeededModel, SeededTask, SeedHosts, SeedOptions, SeedPhase, SeedResult,
  SeedSummary,
} from './types.js';

const ARCHIVE_CHUNK = 500;
const FOREIGN_HOST = 'https://datasets.example.com';

interface ArtifactEntry {
  key: string;
  type: string;
  mode?: 'input' | 'output';
  uri: string;
  content_size?: number;
  hash?: string;
  timestamp: number;
  type_data: { preview: string; content_type: string };
}

interface Ctx {
  api: SeedApi;
  hosts: SeedHosts;
  opts: SeedOptions;
  rng: Prng;
  content: ContentFactory;
  uploader: BatchUploader;
  events: EventBatcher;
  s3?: S3Seeder;
  projectIds: Map<string, string>;
  tasks: SeededTask[];
  models: SeededModel[];
  files: SeededFile[];
  counters: { artifacts: number; foreign: number; input: number; s3: number; debugImages: number; plots: number; logs: number };
  datasetUris: string[];
  progress(phase: SeedPhase, done: number, total: number): void;
  warn(msg: string): void;
  warnings: string[];
}

export async function seedServer(api: SeedApi, hosts: SeedHosts, opts: SeedOptions): Promise<SeedResult> {
  const started = Date.now();
  const seed = opts.seed ?? 1;
  const threshold = opts.thresholdDays ?? 30;
  const plans = buildPlan({ ...opts, seed, thresholdDays: threshold });
  const warnings: string[] = [];
  const limit = pLimit(opts.concurrency ?? 16);
  const ctx: Ctx = {
    api, hosts, opts, rng: new Prng(seed + 101), content: new ContentFactory(seed),
    uploader: new BatchUploader({
      filesUrl: hosts.filesUrl, getToken: () => api.getToken(), filesPerRequest: opts.filesPerUpload,
      concurrency: opts.uploadConcurrency,
      onFlush: () => ctx.progress('files', ctx.uploader.files, ctx.files.length),
    }),
    events: new EventBatcher(api, opts.eventsPerBatch ?? 5000, 3, (m) => ctx.warn(m)),
    s3: opts.s3 ? new S3Seeder(opts.s3) : undefined,
    projectIds: new Map(), tasks: [], models: [], files: [],
    counters: { artifacts: 0, foreign: 0, input: 0, s3: 0, debugImages: 0, plots: 0, logs: 0 },
    datasetUris: [],
    progress: (phase, done, total) => opts.onProgress?.(phase, done, total),
    warn: (msg) => {
      warnings.push(msg);
      opts.onWarning?.(msg);
    },
    warnings,
  };
  if (ctx.s3) markS3Tasks(plans, opts.s3!.tasks, ctx.rng);

  try {
    for (const name of new Set(plans.map((p) => p.projectName))) ctx.projectIds.set(name, await ensureProject(api, name));

    // Tasks, their files, artifacts, models and events. The data set task goes first: others refer to its files.
    const byIndex = new Map<number, SeededTask>();
    let done = 0;
    const createOne = async (p: TaskPlan) => {
      byIndex.set(p.index, await seedTask(ctx, p));
      ctx.progress('tasks', ++done, plans.length);
    };
    const [first, ...rest] = plans;
    if (first?.isDataset) await createOne(first);
    await Promise.all((first?.isDataset ? rest : plans).map((p) => limit(() => createOne(p))));
    ctx.tasks = plans.map((p) => byIndex.get(p.index)!);

    await linkModels(ctx, plans, byIndex, limit);
    await ctx.uploader.finish();
    await ctx.events.finish();
    ctx.progress('events', ctx.events.sent, ctx.events.sent);

    await applyStatuses(ctx, plans, byIndex, limit);
    await archive(ctx, plans, byIndex);
    const backdated = await backdate(ctx, plans, byIndex);
    for (const p of plans) {
      const t = byIndex.get(p.index)!;
      t.ageDays = backdated ? p.ageDays : 0;
      t.eligible = isEligible(t, threshold);
    }
    return { summary: summarize(ctx, seed, threshold, backdated, Date.now() - started), tasks: ctx.tasks, models: ctx.models, files: ctx.files };
  } finally {
    ctx.s3?.close();
  }
}

function markS3Tasks(plans: TaskPlan[], wanted: number | undefined, rng: Prng): void {
  const candidates = plans.filter((p) => !p.isDataset);
  const n = Math.min(candidates.length, wanted ?? Math.min(20, Math.max(1, Math.floor(plans.length / 10))));
  for (let i = 0; i < n; i++) {
    const k = rng.int(0, candidates.length - 1);
    candidates.splice(k, 1)[0].s3Artifact = true;
  }
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function ensureProject(api: SeedApi, name: string): Promise<string> {
  const found = await api.call<{ projects?: Array<{ id: string; name: string }> }>('projects.get_all', {
    name: `^${escapeRegex(name)}$`, only_fields: ['id', 'name'], search_hidden: true,
  });
  const hit = found.projects?.find((p) => p.name === name);
  if (hit) return hit.id;
  const created = await api.call<{ id: string }>('projects.create', { name, description: 'Seeded by clearml-cleanup seed' });
  return created.id;
}

async function ensureQueue(api: SeedApi, name: string): Promise<string> {
  const found = await api.call<{ queues?: Array<{ id: string; name: string }> }>('queues.get_all', {
    name: `^${escapeRegex(name)}$`, only_fields: ['id', 'name'],
  });
  const hit = found.queues?.find((q) => q.name === name);
  if (hit) return hit.id;
  return (await api.call<{ id: string }>('queues.create', { name })).id;
}

function record(ctx: Ctx, taskId: string, path: string, kind: SeededFileKind, bytes: number): string {
  const url = fileUrl(ctx.hosts.filesUrl, path);
  ctx.files.push({ url, path, bytes, kind, taskId });
  return url;
}

async function upload(ctx: Ctx, taskId: string, path: string, kind: SeededFileKind, file: string, contentType: string) {
  const { body, hash } = ctx.content.make(kind === 'model' ? 'model' : contentKindOf(file), path);
  await ctx.uploader.add(path, body, contentType);
  return { url: record(ctx, taskId, path, kind, body.length), size: body.length, hash };
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

async function seedTask(ctx: Ctx, p: TaskPlan): Promise<SeededTask> {
  const { api, rng } = ctx;
  const projectId = ctx.projectIds.get(p.projectName)!;
  const now = Date.now();
  const lr = (rng.int(1, 100) / 10000).toString();
  const { id } = await api.call<{ id: string }>('tasks.create', {
    name: p.name,
    project: projectId,
    type: p.type,
    system_tags: ['development'],
    tags: p.tags,
    comment: `Auto-generated at ${new Date(now).toISOString().slice(0, 19).replace('T', ' ')} UTC by seed@clearml-cleanup`,
    script: {
      repository: 'https://github.com/example/ml-experiments.git', branch: 'main', version_num: rng.hex(40),
      entry_point: `${slug(p.projectName)}/train.py`, working_dir: '.', binary: 'python3.11',
    },
    hyperparams: {
      General: {
        lr: { section: 'General', name: 'lr', value: lr, type: 'float', description: '' },
        epochs: { section: 'General', name: 'epochs', value: String(rng.int(5, 90)), type: 'int', description: '' },
        batch_size: { section: 'General', name: 'batch_size', value: String(rng.pick([16, 32, 64])), type: 'int', description: '' },
      },
    },
  });
  const folder = taskFolder(p.projectName, p.name, id);
  const task: SeededTask = {
    id, name: p.name, projectId, projectName: p.projectName, status: p.status, archived: p.archived,
    ageDays: p.ageDays, eligible: false, files: [], models: [], inputModels: [], externalUris: [], debugImages: 0,
  };
  const ts = Math.floor(now / 1000);

  const artifacts: ArtifactEntry[] = [];
  for (const a of p.artifacts) {
    const path = `${folder}/artifacts/${a.key}/${a.file}`;
    const kind: SeededFileKind = p.isDataset ? 'dataset' : 'artifact';
    const f = await upload(ctx, id, path, kind, a.file, a.contentType);
    task.files.push(f.url);
    if (p.isDataset) ctx.datasetUris.push(f.url);
    // No mode, like the SDK: the server stamps "output".
    artifacts.push({
      key: a.key, type: a.type, uri: f.url, content_size: f.size, hash: f.hash, timestamp: ts,
      type_data: { preview: `${a.key}: ${f.size} bytes`, content_type: a.contentType },
    });
    ctx.counters.artifacts++;
  }
  for (let k = 0; k < p.foreign; k++) {
    const uri = `${FOREIGN_HOST}/${slug(p.projectName)}/${slug(p.name)}/raw-${String(p.index).padStart(4, '0')}-${k}.parquet`;
    artifacts.push({ key: k ? `remote_dataset_${k}` : 'remote_dataset', type: 'custom', uri, timestamp: ts, type_data: { preview: '', content_type: 'application/octet-stream' } });
    task.externalUris.push(uri);
    ctx.counters.foreign++;
  }
  if (p.inputArtifact) {
    const uri = ctx.datasetUris.length ? rng.pick(ctx.datasetUris) : `${FOREIGN_HOST}/shared/imagenet-subset.tar`;
    artifacts.push({ key: 'training_data', type: 'custom', mode: 'input', uri, timestamp: ts, type_data: { preview: '', content_type: 'text/csv' } });
    task.externalUris.push(uri);
    ctx.counters.input++;
  }
  if (p.s3Artifact && ctx.s3) {
    const key = `${folder}/artifacts/checkpoint_archive/checkpoint.tar`;
    const { body, hash } = ctx.content.make('binary', key);
    const uri = await ctx.s3.put(key, body, 'application/x-tar');
    artifacts.push({ key: 'checkpoint_archive', type: 'custom', uri, content_size: body.length, hash, timestamp: ts, type_data: { preview: '', content_type: 'application/x-tar' } });
    task.externalUris.push(uri);
    ctx.counters.s3++;
  }
  if (artifacts.length) await api.call('tasks.add_or_update_artifacts', { task: id, artifacts, force: true });

  for (const m of p.models) {
    const path = `${folder}/models/${m.file}`;
    const f = await upload(ctx, id, path, 'model', m.file, 'application/octet-stream');
    task.files.push(f.url);
    const created = await api.call<{ id: string }>('models.create', {
      uri: f.url, name: m.name, task: id, project: projectId, framework: m.framework, ready: false, public: false,
    });
    task.models.push(created.id);
    ctx.models.push({ id: created.id, name: m.name, taskId: id, uri: f.url, sharedUri: false, usedBy: [] });
  }

  const events: object[] = [];
  const perVariant = new Map<string, number>();
  for (let j = 0; j < p.debugImages; j++) {
    const metric = j % 3 === 2 ? 'attention' : 'predictions';
    const variant = j % 2 ? 'val' : 'train';
    const n = perVariant.get(`${metric}/${variant}`) ?? 0;
    perVariant.set(`${metric}/${variant}`, n + 1);
    const file = `${metric}_${variant}_${String(n).padStart(8, '0')}.jpeg`;
    const path = `${folder}/metrics/${metric}/${variant}/${file}`;
    const f = await upload(ctx, id, path, 'debug_image', file, 'image/jpeg');
    task.files.push(f.url);
    events.push(debugImageEvent(id, n, metric, variant, path, f.url, now + j));
  }
  task.debugImages = p.debugImages;
  ctx.counters.debugImages += p.debugImages;
  for (let j = 0; j < p.plots; j++) {
    const file = `confusion_val_${String(j).padStart(8, '0')}.png`;
    const path = `${folder}/metrics/confusion/val/${file}`;
    const f = await upload(ctx, id, path, 'plot_image', file, 'image/png');
    task.files.push(f.url);
    events.push(plotEvent(id, j, 'confusion', 'val', f.url, now + j));
    ctx.counters.plots++;
  }
  for (let j = 0; j < p.logLines; j++) {
    const level = j === p.logLines - 1 && p.status === 'failed' ? 'error' : 'info';
    const msg = level === 'error' ? 'Traceback (most recent call last):\nRuntimeError: CUDA out of memory' : `epoch ${j} step ${j * 100} loss ${(3 / (j + 1)).toFixed(4)}`;
    events.push(logEvent(id, level, msg, now + j));
    ctx.counters.logs++;
  }
  for (let j = 0; j < p.scalars; j++) {
    events.push(scalarEvent(id, j, 'loss', 'train', Math.round((3 / (j + 1)) * 1000) / 1000, now + j));
  }
  if (events.length) await ctx.events.add(events);
  return task;
}

/** Second models on a shared file, then one tasks.edit per task for models.output and models.input. */
async function linkModels(ctx: Ctx, plans: TaskPlan[], byIndex: Map<number, SeededTask>, limit: LimitFunction) {
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

async function applyStatuses(ctx: Ctx, plans: TaskPlan[], byIndex: Map<number, SeededTask>, limit: LimitFunction) {
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

async function archive(ctx: Ctx, plans: TaskPlan[], byIndex: Map<number, SeededTask>) {
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

async function backdate(ctx: Ctx, plans: TaskPlan[], byIndex: Map<number, SeededTask>): Promise<boolean> {
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

function summarize(ctx: Ctx, seed: number, thresholdDays: number, backdated: boolean, elapsedMs: number): SeedSummary {
  const byStatus: Record<string, number> = {};
  for (const t of ctx.tasks) byStatus[t.status] = (byStatus[t.status] ?? 0) + 1;
  const uriCount = new Map<string, number>();
  for (const m of ctx.models) uriCount.set(m.uri, (uriCount.get(m.uri) ?? 0) + 1);
  return {
    seed,
    thresholdDays,
    projects: ctx.projectIds.size,
    tasks: ctx.tasks.length,
    byStatus,
    archived: ctx.tasks.filter((t) => t.archived).length,
    eligible: ctx.tasks.filter((t) => t.eligible).length,
    eligiblePublished: ctx.tasks.filter((t) => t.eligible && t.status === 'published').length,
    archivedRecent: ctx.tasks.filter((t) => t.archived && !t.eligible).length,
    oldNotArchived: ctx.tasks.filter((t) => !t.archived && t.ageDays >= thresholdDays).length,
    backdated,
    filesUploaded: ctx.uploader.files,
    bytesUploaded: ctx.uploader.bytes,
    artifactsUploaded: ctx.counters.artifacts,
    foreignArtifacts: ctx.counters.foreign,
    inputArtifacts: ctx.counters.input,
    s3Artifacts: ctx.counters.s3,
    models: ctx.models.length,
    modelsInUse: ctx.models.filter((m) => m.usedBy.length > 0).length,
    sharedModelFiles: [...uriCount.values()].filter((n) => n > 1).length,
    debugImages: ctx.counters.debugImages,
    tasksOver100DebugImages: ctx.tasks.filter((t) => t.debugImages > 100).length,
    plots: ctx.counters.plots,
    logLines: ctx.counters.logs,
    elapsedMs,
    warnings: ctx.warnings,
  };
}
