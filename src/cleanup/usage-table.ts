/** Text tables for the storage report and the orphan sweep (terminal, and the task's CONSOLE). */
import { formatBytes, ruleLines } from './report.js';
import type { OrphanReport } from './orphans.js';
import type { UsageReport, UsageRow } from './usage.js';

function table(head: string[], rows: string[][], right: boolean[]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)];
}

function clip(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

export function usageTable(r: UsageReport, by: 'project' | 'task' = 'project'): string[] {
  const lines: string[] = [];
  if (by === 'project') {
    // archived_budget_gb_per_project set: two more columns, the budget and how far over it
    const budget = r.byProject.some((p) => p.budgetBytes !== undefined);
    lines.push(
      ...table(
        ['project', 'tasks', 'files', 'bytes', 'archived files', 'archived bytes', ...(budget ? ['budget', 'over budget'] : [])],
        r.byProject.map((p: UsageRow) => [
          clip(p.name, 40),
          String(p.tasks),
          String(p.files),
          formatBytes(p.bytes),
          String(p.archivedFiles),
          formatBytes(p.archivedBytes),
          ...(budget ? [formatBytes(p.budgetBytes ?? 0), p.overBytes ? formatBytes(p.overBytes) : '-'] : []),
        ]),
        [false, true, true, true, true, true, true, true],
      ),
    );
  } else {
    lines.push(
      ...table(
        ['task', 'name', 'project', 'archived', 'files', 'bytes'],
        r.topTasks.map((t) => [t.id, clip(t.name, 30), clip(t.project ?? '', 24), t.archived ? 'yes' : 'no', String(t.files), formatBytes(t.bytes)]),
        [false, false, false, false, true, true],
      ),
    );
  }
  lines.push('');
  lines.push(`Total: ${r.total.tasks} tasks, ${r.total.files} files, ${formatBytes(r.total.bytes)}`);
  lines.push(`  archived:          ${r.total.archivedFiles} files, ${formatBytes(r.total.archivedBytes)}`);
  lines.push(
    `  next pass frees:   ${r.nextPass.files} files, ${formatBytes(r.nextPass.bytes)} (${r.nextPass.tasks} tasks archived over ` +
      `${r.nextPass.deleteThresholdDays} days${r.nextPass.forceDelete ? ', force_delete' : ', Drafts only'})`,
  );
  if (r.nextPass.byRule && r.nextPass.rules) {
    for (const l of ruleLines({ rules: r.nextPass.rules, budgets: r.nextPass.budgets, dryRun: true })) lines.push(`  next pass${l.slice(1)}`);
  }
  lines.push(`  orphaned:          ${r.orphaned.files} files, ${formatBytes(r.orphaned.bytes)} (older than ${r.orphaned.minAgeDays} days; ${r.orphaned.young} younger unreferenced files left alone)`);
  if (r.unowned.files) lines.push(`  models without a task: ${r.unowned.files} files, ${formatBytes(r.unowned.bytes)}`);
  for (const e of r.rootErrors) lines.push(`  not listed: ${e.root}: ${e.error}`);
  if (r.nextPass.datasetsKeptForLineage) {
    lines.push(`  next pass keeps:   ${r.nextPass.datasetsKeptForLineage} archived dataset version(s) that a kept version still reads from`);
  }
  if (r.nextPass.error) lines.push(`  next pass could not be planned completely: ${r.nextPass.error}`);
  return lines;
}

export function orphanSummary(r: OrphanReport): string[] {
  const lines: string[] = [];
  const verb = r.delete ? 'deleted' : 'found';
  lines.push(
    `Orphans: ${verb} ${r.delete ? r.total.deleted : r.total.orphans} of ${r.total.orphans} unreferenced files older than ${r.minAgeDays} days ` +
      `(${formatBytes(r.delete ? r.total.deletedBytes : r.total.orphanBytes)}); ${r.total.listed} files listed, ` +
      `${r.total.referenced} referenced, ${r.total.young} too young`,
  );
  for (const t of r.roots) {
    lines.push(
      `  ${t.root}: ${t.listed} listed (${formatBytes(t.bytes)}), ${t.orphans} orphans (${formatBytes(t.orphanBytes)})` +
        (r.delete ? `, ${t.deleted} deleted, ${t.failed} failed, ${t.refused} refused by the allow-list` : '') +
        (t.rechecked ? `, ${t.rechecked} kept at the second check` : '') +
        (t.error ? `; ERROR ${t.error}` : ''),
    );
  }
  lines.push(`  references: ${r.references.tasks} tasks, ${r.references.models} models, ${r.references.urls} URLs; ${(r.durationMs / 1000).toFixed(1)} s`);
  if (r.error) lines.push(`  sweep ended early: ${r.error}`);
  return lines;
}
