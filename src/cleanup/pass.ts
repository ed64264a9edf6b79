/**
 * One cleanup pass: finish what an earlier pass left in the journal, select, then plan and carry out
 * batch after batch (memory stays flat: only ids are held across batches), then settle models that
 * waited for their users to be deleted later in the pass, and report.
 */
import pLimit from 'p-limit';
import type { Api, Logger, Storage } from './ports.js';
import { errorMessage } from './ports.js';
import { CountingApi } from './counting-api.js';
import { cutoffDate } from './dates.js';
import { newScanState } from './events.js';
import { executeEntry, type ExecContext } from './execute.js';
import { Journal, isEmptyEntry, newEntryId, type JournalEntry } from './journal.js';
import { chunks } from './listing.js';
import { resolveOptions, type CleanupOptions } from './options.js';
import { planBatch, type BatchPlan, type PlanContext } from './plan.js';
import { addFailed, addFileOutcome, addKeptModel, addPlanned, addSkipped, newReport, type PassReport } from './report.js';
import { selectTasks, type Rules } from './select.js';

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
  /** each batch's plan, as soon as it is made (plan --json streams these) */
  onPlan?: (plan: BatchPlan) => void | Promise<void>;
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
  const modelFile = new Map(plan.models.map((m) => [m.id, m.deleteFile ? m.uri : undefined]));
  return {
    version: 1,
    id,
    createdAt: now.toISOString(),
    force,
    tasks: plan.tasks.map((t) => ({ id: t.id, name: t.name, files: t.files, ...(t.sizes ? { sizes: t.sizes } : {}) })),
    models: plan.models.map((m) => ({ id: m.id, owner: m.owner, file: modelFile.get(m.id) })),
    deferred: plan.deferred.map((d) => ({ id: d.id, owner: d.owner, uri: d.uri, waitingFor: d.waitingFor })),
  };
}

export async function runPass(deps: PassDeps, options: Partial<CleanupOptions>): Promise<PassReport> {
  const opts = resolveOptions(options);
  const now = opts.now?.() ?? new Date();
  const started = Date.now();
  const api = new CountingApi(deps.api);
  const { log } = deps;
  const sleep = deps.sleep ?? abortableSleep;
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
  const journal = opts.stateDir ? new Journal(opts.stateDir) : undefined;
  const ctx: ExecContext | undefined = journal ? { api, storage: deps.storage, journal, report, log, limit } : undefined;
  if (journal) report.journal.dir = journal.dir;

  const finish = (): PassReport => {
    report.finishedAt = new Date().toISOString();
    report.durationMs = Date.now() - started;
    const s = api.snapshot();
    const acted = opts.dryRun ? report.tasks.planned : report.tasks.deleted;
    report.apiCalls = { ...s, perTask: acted ? s.total / acted : 0 };
    return report;
  };

  log.info('Starting cleanup', { cutoff: cutoff.toISOString(), dryRun: opts.dryRun, forceDelete: opts.forceDelete });

  // 0. What an earlier (killed) pass started is finished before anything new is planned.
  if (!opts.dryRun && journal && ctx) {
    await journal.init();
    const { entries, unreadable } = await journal.list();
    report.journal.unreadable = unreadable;
    for (const f of unreadable) log.error(`Journal entry ${f} cannot be read; move it away after checking it`);
    for (const e of entries) {
      log.info(`Finishing journal entry ${e.id} left by an earlier pass (${e.tasks.length} tasks, ${e.models.length + e.deferred.length} models)`);
      try {
        const left = await executeEntry(ctx, e, { replay: true, finishDeferred: true });
        if (isEmptyEntry(left)) report.journal.replayedEntries++;
      } catch (err) {
        log.error(`Journal entry ${e.id} could not be finished: ${errorMessage(err)}`);
      }
    }
  }

  // 1. Selection, completely, before anything is deleted.
  const rules: Rules = { cutoff, forceDelete: opts.forceDelete, protectedIds: new Set(deps.protectedTaskIds ?? []) };
  let selection;
  try {
    selection = await selectTasks(api, rules);
  } catch (err) {
    report.error = `listing archived tasks failed: ${errorMessage(err)}`;
    log.error(`Cleanup pass ended early: ${report.error}`);
    return finish();
  }
  report.selected = selection.deletable.length + selection.skipped.length;
  for (const s of selection.skipped) addSkipped(report, s);
  log.info(
    `Found ${report.selected} archived tasks older than ${opts.deleteThresholdDays} days: ` +
      `${selection.deletable.length} to delete, ${selection.skipped.length} kept`,
  );

  // 2. Batches.
  const planCtx: PlanContext = {
    api,
    rules,
    passDeletable: new Set(selection.deletable.map((c) => c.id)),
    limit,
    eventState: newScanState(),
    eventTasksPerCall: opts.eventTasksPerCall,
  };
  const batches = chunks(selection.deletable, opts.batchSize);
  let planFailures = 0;
  selection.deletable = [];
  for (let i = 0; i < batches.length; i++) {
    if (deps.signal?.aborted) {
      report.error = 'stopped before the end of the pass';
      log.warn(`Cleanup pass stopped after ${i} of ${batches.length} batches`);
      break;
    }
    if (i > 0) await sleep(opts.pacingMs, deps.signal);
    let plan: BatchPlan;
    try {
      plan = await planBatch(planCtx, batches[i]);
      planFailures = 0;
    } catch (err) {
      // Nothing of this batch was touched: its tasks wait for the next pass. A server that keeps
      // failing ends the pass rather than hammering it batch after batch.
      const why = `planning batch ${i + 1} failed: ${errorMessage(err)}`;
      for (const c of batches[i]) addFailed(report, { id: c.id, name: c.name, status: c.status, reason: why });
      if (++planFailures >= MAX_PLAN_FAILURES) {
        report.error = why;
        log.error(`Cleanup pass ended early: ${why}`);
        break;
      }
      log.warn(`${why}; its ${batches[i].length} tasks wait for the next pass`);
      continue;
    }
    for (const s of plan.skipped) addSkipped(report, s);
    for (const f of plan.failed) addFailed(report, f);
    for (const m of plan.keptModels) addKeptModel(report, m);
    report.models.deferred += plan.deferred.length;
    report.files.keptShared += plan.keptFiles.length;
    await deps.onPlan?.(plan);

    if (opts.dryRun || !ctx || !journal) {
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
      continue;
    }

    if (plan.tasks.length === 0 && plan.deferred.length === 0) continue;
    const entry = entryOf(plan, opts.forceDelete, newEntryId(new Date(), i), now);
    await journal.write(entry);
    log.info(`Deleting ${plan.tasks.length} tasks`, { batch: i + 1, of: batches.length });
    try {
      await executeEntry(ctx, entry, { replay: false, finishDeferred: false });
    } catch (err) {
      // The entry stays in the journal: the end of this pass, or the next one, finishes it.
      log.error(`Batch ${i + 1} did not finish: ${errorMessage(err)}`);
      for (const t of plan.tasks) addFailed(report, { id: t.id, name: t.name, status: t.status, reason: `batch failed: ${errorMessage(err)}` });
    }
  }

  // 3. Models that waited for users later in the pass; anything a failed batch left.
  if (!opts.dryRun && journal && ctx) {
    const { entries } = await journal.list();
    for (const e of entries.filter((x) => x.deferred.length > 0)) {
      try {
        await executeEntry(ctx, e, { replay: true, finishDeferred: true });
      } catch (err) {
        log.warn(`Deferred models of ${e.id} wait for the next pass: ${errorMessage(err)}`);
      }
    }
    report.journal.pendingEntries = (await journal.list()).entries.length;
  }
  return finish();
}
