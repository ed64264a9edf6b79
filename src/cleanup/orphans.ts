/**
 * The orphan sweep: files under the owned storage roots that nothing on the ClearML server points
 * to any more (left by the official script, by UI deletes, by old SDKs), older than a minimum age
 * so an upload in progress is never taken.
 *
 * Order: references first (complete, in streaming pages), then each root's listing, streamed and
 * judged file by file. Before a batch of candidates is deleted it is checked again: tasks named in
 * the paths (`<task name>.<task id>` folders) are read afresh, with their models and events, and
 * models pointing to the exact URLs are looked up, so a task the paging missed (a concurrent delete
 * shifts offsets) or created meanwhile keeps its files. Deletion goes through the same storage
 * allow-list as a pass, and each batch is journaled before it is touched.
 */
import pLimit from 'p-limit';
import type { Api, Logger, ProgressEvent } from './ports.js';
import { errorMessage } from './ports.js';
import { datasetLinkUrls } from './lineage.js';
import { acquireLock, type Lock } from './lock.js';
import { daysToMs } from './dates.js';
import { addModelReferences, addTaskReferences, collectReferences, type ReferenceIndex } from './references.js';
import type { SpillMapOptions } from './spill-map.js';
import { OrphanJournal } from './orphan-journal.js';
import type { FileOutcome } from './ports.js';
import { formatBytes } from './report.js';

export interface ListedFile {
  url: string;
  size: number;
  mtime: number;
}

/** What the sweep needs from storage (src/storage's Storage fits). */
export interface SweepStorage {
  list(root: string, opts?: { fileServerDir?: string }): AsyncIterable<ListedFile>;
  deleteFiles(urls: string[]): Promise<FileOutcome[]>;
  /** reads a dataset version's state (its link entries); absent: versions with links block deleting */
  readText?(url: string, maxBytes: number): Promise<string>;
}

export interface OrphanDeps {
  api: Api;
  storage: SweepStorage;
  log: Logger;
  signal?: AbortSignal;
  onProgress?: (e: ProgressEvent) => void;
  /** references already collected (the report shares one scan) */
  references?: ReferenceIndex;
  /** each batch of orphans once handled (with the deletion outcome when deleting), for streaming output */
  onOrphans?: (items: OrphanReport['orphanList']) => void | Promise<void>;
  /** every listed file with its owner (task index, -1 none, undefined unreferenced): for the report */
  onFile?: (f: ListedFile, owner: number | undefined, root: string) => void;
}

export interface OrphanOptions {
  roots: string[];
  minAgeDays: number;
  delete: boolean;
  /** required to delete: journal and lock live there */
  stateDir?: string;
  /** a real file server's data directory mounted locally (its roots are walked there) */
  fileServerDir?: string;
  batchSize?: number;
  concurrency?: number;
  eventTasksPerCall?: number;
  s3Hosts?: string[];
  /** orphans kept in the report's list (counts are complete) */
  listCap?: number;
  now?: () => Date;
  /** memory budget of the reference index (default: 100,000 URL hashes in memory, then a temporary file) */
  spill?: SpillMapOptions;
}

export interface RootTotals {
  root: string;
  listed: number;
  bytes: number;
  referenced: number;
  young: number;
  orphans: number;
  orphanBytes: number;
  deleted: number;
  deletedBytes: number;
  failed: number;
  refused: number;
  /** kept at the second check (a task or model found pointing to it) */
  rechecked: number;
  error?: string;
}

export interface OrphanReport {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  minAgeDays: number;
  cutoff: string;
  delete: boolean;
  references: { tasks: number; models: number; urls: number; failedTasks: number };
  roots: RootTotals[];
  total: Omit<RootTotals, 'root' | 'error'>;
  orphanList: Array<{ url: string; size: number; mtime: string; status?: string; reason?: string }>;
  error?: string;
}

const TASK_FOLDER = /\.([0-9a-f]{32})$/i;

function zero(root: string): RootTotals {
  return { root, listed: 0, bytes: 0, referenced: 0, young: 0, orphans: 0, orphanBytes: 0, deleted: 0, deletedBytes: 0, failed: 0, refused: 0, rechecked: 0 };
}

function totalsOnly(t: RootTotals): OrphanReport['total'] {
  const { root: _root, error: _error, ...rest } = t;
  return rest;
}

/** Task ids named by `<name>.<id>` folders in a URL's path. */
export function taskIdsInPath(url: string): string[] {
  const out: string[] = [];
  const path = url.replace(/^[a-z0-9+.-]+:\/\/[^/]*/i, '');
  for (const seg of path.split('/')) {
    let s = seg;
    try {
      s = decodeURIComponent(seg);
    } catch {
      /* keep raw */
    }
    const m = TASK_FOLDER.exec(s);
    if (m) out.push(m[1].toLowerCase());
  }
  return out;
}

export async function sweepOrphans(deps: OrphanDeps, o: OrphanOptions): Promise<OrphanReport> {
  const now = o.now?.() ?? new Date();
  const started = Date.now();
  const cutoff = now.getTime() - daysToMs(o.minAgeDays);
  const log = deps.log;
  const batchSize = Math.max(1, o.batchSize ?? 500);
  const listCap = o.listCap ?? 1000;
  const limit = pLimit(Math.max(1, o.concurrency ?? 4));
  const report: OrphanReport = {
    startedAt: now.toISOString(),
    finishedAt: now.toISOString(),
    durationMs: 0,
    minAgeDays: o.minAgeDays,
    cutoff: new Date(cutoff).toISOString(),
    delete: o.delete,
    references: { tasks: 0, models: 0, urls: 0, failedTasks: 0 },
    roots: [],
    total: totalsOnly(zero('')),
    orphanList: [],
  };
  if (o.delete && !o.stateDir) throw new Error('a state directory is required to delete orphans (the journal lives there)');

  let lock: Lock | undefined;
  let journal: OrphanJournal | undefined;
  let ownRefs: ReferenceIndex | undefined;
  try {
    if (o.delete) {
      lock = await acquireLock(o.stateDir!);
      journal = new OrphanJournal(o.stateDir!);
      const left = await journal.list();
      if (left.length) log.info(`${left.length} orphan batches were left by an interrupted sweep; their files are listed and judged again`);
    }
    const refs =
      deps.references ??
      (ownRefs = await collectReferences(deps.api, {
        s3Hosts: o.s3Hosts,
        concurrency: o.concurrency,
        eventTasksPerCall: o.eventTasksPerCall,
        light: true,
        spill: o.spill,
        log,
        onProgress: deps.onProgress,
        signal: deps.signal,
      }));
    report.references = { tasks: refs.tasks.count, models: refs.models, urls: refs.size, failedTasks: refs.failedTasks.length };
    let mayDelete = o.delete;
    if (o.delete && refs.failedTasks.length) {
      mayDelete = false;
      report.error = `the events of ${refs.failedTasks.length} tasks could not be read (e.g. ${refs.failedTasks[0]}): nothing is deleted`;
      log.error(report.error);
    }

    // Files a dataset version registered by link (add_external_files) are named by no artifact: the
    // versions' state artifacts name them, and they stay.
    const links = await datasetLinkUrls({ api: deps.api, log, limit, readText: deps.storage.readText?.bind(deps.storage) });
    if (mayDelete && links.unreadable.length) {
      mayDelete = false;
      report.error = `the link entries of ${links.unreadable.length} dataset versions could not be read (e.g. ${links.unreadable[0]}): nothing is deleted`;
      log.error(report.error);
    }

    let listedSoFar = 0;
    for (const root of o.roots) {
      const totals = zero(root);
      report.roots.push(totals);
      let batch: ListedFile[] = [];
      const flush = async () => {
        const b = batch;
        batch = [];
        if (b.length === 0) return;
        const kept = await recheck(deps.api, refs, b, { limit, eventTasksPerCall: o.eventTasksPerCall });
        const orphans = b.filter((f) => !kept.has(f.url) && !links.has(f.url));
        totals.rechecked += b.length - orphans.length;
        totals.referenced += b.length - orphans.length;
        for (const f of b) if (kept.has(f.url)) deps.onFile?.(f, kept.get(f.url), root);
        totals.orphans += orphans.length;
        for (const f of orphans) {
          totals.orphanBytes += f.size;
          deps.onFile?.(f, undefined, root);
        }
        const listed = new Map<string, (typeof report.orphanList)[number]>();
        for (const f of orphans) {
          const item = { url: f.url, size: f.size, mtime: new Date(f.mtime).toISOString() };
          listed.set(f.url, item);
          if (report.orphanList.length < listCap) report.orphanList.push(item);
        }
        if (!mayDelete || orphans.length === 0) {
          if (orphans.length) await deps.onOrphans?.([...listed.values()]);
          return;
        }
        const id = await journal!.write(orphans.map((f) => f.url));
        const outcomes = await deps.storage.deleteFiles(orphans.map((f) => f.url));
        const sizes = new Map(orphans.map((f) => [f.url, f.size]));
        const failed: string[] = [];
        for (const out of outcomes) {
          const item = listed.get(out.url);
          if (item) (item.status = out.status), out.reason && (item.reason = out.detail ? `${out.reason}: ${out.detail}` : out.reason);
          if (out.status === 'deleted' || out.status === 'missing') {
            totals.deleted++;
            if (out.status === 'deleted') totals.deletedBytes += out.bytes ?? sizes.get(out.url) ?? 0;
          } else if (out.status === 'refused') totals.refused++;
          else (totals.failed++, failed.push(out.url));
        }
        await journal!.finish(id, failed);
        await deps.onOrphans?.([...listed.values()]);
        deps.onProgress?.({ phase: 'deleting', done: totals.deleted, unit: 'files' });
        log.info(`Orphans under ${root}: deleted ${totals.deleted} so far (${formatBytes(totals.deletedBytes)})`);
      };
      if (listedSoFar === 0) deps.onProgress?.({ phase: 'listing', done: 0, unit: 'files' });
      try {
        for await (const f of deps.storage.list(root, { fileServerDir: o.fileServerDir })) {
          if (deps.signal?.aborted) break;
          totals.listed++;
          totals.bytes += f.size;
          listedSoFar++;
          if (listedSoFar % 200 === 0) deps.onProgress?.({ phase: 'listing', done: listedSoFar, unit: 'files' });
          const owner = refs.ownerOf(f.url);
          if (owner !== undefined) {
            totals.referenced++;
            deps.onFile?.(f, owner, root);
          } else if (f.mtime > cutoff) {
            totals.young++;
            deps.onFile?.(f, undefined, root);
          } else {
            batch.push(f);
            if (batch.length >= batchSize) await flush();
          }
        }
        await flush();
      } catch (err) {
        totals.error = errorMessage(err);
        log.error(`Listing ${root} failed: ${totals.error}`);
      }
      deps.onProgress?.({ phase: 'listing', done: listedSoFar, unit: 'files' });
      const t = report.total as unknown as Record<string, number>;
      for (const [k, v] of Object.entries(totals)) if (typeof v === 'number') t[k] += v;
    }
    if (deps.signal?.aborted) report.error ??= 'stopped before the end of the sweep';
    if (journal && !deps.signal?.aborted) await journal.clearStale();
  } catch (err) {
    report.error ??= errorMessage(err);
    log.error(`Orphan sweep ended early: ${report.error}`);
  } finally {
    ownRefs?.close();
    await lock?.release();
  }
  report.finishedAt = new Date().toISOString();
  report.durationMs = Date.now() - started;
  return report;
}

/** The models (id, uri, task) matching `filter` (the first page of 500). */
async function modelsWhere(api: Api, filter: { task: string[] } | { uri: string[] }): Promise<Array<{ id: string; uri?: string; task?: string }>> {
  const res = await api.call<{ models?: Array<{ id: string; uri?: string; task?: string }> }>('models.get_all', {
    ...filter,
    only_fields: ['id', 'uri', 'task'],
    page: 0,
    page_size: 500,
  });
  return res?.models ?? [];
}

/**
 * The second look at a batch of candidates: url -> owner for those something points to after all.
 * Tasks named in the paths are read afresh (with their models and events); models are looked up by
 * the exact URLs.
 */
async function recheck(
  api: Api,
  refs: ReferenceIndex,
  batch: ListedFile[],
  o: { limit: ReturnType<typeof pLimit>; eventTasksPerCall?: number },
): Promise<Map<string, number>> {
  const ids = [...new Set(batch.flatMap((f) => taskIdsInPath(f.url)))];
  if (ids.length) {
    const tasks = await api.call<{ tasks?: Array<{ id: string }> }>('tasks.get_all', {
      id: ids,
      only_fields: ['id', 'name', 'project', 'system_tags', 'execution.artifacts'],
      search_hidden: true,
      page: 0,
      page_size: 500,
    });
    const found = tasks?.tasks ?? [];
    if (found.length) {
      await addTaskReferences(api, refs, found, { limit: o.limit, eventTasksPerCall: o.eventTasksPerCall });
      addModelReferences(refs, await modelsWhere(api, { task: found.map((t) => t.id) }));
    }
  }
  addModelReferences(refs, await modelsWhere(api, { uri: batch.map((f) => f.url) }));
  if (refs.failedTasks.length) {
    // a task of this batch whose events could not be read: its folder's files are not judged
    const failed = new Set(refs.failedTasks);
    const out = new Map<string, number>();
    for (const f of batch) if (taskIdsInPath(f.url).some((id) => failed.has(id))) out.set(f.url, -1);
    for (const f of batch) {
      const owner = refs.ownerOf(f.url);
      if (owner !== undefined) out.set(f.url, owner);
    }
    return out;
  }
  const out = new Map<string, number>();
  for (const f of batch) {
    const owner = refs.ownerOf(f.url);
    if (owner !== undefined) out.set(f.url, owner);
  }
  return out;
}
