/** A readable, multi-line account of a seed, for the `seed` command and the demo. */
import type { SeedSummary } from './types.js';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function formatSeedSummary(s: SeedSummary): string {
  const statuses = Object.entries(s.byStatus)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const lines = [
    `Seeded ${s.tasks} tasks in ${s.projects} projects (seed ${s.seed}) in ${(s.elapsedMs / 1000).toFixed(1)} s`,
    `  statuses:      ${statuses}`,
    `  archived:      ${s.archived} (eligible for cleanup after ${s.thresholdDays} days: ${s.eligible}` +
      `${s.eligiblePublished ? `, of which published ${s.eligiblePublished}` : ''}; archived but recent: ${s.archivedRecent})`,
    `  old, not archived (must be kept): ${s.oldNotArchived}`,
    `  files:         ${s.filesUploaded} on the file server, ${formatBytes(s.bytesUploaded)}`,
    `  artifacts:     ${s.artifactsUploaded} uploaded, ${s.foreignArtifacts} on a foreign host, ${s.inputArtifacts} input` +
      `${s.s3Artifacts ? `, ${s.s3Artifacts} on S3` : ''}`,
    `  models:        ${s.models} (${s.modelsInUse} used as input by another task, ${plural(s.sharedModelFiles, 'file')} shared by two models)`,
    `  debug images:  ${s.debugImages} files in ${s.debugImageEvents} events (${plural(s.tasksOver100DebugImages, 'task')} with more than 100)`,
    `  plots:         ${s.plots} with images; console lines: ${s.logLines}`,
  ];
  if (s.datasetVersions) {
    lines.push(
      `  datasets:      ${s.datasetVersions} versions in families (a cleanup with force deletes ${s.datasetVersionsDeletable},` +
        ` keeps ${s.datasetVersionsKeptForLineage} archived parent version(s) a kept version still reads from)`,
    );
  }
  if (!s.backdated) lines.push('  note: tasks were not backdated (no /_embedded/backdate on this server): none is old enough to be deleted');
  for (const w of s.warnings) if (!w.includes('/_embedded/backdate')) lines.push(`  warning: ${w}`);
  return lines.join('\n');
}
