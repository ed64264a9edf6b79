/**
 * The deterministic shape of a seeded data set, decided before any call: which task gets which
 * status, archive flag, age, files and model links. Ids come later, from the server.
 */
import type { TaskStatus } from '../types/clearml.js';
import { Prng } from './prng.js';
import type { SeedOptions } from './types.js';

export const SEEDED_STATUSES = ['created', 'queued', 'in_progress', 'stopped', 'completed', 'failed', 'published'] as const;
export type SeededStatus = (typeof SEEDED_STATUSES)[number];

const STATUS_WEIGHTS: Record<SeededStatus, number> = {
  created: 18, queued: 7, in_progress: 8, stopped: 12, completed: 32, failed: 11, published: 12,
};

export const PROJECTS = ['Image Classification', 'Object Detection', 'NLP Sentiment', 'Tabular Forecast', 'Speech Commands'];
export const DATASET_PROJECT = 'Datasets';

const MODEL_ARCHS: Record<string, string[]> = {
  'Image Classification': ['resnet50', 'efficientnet b0', 'vit small'],
  'Object Detection': ['yolov8n', 'faster rcnn', 'detr r50'],
  'NLP Sentiment': ['bert base', 'distilbert', 'roberta large'],
  'Tabular Forecast': ['xgboost', 'lightgbm', 'tft'],
  'Speech Commands': ['wav2vec2', 'conformer', 'crnn'],
};
const TASK_KINDS = ['train', 'finetune', 'sweep', 'eval', 'baseline', 'ablation'];
const TASK_TYPES = ['training', 'training', 'training', 'testing', 'data_processing', 'inference'];

export interface ArtifactPlan {
  key: string;
  /** artifact type as the SDK names it */
  type: string;
  file: string;
  contentType: string;
}

export interface ModelPlan {
  name: string;
  file: string;
  framework: string;
  /** index of a kept task that will list this model in models.input */
  consumer?: number;
  /** index of a kept task that gets a second model pointing to this model's file */
  shareWith?: number;
}

export interface TaskPlan {
  index: number;
  projectName: string;
  name: string;
  type: string;
  status: SeededStatus;
  archived: boolean;
  ageDays: number;
  isDataset: boolean;
  artifacts: ArtifactPlan[];
  /** output artifacts registered by URL on a foreign host */
  foreign: number;
  /** one input-mode artifact referencing the data set task's files (or a foreign data set) */
  inputArtifact: boolean;
  s3Artifact: boolean;
  models: ModelPlan[];
  debugImages: number;
  /** extra debug-image events that point again at existing files (the SDK's file history wraps around) */
  reusedDebugImages: number;
  plots: number;
  logLines: number;
  scalars: number;
  tags: string[];
}

const ARTIFACT_KINDS: ArtifactPlan[] = [
  { key: 'summary', type: 'dict', file: 'summary.json', contentType: 'application/json' },
  { key: 'metrics', type: 'pandas', file: 'metrics.csv.gz', contentType: 'text/csv' },
  { key: 'predictions', type: 'numpy', file: 'predictions.npz', contentType: 'application/octet-stream' },
  { key: 'config', type: 'custom', file: 'config.yaml', contentType: 'text/yaml' },
  { key: 'sample', type: 'image', file: 'sample.png', contentType: 'image/png' },
];

function artifactPlans(count: number): ArtifactPlan[] {
  const out: ArtifactPlan[] = [];
  for (let i = 0; i < count; i++) {
    const k = ARTIFACT_KINDS[i % ARTIFACT_KINDS.length];
    if (i < ARTIFACT_KINDS.length) out.push(k);
    else {
      const n = Math.floor(i / ARTIFACT_KINDS.length);
      const dot = k.file.indexOf('.');
      out.push({ ...k, key: `${k.key}_${n}`, file: `${k.file.slice(0, dot)}_${n}${k.file.slice(dot)}` });
    }
  }
  return out;
}

export function isEligible(p: Pick<TaskPlan, 'archived' | 'ageDays'>, thresholdDays: number): boolean {
  return p.archived && p.ageDays >= thresholdDays;
}

export function buildPlan(opts: SeedOptions): TaskPlan[] {
  const rng = new Prng(opts.seed ?? 1);
  const threshold = opts.thresholdDays ?? 30;
  const n = Math.max(0, Math.floor(opts.tasks));
  const plans: TaskPlan[] = [];
  if (opts.allEligible) {
    for (let i = 0; i < n; i++) plans.push(uniformTask(rng, i, opts, threshold));
    return plans;
  }
  let start = 0;
  if (n >= 3) {
    plans.push(datasetTask(rng));
    start = 1;
  }
  for (let i = start; i < n; i++) {
    // The first tasks cover every status, so even a small seed has them all.
    const forced = i - start < SEEDED_STATUSES.length ? SEEDED_STATUSES[i - start] : undefined;
    plans.push(mixedTask(rng, i, opts, threshold, forced));
  }
  ensureCoverage(plans, threshold);
  linkModels(rng, plans, threshold);
  return plans;
}

function taskName(rng: Prng, projectName: string, i: number): string {
  const arch = rng.pick(MODEL_ARCHS[projectName] ?? ['model']);
  return `${arch} ${rng.pick(TASK_KINDS)} ${String(i).padStart(4, '0')}`;
}

function modelPlans(rng: Prng, count: number, taskName: string, projectName: string): ModelPlan[] {
  const arch = taskName.split(' ').slice(0, -2).join(' ') || 'model';
  const framework = projectName === 'Tabular Forecast' ? 'ScikitLearn' : rng.pick(['PyTorch', 'PyTorch', 'TensorFlow']);
  const ext = framework === 'ScikitLearn' ? 'pkl' : framework === 'PyTorch' ? 'pt' : 'h5';
  const out: ModelPlan[] = [];
  for (let m = 0; m < count; m++) {
    const label = m === 0 ? 'best' : m === 1 ? 'last' : `epoch_${m}`;
    out.push({ name: `${arch} - ${label}`, file: `${arch.replace(/\s+/g, '_')}_${label}.${ext}`, framework });
  }
  return out;
}

function uniformTask(rng: Prng, i: number, opts: SeedOptions, threshold: number): TaskPlan {
  const projectName = PROJECTS[i % PROJECTS.length];
  const name = taskName(rng, projectName, i);
  return {
    index: i, projectName, name, type: 'training', status: opts.uniformStatus ?? 'created', archived: true,
    ageDays: threshold + 10 + rng.int(0, 360), isDataset: false,
    artifacts: artifactPlans(opts.artifactsPerTask ?? 5), foreign: 0, inputArtifact: false, s3Artifact: false,
    models: modelPlans(rng, opts.modelsPerTask ?? 2, name, projectName),
    debugImages: opts.debugImagesPerTask ?? 20, reusedDebugImages: 0, plots: opts.plotsPerTask ?? 0, logLines: opts.logLinesPerTask ?? 2,
    scalars: 0, tags: [],
  };
}

function datasetTask(rng: Prng): TaskPlan {
  return {
    index: 0, projectName: DATASET_PROJECT, name: 'dataset snapshot v3', type: 'data_processing', status: 'completed',
    archived: false, ageDays: 90, isDataset: true,
    artifacts: [
      { key: 'train_split', type: 'custom', file: 'train.csv', contentType: 'text/csv' },
      { key: 'val_split', type: 'custom', file: 'val.csv', contentType: 'text/csv' },
      { key: 'labels', type: 'dict', file: 'labels.json', contentType: 'application/json' },
    ],
    foreign: 1, inputArtifact: false, s3Artifact: false, models: [], debugImages: rng.int(2, 4), reusedDebugImages: 0, plots: 0,
    logLines: 10, scalars: 0, tags: ['dataset'],
  };
}

function mixedTask(rng: Prng, i: number, opts: SeedOptions, threshold: number, forced?: SeededStatus): TaskPlan {
  const projectName = PROJECTS[rng.int(0, PROJECTS.length - 1)];
  const name = taskName(rng, projectName, i);
  const status = forced ?? rng.weighted(STATUS_WEIGHTS);
  // Archiving a queued or running task changes its status (dequeue, stop): keep those unarchived.
  const archivable = status !== 'queued' && status !== 'in_progress';
  const archived = archivable && rng.chance(0.6);
  let ageDays: number;
  if (archived) ageDays = rng.chance(0.75) ? threshold + rng.int(10, 370) : rng.pick([1, 3, 5, 5, 5, 7]);
  else ageDays = rng.chance(0.25) ? threshold + rng.int(10, 370) : rng.pick([0, 0, 1, 2, 5]);
  const heavy = rng.chance(0.1);
  return {
    index: i, projectName, name, type: rng.pick(TASK_TYPES), status, archived, ageDays, isDataset: false,
    artifacts: artifactPlans(opts.artifactsPerTask ?? rng.int(1, 4)),
    foreign: rng.chance(0.3) ? 1 : 0,
    inputArtifact: rng.chance(0.2),
    s3Artifact: false,
    models: modelPlans(rng, opts.modelsPerTask ?? rng.int(0, 2), name, projectName),
    debugImages: opts.debugImagesPerTask ?? (heavy ? rng.int(101, 150) : rng.int(3, 25)),
    reusedDebugImages: opts.debugImagesPerTask === undefined && heavy ? rng.int(5, 15) : 0,
    plots: opts.plotsPerTask ?? rng.int(0, 2),
    logLines: opts.logLinesPerTask ?? rng.int(5, 30),
    scalars: rng.int(3, 10),
    tags: rng.chance(0.2) ? [rng.pick(['baseline', 'candidate', 'needs-review'])] : [],
  };
}

/**
 * Small seeds still hold every case a cleanup must get right: an archived Draft never started
 * (no status_changed), an archived recent task, an old unarchived one, and (when counts are not
 * fixed) an eligible and a kept task with more than 100 debug images.
 */
function ensureCoverage(plans: TaskPlan[], threshold: number): void {
  const regular = plans.filter((p) => !p.isDataset);
  const draft = regular.find((p) => p.status === 'created');
  if (draft && !regular.some((p) => p.status === 'created' && isEligible(p, threshold))) {
    draft.archived = true;
    draft.ageDays = threshold + 45;
  }
  const archivable = (p: TaskPlan) => p !== draft && p.status !== 'queued' && p.status !== 'in_progress';
  if (!regular.some((p) => p.archived && !isEligible(p, threshold))) {
    const p = regular.find((x) => archivable(x) && !x.archived);
    if (p) Object.assign(p, { archived: true, ageDays: 5 });
  }
  if (!regular.some((p) => !p.archived && p.ageDays >= threshold)) {
    const p = regular.find((x) => !x.archived);
    if (p) p.ageDays = threshold + 60;
  }
  const eligible = regular.filter((p) => isEligible(p, threshold));
  const kept = regular.filter((p) => !isEligible(p, threshold));
  for (const group of [eligible, kept]) {
    if (group.length && !group.some((p) => p.debugImages > 100)) {
      const p = group[0];
      if (p.debugImages >= 3) p.debugImages = 120;
    }
  }
}

/** Some models of eligible tasks are used as input by kept tasks; some share their file with a kept task's model. */
function linkModels(rng: Prng, plans: TaskPlan[], threshold: number): void {
  const kept = plans.filter((p) => !p.isDataset && !isEligible(p, threshold));
  if (!kept.length) return;
  const eligibleModels = plans.filter((p) => isEligible(p, threshold)).flatMap((p) => p.models);
  let inUse = 0;
  let shared = 0;
  for (const m of eligibleModels) {
    if (rng.chance(0.12)) {
      m.consumer = rng.pick(kept).index;
      inUse++;
    } else if (rng.chance(0.07)) {
      m.shareWith = rng.pick(kept).index;
      shared++;
    }
  }
  const free = eligibleModels.filter((m) => m.consumer === undefined && m.shareWith === undefined);
  if (!inUse && free.length) free.shift()!.consumer = rng.pick(kept).index;
  if (!shared && free.length) free.shift()!.shareWith = rng.pick(kept).index;
}

export function statusCounts(plans: TaskPlan[]): Record<TaskStatus, number> {
  const counts = Object.fromEntries(SEEDED_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
  for (const p of plans) counts[p.status]++;
  return counts;
}
