/** Counts of what a seed made, from its records. */
import type { Ctx } from './context.js';
import type { SeededDataset, SeedSummary } from './types.js';

export function summarize(ctx: Ctx, seed: number, thresholdDays: number, backdated: boolean, elapsedMs: number, datasets: SeededDataset[] = []): SeedSummary {
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
    debugImageEvents: ctx.counters.debugImageEvents,
    tasksOver100DebugImages: ctx.tasks.filter((t) => t.debugImages > 100).length,
    plots: ctx.counters.plots,
    logLines: ctx.counters.logs,
    datasetVersions: datasets.length,
    datasetVersionsDeletable: datasets.filter((d) => d.deletable).length,
    datasetVersionsKeptForLineage: datasets.filter((d) => d.keptFor).length,
    elapsedMs,
    warnings: ctx.warnings,
  };
}
