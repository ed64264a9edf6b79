/**
 * One cleanup pass: finish what an earlier pass left in the journal, select, then plan and carry out
 * batch after batch (memory stays flat: only ids are held across batches; the next batch is planned
 * while one is deleted, ./overlap.ts), then settle models that waited for their users to be deleted
 * later in the pass, and report.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import type { Logger, Storage, Api, ProgressEvent } from './ports.js';
import { errorMessage } from './ports.js';
import { CountingApi } from './counting-api.js';
import { unsupportedServer } from '../api/server-features.js';
import { cutoffDate } from './dates.js';
import { newScanState } from './events.js';
import { executeEntry, type ExecContext } from './execute.js';
import { Journal, isEmptyEntry, newEntryId, type JournalEntry } from './journal.js';
import { chunks } from './listing.js';
import { acquireLock, type Lock } from './lock.js';
import { runOverlapped } from './overlap.js';
import { REQUEST_BURST, resolveOptions, type CleanupOptions } from './options.js';
import { RateLimitedApi, RequestRate } from './rate-limit.js';
import { planBatch, type BatchPlan, type PlanContext } from './plan.js';
import { collectReferences, ReferenceIndex } from './references.js';
import { addFailed, addFileOutcome, addKeptFile, addKeptModel, addPlanned, addSkipped, countRule, formatBytes, newReport, type PassReport } from './report.js';
import { selectTasks, type Candidate, type Rules, type Selection } from './select.js';
import { datasetOrder, type DatasetOrder } from './lineage-pass.js';
import { compileRetention, retentionActive } from './rules/retention.js';
import { loadProjectPaths } from './rules/projects.js';
import type { Protector } from './rules/decide.js';

/** Consecutive batches whose planning failed before the pass gives up. */
const MAX_PLAN_FAILURES = 3;

export interface PassDeps {
  api: Api;
  storage: Storage;
  log: Logger;
  /** stops between batches (the batch in flight finishes: the journal covers it anyway) */
  signal?: AbortSignal;
  /** never deleted (the service's own task) */
  protectedTaskIds?: string[];
  /** keeps tasks another rule protects (dataset lineage), with the reason */
  protect?: Protector;
  /** bytes of a task's files from a storage listing (report); default: its artifacts' content_size */
  taskBytes?: (taskId: string) => number | undefined;
  /** each batch's plan, as soon as it is made (plan --json streams these) */
  onPlan?: (plan: BatchPlan) => void | Promise<void>;
  /** tasks planned (dry run) or handled so far, after each batch */
  onProgress?: (e: ProgressEvent) => void;
  /** for tests */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function entryOf(plan: BatchPlan, force: boolean, id: string, now: Date): JournalEntry {
  return {
    version: 1,
    id,
    createdAt: now.toISOString(),
    force,
    tasks: plan.tasks.map((t) => ({
      id: t.id,
      name: t.name,
      files: t.files,
      ...(t.sizes ? { sizes: t.sizes } : {}),
      ...(t.rule ? { rule: t.rule, reason: t.reason } : {}),
    })),
    models: plan.models.map((m) => ({ id: m.id, owner: m.owner, file: m.deleteFile ? m.uri : undefined })),
    deferred: plan.deferred.map((d) => ({ id: d.id, owner: d.owner, uri: d.uri, waitingFor: d.waitingFor })),
  };
}

/** Everything one pass shares between its steps. */
interface Pass {
  deps: PassDeps;
  opts: CleanupOptions;
  api: CountingApi;
  log: Logger;
  report: PassReport;
  rules: Rules;
  limit: LimitFunction;
  /** set when deleting (not in a dry run) */
  exec?: ExecContext & { journal: Journal };
  lock?: Lock;
  now: Date;
  /** journal entries an earlier pass left, read before the selection */
  leftover: JournalEntry[];
  /** what stays this pass (everything outside its deletion), read once after the selection */
  refs?: ReferenceIndex;
}

export async function runPass(deps: PassDeps, options: Partial<CleanupOptions>): Promise<PassReport> {
  const opts = resolveOptions(options);
  opts.referenceHints ??= deps.storage.referenceHints;
  const now = opts.now?.() ?? new Date();
  const started = Date.now();
  // every API call of the pass (replay, selection, planning, deletion) takes a token first
  const api = new CountingApi(new RateLimitedApi(deps.api, new RequestRate(opts.maxRequestsPerSecond, REQUEST_BURST)));
  const { log } = deps;
  const cutoff = cutoffDate(now, opts.deleteThresholdDays);
  const report = newReport({
    startedAt: now,
    dryRun: opts.dryRun,
    forceDelete: opts.forceDelete,
    deleteThresholdDays: opts.deleteThresholdDays,
    cutoff,
    listCap: opts.listCap,
  });
  const limit = pLimit(opts.concurrency);
  const p: Pass = {
    deps,
    opts,
    api,
    log,
    report,
    limit,
    now,
    rules: {
      cutoff,
      forceDelete: opts.forceDelete,
      deletePublishedModels: opts.deletePublishedModels,
      protectedIds: new Set(deps.protectedTaskIds ?? []),
      thresholdDays: opts.deleteThresholdDays,
      ...(retentionActive(opts.retention) ? { retention: compileRetention(opts.retention!) } : {}),
      ...(deps.protect ? { protect: deps.protect } : {}),
      ...(deps.taskBytes ? { taskBytes: deps.taskBytes } : {}),
    },
    leftover: [],
  };
  if (p.rules.retention) report.retention = opts.retention;
  if (!opts.dryRun && opts.stateDir) {
    const journal = new Journal(opts.stateDir);
    p.exec = { api, storage: deps.storage, journal, report, log, limit, rules: p.rules, hints: opts.referenceHints };
    report.journal.dir = journal.dir;
  }

  if (opts.pacingMs > 0) log.warn(`pacing_ms (${opts.pacingMs} ms between batches) is deprecated: the request rate limit (max_requests_per_second) spares the server without idle pauses; set pacing_ms to 0`);
  log.info('Starting cleanup', { cutoff: cutoff.toISOString(), dryRun: opts.dryRun, forceDelete: opts.forceDelete });
  try {
    if (p.exec) {
      // before any file goes: on a server without tasks.delete_many, files would go and their tasks stay
      const tooOld = unsupportedServer(await api.serverApiVersion());
      if (tooOld) throw new Error(tooOld);
      p.lock = await acquireLock(opts.stateDir!);
    }
    await readJournal(p);
    const { selection, order } = await select(p);
    await readReferences(p, order);
    await replayJournal(p);
    await processBatches(p, selection, order);
    await settleJournal(p);
  } catch (err) {
    report.error ??= errorMessage(err);
    log.error(`Cleanup pass ended early: ${report.error}`);
  } finally {
    p.refs?.close();
    await p.lock?.release();
  }
  report.finishedAt = new Date().toISOString();
  report.durationMs = Date.now() - started;
  const s = api.snapshot();
  const acted = opts.dryRun ? report.tasks.planned : report.tasks.deleted;
  report.apiCalls = { ...s, perTask: acted ? s.total / acted : 0 };
  return report;
}

/** 0. What an earlier (killed) pass left: read first, finished once the references are known. */
async function readJournal(p: Pass): Promise<void> {
  if (!p.exec) return;
  const { journal } = p.exec;
  await journal.init();
  const { entries, unreadable } = await journal.list();
  p.report.journal.unreadable = unreadable;
  for (const f of unreadable) p.log.error(`Journal entry ${f} cannot be read; move it away after checking it`);
  p.leftover = entries;
}

/** 1. Selection, completely, before anything is deleted. */
async function select(p: Pass): Promise<{ selection: Selection; order: DatasetOrder }> {
  const { report, log, opts, deps } = p;
  let selection: Selection;
  try {
    if (p.rules.retention) {
      const r = p.rules.retention.rules;
      if (r.deleteStatuses.length && !opts.forceDelete) log.warn('delete_statuses is set but force_delete is off: only Drafts are deleted');
      const paths = await loadProjectPaths(p.api);
      p.rules.projectPath = (id) => (id ? paths.get(id) : '');
    }
    selection = await selectTasks(p.api, p.rules);
  } catch (err) {
    report.error = `listing archived tasks failed: ${errorMessage(err)}`;
    throw err;
  }
  // tasks of a leftover entry are finished by its replay (and judged again there)
  const inJournal = new Set(p.leftover.flatMap((e) => e.tasks.map((t) => t.id)));
  if (inJournal.size) selection.deletable = selection.deletable.filter((c) => !inJournal.has(c.id));
  report.selected = selection.deletable.length + selection.skipped.length;
  for (const s of selection.skipped) addSkipped(report, s);
  if (selection.budgets?.length) report.budgets = selection.budgets;
  let order: DatasetOrder;
  try {
    order = await datasetOrder({ api: p.api, log, limit: p.limit, readText: deps.storage.readText?.bind(deps.storage) }, selection.deletable, report);
  } catch (err) {
    report.error = `reading dataset lineage failed: ${errorMessage(err)}`;
    throw err;
  }
  log.info(
    `Found ${report.selected} archived tasks ${selection.budgets ? 'older than the threshold or over a project budget' : `older than ${opts.deleteThresholdDays} days`}: ` +
      `${selection.deletable.length - order.keptCount} to delete, ${selection.skipped.length + order.keptCount} kept`,
  );
  return { selection, order };
}

/**
 * 2. Everything that stays (all tasks but this pass's and the leftover entries', every model not
 * owned by one of them): a file of a deleted task any of it points to is kept.
 */
async function readReferences(p: Pass, order: DatasetOrder): Promise<void> {
  // what this pass means to delete (dataset versions kept for lineage are not in the order: they stay)
  const exclude = new Set([...order.plain, ...order.layers.flat()].map((c) => c.id));
  for (const e of p.leftover) for (const t of e.tasks) exclude.add(t.id);
  if (exclude.size === 0) return;
  try {
    p.refs = await collectReferences(p.api, {
      ...p.opts.referenceHints,
      exclude,
      folderKeys: true,
      concurrency: p.opts.concurrency,
      eventTasksPerCall: p.opts.eventTasksPerCall,
      log: p.log,
      signal: p.deps.signal,
    });
  } catch (err) {
    p.report.error = `reading what other tasks and models reference failed: ${errorMessage(err)}`;
    throw err;
  }
  if (p.refs.failedTasks.length) {
    p.log.warn(
      `The debug and plot images of ${p.refs.failedTasks.length} tasks that stay could not be read (e.g. ${p.refs.failedTasks[0]}); ` +
        'a file of a deleted task only they point to would not be seen',
    );
  }
  if (p.exec) p.exec.refs = p.refs;
}

/** 3. The leftover entries, judged again before anything of them is deleted. */
async function replayJournal(p: Pass): Promise<void> {
  if (!p.exec) return;
  for (const e of p.leftover) {
    p.log.info(`Finishing journal entry ${e.id} left by an earlier pass (${e.tasks.length} tasks, ${e.models.length + e.deferred.length} models)`);
    try {
      const left = await executeEntry(p.exec, e, { replay: true, finishDeferred: true });
      if (isEmptyEntry(left)) p.report.journal.replayedEntries++;
    } catch (err) {
      p.log.error(`Journal entry ${e.id} could not be finished: ${errorMessage(err)}`);
    }
  }
}

/** 4. Batch after batch. */
async function processBatches(p: Pass, selection: Selection, order: DatasetOrder): Promise<void> {
  const { report, log, opts, deps } = p;
  const planCtx: PlanContext = {
    api: p.api,
    rules: p.rules,
    passDeletable: new Set(selection.deletable.map((c) => c.id)),
    limit: p.limit,
    eventState: newScanState(),
    eventTasksPerCall: opts.eventTasksPerCall,
    refs: (p.refs ??= new ReferenceIndex(opts.referenceHints ?? {}, false, {}, true)),
  };
  // Plain tasks first, then dataset versions children before parents (see lineage.ts).
  const batches = [...chunks(order.plain, opts.batchSize), ...order.layers.flatMap((l) => chunks(l, opts.batchSize))];
  selection.deletable = [];
  let planFailures = 0;
  const sleep = deps.sleep ?? abortableSleep;
  const total = batches.reduce((n, b) => n + b.length, 0);
  let done = 0;
  deps.onProgress?.({ phase: 'tasks', done, total, unit: 'tasks' });
  const plainBatches = Math.ceil(order.plain.length / opts.batchSize);
  const plan = async (i: number): Promise<Planned> => {
    // a dataset layer's batch holds back versions whose dependants were not deleted: it is made
    // only once the batches before it are done (no overlap for those, see `overlap` below)
    const batch = order.holdBack(batches[i]);
    if (batch.length === 0) return { batch };
    try {
      return { batch, plan: await planBatch(planCtx, batch) };
    } catch (error) {
      return { batch, error };
    }
  };
  const ran = await runOverlapped<Planned>({
    count: batches.length,
    // batch i+1 is planned (reads) while batch i is deleted, when it is a batch of plain tasks (a
    // dataset layer depends on what the batches before it deleted); a dry run has nothing to overlap with
    overlap: (next) => !!p.exec && next < plainBatches,
    prepare: plan,
    stopped: () => !!deps.signal?.aborted,
    run: async (i, planned, overlapped) => {
      if (i > 0 && opts.pacingMs > 0) await sleep(opts.pacingMs, deps.signal);
      await p.lock?.touch();
      const { batch } = planned;
      done += batches[i].length - batch.length;
      if (batch.length === 0) return 'next';
      // Planned while batch i-1 was being deleted: a decision to keep a file or a model may rest on
      // that batch's models and tasks, seen before they were gone. Such a plan is made again now.
      if (overlapped && planned.plan && restsOnOthers(planned.plan)) planned = await plan(i);
      if (!planned.plan) {
        const err = planned.error;
        // Nothing of this batch was touched: its tasks wait for the next pass. A server that keeps
        // failing ends the pass rather than being hammered batch after batch.
        const why = `planning batch ${i + 1} failed: ${errorMessage(err)}`;
        for (const c of batch) addFailed(report, { id: c.id, name: c.name, status: c.status, reason: why });
        order.notDeleted(batch.map((c) => c.id));
        if (++planFailures >= MAX_PLAN_FAILURES) {
          report.error = why;
          throw err;
        }
        log.warn(`${why}; its ${batches[i].length} tasks wait for the next pass`);
        return 'next';
      }
      planFailures = 0;
      const deleted = await handlePlan(p, planned.plan, i, batches);
      order.notDeleted(batch.map((c) => c.id).filter((id) => !deleted.has(id)));
      done += batch.length;
      deps.onProgress?.({ phase: 'tasks', done, total, unit: 'tasks' });
      return 'next';
    },
  });
  if (ran < batches.length) {
    report.error = 'stopped before the end of the pass';
    log.warn(`Cleanup pass stopped after ${ran} of ${batches.length} batches`);
  }
}

interface Planned {
  /** the batch after holding back dataset versions that must stay */
  batch: Candidate[];
  plan?: BatchPlan;
  error?: unknown;
}

/** Decisions to keep something another batch's entities could have caused (see processBatches). */
function restsOnOthers(plan: BatchPlan): boolean {
  return plan.keptFiles.length > 0 || plan.keptModels.length > 0 || plan.models.some((m) => !m.deleteFile && !!m.uri);
}

/** Returns the ids of the tasks deleted (planned, in a dry run). */
async function handlePlan(p: Pass, plan: BatchPlan, i: number, batches: Candidate[][]): Promise<Set<string>> {
  const { report, log, deps } = p;
  for (const s of plan.skipped) addSkipped(report, s);
  for (const f of plan.failed) addFailed(report, f);
  for (const m of plan.keptModels) addKeptModel(report, m);
  report.models.deferred += plan.deferred.length;
  for (const f of plan.keptFiles) addKeptFile(report, f.url, f.reason);
  await deps.onPlan?.(plan);

  for (const t of plan.tasks) countRule(report, 'taken', t.rule ?? 'age');
  if (!p.exec) {
    for (const t of plan.tasks) addPlanned(report, t, !deps.onPlan);
    report.models.deleted += plan.models.length;
    const seen = new Set<string>();
    for (const t of plan.tasks) {
      for (const url of t.files) {
        if (seen.has(url)) continue;
        seen.add(url);
        const v = deps.storage.classify?.(url) ?? { backend: 'unknown', allowed: true };
        addFileOutcome(report, { url, backend: v.backend, status: v.allowed ? 'deleted' : 'refused', reason: v.reason });
      }
    }
    if (plan.tasks.length) log.info(`Would delete ${plan.tasks.length} tasks (batch ${i + 1}/${batches.length})`);
    return new Set(plan.tasks.map((t) => t.id));
  }

  const deleted = new Set<string>();
  if (plan.tasks.length === 0 && plan.deferred.length === 0) return deleted;
  const entry = entryOf(plan, p.opts.forceDelete, newEntryId(new Date(), i), p.now);
  await p.exec.journal.write(entry);
  log.info(`Deleting ${plan.tasks.length} tasks`, { batch: i + 1, of: batches.length });
  const before = { tasks: report.tasks.deleted, files: report.files.total.deleted, bytes: report.files.total.bytes, failed: report.tasks.failed };
  try {
    await executeEntry(p.exec, entry, { replay: false, finishDeferred: false, deleted });
    log.info(
      `Batch ${i + 1}/${batches.length}: deleted ${report.tasks.deleted - before.tasks} tasks, ` +
        `${report.files.total.deleted - before.files} files (${formatBytes(report.files.total.bytes - before.bytes)})` +
        (report.tasks.failed > before.failed ? `, ${report.tasks.failed - before.failed} failed` : ''),
    );
  } catch (err) {
    // The entry stays in the journal: the end of this pass, or the next one, finishes it.
    log.error(`Batch ${i + 1} did not finish: ${errorMessage(err)}`);
    for (const t of plan.tasks) addFailed(report, { id: t.id, name: t.name, status: t.status, reason: `batch failed: ${errorMessage(err)}` });
  }
  return deleted;
}

/** 3. Models that waited for users later in the pass; then count what is still pending. */
async function settleJournal(p: Pass): Promise<void> {
  if (!p.exec) return;
  const { journal } = p.exec;
  const { entries } = await journal.list();
  for (const e of entries.filter((x) => x.deferred.length > 0)) {
    try {
      await executeEntry(p.exec, e, { replay: true, finishDeferred: true });
    } catch (err) {
      p.log.warn(`Deferred models of ${e.id} wait for the next pass: ${errorMessage(err)}`);
    }
  }
  p.report.journal.pendingEntries = (await journal.list()).entries.length;
}
