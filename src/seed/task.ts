/**
 * One task the way the SDK would leave it: created, its artifacts uploaded and registered (plus
 * foreign, input and s3 references), output models with their files, and its events queued.
 */
import type { Ctx } from './context.js';
import { slug, upload } from './context.js';
import { debugImageEvent, logEvent, plotEvent, scalarEvent } from './events.js';
import { taskFolder } from './files.js';
import type { TaskPlan } from './plan.js';
import type { SeededFileKind, SeededTask } from './types.js';

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

export async function seedTask(ctx: Ctx, p: TaskPlan): Promise<SeededTask> {
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
    debugImageEvents: 0,
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
  // Later iterations overwrite the oldest files of a series: same key and URL, another event.
  const firstSeries = events.slice(0, p.debugImages) as Array<ReturnType<typeof debugImageEvent>>;
  const reusable = firstSeries.filter((e) => e.metric === 'predictions' && e.variant === 'train');
  for (let k = 0; k < p.reusedDebugImages && reusable.length; k++) {
    const e = reusable[k % reusable.length];
    events.push({ ...e, iter: 1000 + k, timestamp: now + p.debugImages + k });
  }
  task.debugImages = p.debugImages;
  task.debugImageEvents = p.debugImages + (reusable.length ? p.reusedDebugImages : 0);
  ctx.counters.debugImageEvents += task.debugImageEvents;
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
