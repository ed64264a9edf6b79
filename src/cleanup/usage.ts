/**
 * Where the storage goes: bytes and files owned per project (and the top tasks), how much belongs to
 * archived tasks, how much the next pass would free (the pass itself, in dry-run), how much is
 * orphaned. One reference scan serves both the attribution and the orphan listing.
 *
 * Bytes: the sizes the storage listing gives for every root it can list; for files outside those
 * roots, the artifact's content_size where the task recorded one (debug images and models have none).
 */
import type { Api, Logger, ProgressEvent, Storage } from './ports.js';
import { classifyUrl } from '../storage/url.js';
import { listAllChunked } from './listing.js';
import { collectReferences, keyParts, NO_OWNER, type ReferenceIndex } from './references.js';
import type { SpillMapOptions } from './spill-map.js';
import { sweepOrphans, taskIdsInPath, type ListedFile, type OrphanReport, type SweepStorage } from './orphans.js';
import { runPass } from './pass.js';
import type { CleanupOptions } from './options.js';
import { GB } from './rules/retention.js';
import type { ProjectBudget } from './rules/decide.js';

export interface UsageRow {
  /** project id or task id */
  id: string;
  name: string;
  /** for tasks: their project's name */
  project?: string;
  tasks: number;
  files: number;
  bytes: number;
  archivedFiles: number;
  archivedBytes: number;
  archived?: boolean;
  /** projects, with archived_budget_gb_per_project set: the budget, and how far over it the archived bytes are (0 = within) */
  budgetBytes?: number;
  overBytes?: number;
}

export interface UsageReport {
  generatedAt: string;
  roots: string[];
  total: { tasks: number; files: number; bytes: number; archivedFiles: number; archivedBytes: number };
  /** referenced by models whose task is gone */
  unowned: { files: number; bytes: number };
  nextPass: {
    tasks: number;
    files: number;
    bytes: number;
    deleteThresholdDays: number;
    forceDelete: boolean;
    error?: string;
    /** tasks each rule would take or keep (see PassReport.rules) */
    rules?: { taken: Record<string, number>; kept: Record<string, number> };
    /** with retention rules set: they are listed by rule in the text */
    byRule?: boolean;
    /** projects over budget and what the next pass would take */
    budgets?: ProjectBudget[];
    /** dataset versions the next pass keeps because a version that stays reads from them */
    datasetsKeptForLineage?: number;
  };
  orphaned: { files: number; bytes: number; young: number; minAgeDays: number };
  byProject: UsageRow[];
  topTasks: UsageRow[];
  /** roots that could not be listed, with why */
  rootErrors: Array<{ root: string; error: string }>;
  durationMs: number;
}

export interface UsageDeps {
  api: Api;
  storage: Storage & SweepStorage;
  log: Logger;
  signal?: AbortSignal;
  onProgress?: (e: ProgressEvent) => void;
}

export interface UsageOptions {
  roots: string[];
  minAgeDays: number;
  fileServerDir?: string;
  s3Hosts?: string[];
  /** tasks listed in topTasks */
  top?: number;
  pass: Partial<CleanupOptions>;
  concurrency?: number;
  now?: () => Date;
  /** memory budget of the reference index (see SpillMap) */
  spill?: SpillMapOptions;
}

/** True when a URL lies under one of the roots (file servers compared by path, whatever the host). */
export function underRoots(roots: string[], hints: { s3Hosts?: string[] }): (url: string) => boolean {
  const parsed = roots.map((r) => keyParts(classifyUrl(r, hints))).filter((p): p is NonNullable<typeof p> => !!p);
  return (url) => {
    const k = keyParts(classifyUrl(url.trim(), hints));
    if (!k) return false;
    return parsed.some((r) => r.head === k.head && k.segments.length > r.segments.length && r.segments.every((s, i) => k.segments[i] === s));
  };
}

export async function storageUsage(deps: UsageDeps, o: UsageOptions): Promise<UsageReport> {
  const started = Date.now();
  const hints = { s3Hosts: o.s3Hosts };
  const refs = await collectReferences(deps.api, {
    s3Hosts: o.s3Hosts,
    concurrency: o.concurrency,
    isListed: underRoots(o.roots, hints),
    spill: o.spill,
    log: deps.log,
    onProgress: deps.onProgress,
    signal: deps.signal,
  });
  try {
    return await summarise(deps, o, refs, started);
  } finally {
    refs.close();
  }
}

async function summarise(deps: UsageDeps, o: UsageOptions, refs: ReferenceIndex, started: number): Promise<UsageReport> {
  const t = refs.tasks;
  const unowned = { files: 0, bytes: 0 };
  const onFile = (f: ListedFile, referencedBy: number | undefined) => {
    if (referencedBy === undefined) return;
    // A referenced file belongs to the task whose folder holds it (another task may only use it).
    let owner = referencedBy;
    for (const id of taskIdsInPath(f.url)) owner = t.indexOf.get(id) ?? owner;
    if (owner === NO_OWNER) {
      unowned.files++;
      unowned.bytes += f.size;
      return;
    }
    t.files[owner]++;
    t.bytes[owner] += f.size;
  };
  const sweep: OrphanReport = await sweepOrphans(
    { api: deps.api, storage: deps.storage, log: deps.log, signal: deps.signal, onProgress: deps.onProgress, references: refs, onFile },
    { roots: o.roots, minAgeDays: o.minAgeDays, delete: false, fileServerDir: o.fileServerDir, s3Hosts: o.s3Hosts, concurrency: o.concurrency, now: o.now, listCap: 0 },
  );

  // The next pass, exactly as `plan` would make it.
  const planned = new Set<string>();
  let plannedFiles = 0;
  const pass = await runPass(
    {
      api: deps.api,
      storage: deps.storage,
      log: deps.log,
      signal: deps.signal,
      onProgress: deps.onProgress,
      // the budget counts the bytes this listing found, not only the artifacts' recorded sizes
      taskBytes: (id) => {
        const i = t.indexOf.get(id);
        return i === undefined ? undefined : t.bytes[i];
      },
      onPlan: (p) => {
        for (const task of p.tasks) {
          planned.add(task.id);
          plannedFiles += task.files.length;
        }
      },
    },
    { ...o.pass, dryRun: true, listCap: 0, now: o.now },
  );
  let plannedBytes = 0;
  for (const id of planned) {
    const i = t.indexOf.get(id);
    if (i !== undefined) plannedBytes += t.bytes[i];
  }

  const projects = new Map<string, UsageRow>();
  const total = { tasks: t.rows.length, files: 0, bytes: 0, archivedFiles: 0, archivedBytes: 0 };
  t.rows.forEach((r, i) => {
    const p = projects.get(r.project) ?? { id: r.project, name: '', tasks: 0, files: 0, bytes: 0, archivedFiles: 0, archivedBytes: 0 };
    projects.set(r.project, p);
    p.tasks++;
    p.files += t.files[i];
    p.bytes += t.bytes[i];
    total.files += t.files[i];
    total.bytes += t.bytes[i];
    if (r.archived) {
      p.archivedFiles += t.files[i];
      p.archivedBytes += t.bytes[i];
      total.archivedFiles += t.files[i];
      total.archivedBytes += t.bytes[i];
    }
  });
  const names = new Map<string, string>();
  const ids = [...projects.keys()].filter(Boolean);
  if (ids.length) {
    try {
      const rows = await listAllChunked<{ id: string; name?: string }>(deps.api, 'projects.get_all', { only_fields: ['id', 'name'], search_hidden: true }, 'projects', 'id', ids);
      for (const r of rows) names.set(r.id, r.name ?? '');
    } catch (err) {
      deps.log.warn(`Project names could not be read: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  for (const p of projects.values()) p.name = p.id ? names.get(p.id) ?? p.id : '(no project)';
  const budgetGb = o.pass.retention?.archivedBudgetGbPerProject ?? 0;
  if (budgetGb > 0) {
    for (const p of projects.values()) {
      p.budgetBytes = budgetGb * GB;
      p.overBytes = Math.max(0, p.archivedBytes - p.budgetBytes);
    }
  }
  const byProject = [...projects.values()].sort((a, b) => b.bytes - a.bytes || b.files - a.files || a.name.localeCompare(b.name));

  const top = Math.max(0, o.top ?? 10);
  const order = t.rows.map((_, i) => i).sort((a, b) => t.bytes[b] - t.bytes[a] || t.files[b] - t.files[a]);
  const topTasks: UsageRow[] = order.slice(0, top).map((i) => {
    const r = t.rows[i];
    return {
      id: r.id,
      name: r.name,
      project: names.get(r.project) ?? (r.project || '(no project)'),
      archived: r.archived,
      tasks: 1,
      files: t.files[i],
      bytes: t.bytes[i],
      archivedFiles: r.archived ? t.files[i] : 0,
      archivedBytes: r.archived ? t.bytes[i] : 0,
    };
  });

  return {
    generatedAt: new Date().toISOString(),
    roots: o.roots,
    total,
    unowned,
    nextPass: {
      tasks: planned.size,
      files: plannedFiles,
      bytes: plannedBytes,
      deleteThresholdDays: pass.deleteThresholdDays,
      forceDelete: pass.forceDelete,
      ...(pass.error ? { error: pass.error } : {}),
      ...(pass.datasets?.keptForLineage ? { datasetsKeptForLineage: pass.datasets.keptForLineage } : {}),
      rules: pass.rules,
      ...(pass.retention ? { byRule: true } : {}),
      ...(pass.budgets ? { budgets: pass.budgets } : {}),
    },
    orphaned: { files: sweep.total.orphans, bytes: sweep.total.orphanBytes, young: sweep.total.young, minAgeDays: o.minAgeDays },
    byProject,
    topTasks,
    rootErrors: sweep.roots.filter((r) => r.error).map((r) => ({ root: r.root, error: r.error! })),
    durationMs: Date.now() - started,
  };
}
