/**
 * seedServer: fills a ClearML server (the embedded one, or a real one) with a realistic, seeded mix
 * of projects, tasks in every status, archived and not, old and recent, with files on the file
 * server, models (some used by other tasks, some sharing a file), debug images, plots and logs.
 * Everything goes through the public API and the file server, the way the SDK does it, so a
 * cleanup run against the result meets what it would meet in production.
 */
import pLimit from 'p-limit';
import { ContentFactory } from './content.js';
import { ensureProject, type Ctx } from './context.js';
import { EventBatcher } from './events.js';
import { BatchUploader } from './files.js';
import { buildPlan, isEligible, type TaskPlan } from './plan.js';
import { Prng } from './prng.js';
import { S3Seeder } from './s3.js';
import { applyStatuses, archive, backdate, linkModels, settleDatasets } from './steps.js';
import { seedDatasetFamilies } from './dataset-families.js';
import { summarize } from './summary.js';
import { seedTask } from './task.js';
import type { SeedApi, SeededTask, SeedHosts, SeedOptions, SeedResult } from './types.js';

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
    counters: { artifacts: 0, foreign: 0, input: 0, s3: 0, debugImages: 0, debugImageEvents: 0, plots: 0, logs: 0 },
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
    const familyCount = opts.datasetFamilies ?? (opts.allEligible ? 0 : Math.max(1, Math.round(plans.length / 60)));
    const families = familyCount > 0 ? await seedDatasetFamilies(ctx, familyCount, threshold) : { versions: [], members: [] };
    await ctx.uploader.finish();
    await ctx.events.finish();
    ctx.progress('events', ctx.events.sent, ctx.events.sent);

    await applyStatuses(ctx, plans, byIndex, limit);
    await archive(ctx, plans, byIndex);
    const backdated = await backdate(ctx, plans, byIndex);
    if (families.members.length) await settleDatasets(ctx, families.members, backdated);
    if (!backdated) for (const d of families.versions) Object.assign(d, { ageDays: 0, eligible: false, deletable: false, keptFor: undefined });
    for (const p of plans) {
      const t = byIndex.get(p.index)!;
      t.ageDays = backdated ? p.ageDays : 0;
      t.eligible = isEligible(t, threshold);
    }
    return {
      summary: summarize(ctx, seed, threshold, backdated, Date.now() - started, families.versions),
      tasks: ctx.tasks, models: ctx.models, files: ctx.files, datasets: families.versions,
    };
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
