/**
 * The cleanup service as a ClearML task (`run` with CLEARML_TASK_ID set by clearml-agent, or
 * `run --task-id` without an agent): hyperparameters read back from the server and validated before
 * every pass (and while sleeping, so an edited period takes effect), a paced loop of passes,
 * scalars per pass, liveness pings, and a graceful stop on Abort through the runtime callback.
 *
 * Under an agent the agent owns the status and the CONSOLE: we only write stdout and choose the exit
 * code (0 completed, 254 stopped, other failed). Without one we ship console lines and set the
 * final status ourselves.
 */
import { abortableSleep, orphanSummary, runPass, summarize, sweepOrphans, type Api, type PassReport, type Storage } from '../cleanup/index.js';
import { errorMessage } from '../cleanup/ports.js';
import type { Log } from '../log/index.js';
import { createProgress } from '../log/progress.js';
import { EXIT_STOPPED, PING_INTERVAL_MS } from './constants.js';
import { ConsoleShipper, teeLog } from './console.js';
import { InvalidParamsError, parseHyperParams, retentionOfParams, type ReadParams, type ServiceParams } from './params.js';
import type { TaskClient } from './register.js';
import { completeAbortCallback, registerAbortCallback } from './runtime.js';
import { orphanScalars, passScalars } from './scalars.js';
import { TaskWatcher } from './watcher.js';

export const EXIT_OK = 0;
export const EXIT_FAILURES = 1;
export const EXIT_INVALID = 2;

export interface TaskServiceDeps {
  client: TaskClient;
  /** the engine's API port (may count calls) and storage */
  api: Api;
  storage: Storage;
  log: Log;
  taskId: string;
  /** clearml-agent runs us: it ships stdout and sets the final status */
  underAgent: boolean;
  /** send console lines as log events (only without an agent) */
  shipConsole: boolean;
  workerId?: string;
  /** used for a parameter missing on the task (the values given on the command line) */
  defaults: ServiceParams;
  /** journal directory when state_dir is empty */
  defaultStateDir: string;
  /** one pass whatever run_as_service says */
  once?: boolean;
  /** SIGINT/SIGTERM */
  signal?: AbortSignal;
  /** status poll period (default 10 s), ping period (60 s), sleep tick (60 s): smaller in tests */
  pollMs?: number;
  pingMs?: number;
  tickMs?: number;
  consoleFlushMs?: number;
  /** abort-callback keys written to runtime */
  abortTimeoutSec?: number;
  abortPollSec?: number;
}

function passFailed(r: PassReport): boolean {
  return !!r.error || r.tasks.failed > 0 || r.models.failed > 0 || r.files.total.failed > 0;
}

function fmtDays(n: number): string {
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}

export async function runTaskService(d: TaskServiceDeps): Promise<number> {
  const { client, taskId } = d;
  const shipper = d.shipConsole
    ? new ConsoleShipper({ client, taskId, worker: d.workerId, flushMs: d.consoleFlushMs, onError: (m) => d.log.warn(m) })
    : undefined;
  const log: Log = shipper ? teeLog(d.log, shipper) : d.log;
  const watcher = new TaskWatcher({ client, taskId, log, pollMs: d.pollMs, pingMs: d.pingMs ?? PING_INTERVAL_MS });
  const stop = new AbortController();
  const onStop = () => stop.abort();
  d.signal?.addEventListener('abort', onStop, { once: true });
  watcher.signal.addEventListener('abort', onStop, { once: true });

  const readParams = async (): Promise<ReadParams> => {
    const r = await client.tasks.getHyperParams({ tasks: [taskId] });
    const items = r.params.find((p) => p.task === taskId)?.hyperparams ?? [];
    return parseHyperParams(items, d.defaults);
  };
  const setStatus = async (status: 'completed' | 'failed' | 'stopped', reason: string) => {
    if (d.underAgent) return;
    try {
      const { tasks } = await client.tasks.getAll({ id: [taskId], only_fields: ['id', 'status'], search_hidden: true });
      if (tasks[0]?.status !== 'in_progress') return; // someone else already decided (UI abort, reset)
      await client.tasks[status]({ task: taskId, force: status === 'stopped', status_reason: reason });
    } catch (e) {
      d.log.warn(`could not mark the task ${status}: ${errorMessage(e)}`);
    }
  };

  let code = EXIT_OK;
  try {
    const { task } = await client.tasks.getById({ task: taskId });
    if (task.status !== 'in_progress') {
      if (!d.underAgent && task.status === 'queued') {
        log.error(`Task ${taskId} is queued: an agent will run it. Dequeue it in the web app to run it here.`);
        return EXIT_INVALID;
      }
      try {
        await client.tasks.started({ task: taskId, force: !d.underAgent, status_reason: 'started by clearml-cleanup' });
      } catch (e) {
        log.warn(`could not mark the task started: ${errorMessage(e)}`);
      }
    }
    await registerAbortCallback(client, taskId, d.abortTimeoutSec, d.abortPollSec);

    let current: ReadParams;
    try {
      current = await readParams();
    } catch (e) {
      if (!(e instanceof InvalidParamsError)) throw e;
      log.error(`Cleanup Service cannot start: ${e.message}. Nothing was deleted; fix the value under CONFIGURATION > HYPERPARAMETERS > General and enqueue the task again.`);
      await setStatus('failed', 'invalid hyperparameters');
      return EXIT_INVALID;
    }
    if (current.missing.length) log.warn(`not set on the task, using the default: ${current.missing.join(', ')}`);
    if (current.unknown.length) log.warn(`ignored (not a parameter of this service): ${current.unknown.map((n) => `General/${n}`).join(', ')}`);
    const p0 = current.params;
    log.info('Cleanup service started', {
      task: taskId,
      delete_threshold_days: p0.deleteThresholdDays,
      cleanup_period_in_days: p0.cleanupPeriodInDays,
      force_delete: p0.forceDelete,
      delete_published_models: p0.deletePublishedModels,
      run_as_service: p0.runAsService,
      dry_run: p0.dryRun,
      ...retentionLogFields(p0),
    });
    watcher.start();

    let iter = typeof task.last_iteration === 'number' && task.last_iteration > 0 ? task.last_iteration : 0;
    let last: PassReport | undefined;
    let pass = 0;
    for (;;) {
      const p = current.params;
      const started = Date.now();
      pass++;
      iter++;
      // the agent's console is no terminal: plain periodic lines
      const progress = createProgress({ mode: 'lines', line: (t) => log.info(t) });
      last = await runPass(
        { api: d.api, storage: d.storage, log, signal: stop.signal, protectedTaskIds: [taskId], onProgress: progress.onProgress },
        {
          deleteThresholdDays: p.deleteThresholdDays,
          forceDelete: p.forceDelete,
          deletePublishedModels: p.deletePublishedModels,
          dryRun: p.dryRun,
          concurrency: p.concurrency,
          batchSize: p.batchSize,
          pacingMs: p.pacingMs,
          maxRequestsPerSecond: p.maxRequestsPerSecond,
          stateDir: p.stateDir || d.defaultStateDir,
          retention: retentionOfParams(p),
        },
      );
      progress.stop();
      for (const line of summarize(last)) log.info(line);
      try {
        const r = await client.events.addBatch(passScalars(taskId, iter, last));
        if (r.errors) log.warn(`${r.errors} scalar points of pass ${pass} were refused by the server`);
      } catch (e) {
        log.warn(`could not report the scalars of pass ${pass}: ${errorMessage(e)}`);
      }
      if (p.sweepOrphans && !stop.signal.aborted) await sweepAfterPass(d, log, p, iter, stop.signal);
      await watcher.ping();
      if (d.once || !p.runAsService || stop.signal.aborted) break;

      // Sleep what is left of the period, reading the parameters again every tick.
      let period = p.cleanupPeriodInDays;
      log.info(`going to sleep for ${fmtDays(period)} days`);
      let invalid: InvalidParamsError | undefined;
      for (;;) {
        const left = started + period * 86_400_000 - Date.now();
        if (left <= 0 || stop.signal.aborted) break;
        await abortableSleep(Math.min(left, d.tickMs ?? 60_000), stop.signal);
        if (stop.signal.aborted) break;
        try {
          current = await readParams();
        } catch (e) {
          if (e instanceof InvalidParamsError) {
            invalid = e;
            break;
          }
          log.warn(`could not read the hyperparameters (keeping the current ones): ${errorMessage(e)}`);
          continue;
        }
        if (current.params.cleanupPeriodInDays !== period) {
          log.info(`cleanup_period_in_days changed from ${fmtDays(period)} to ${fmtDays(current.params.cleanupPeriodInDays)}`);
          period = current.params.cleanupPeriodInDays;
        }
      }
      if (stop.signal.aborted) break;
      if (!invalid) {
        try {
          current = await readParams();
        } catch (e) {
          if (e instanceof InvalidParamsError) invalid = e;
          else log.warn(`could not read the hyperparameters (keeping the current ones): ${errorMessage(e)}`);
        }
      }
      if (invalid) {
        log.error(`Cleanup Service stopped: ${invalid.message}. No further pass runs; fix the value and enqueue the task again.`);
        await setStatus('failed', 'invalid hyperparameters');
        return EXIT_INVALID;
      }
    }

    await watcher.stop();
    if (watcher.reason === 'abort') {
      log.info('Cleanup Service stopped by an Abort from the web app (the current batch was finished)');
      code = EXIT_STOPPED;
      try {
        await completeAbortCallback(client, taskId);
      } catch (e) {
        log.warn(`could not tell the agent the abort is complete: ${errorMessage(e)}`);
      }
      await setStatus('stopped', 'aborted from the web app');
    } else if (watcher.reason === 'status') {
      log.info(`Cleanup Service stopped: ${watcher.detail}`);
      code = EXIT_STOPPED;
    } else if (d.signal?.aborted) {
      log.info('Cleanup Service stopped by a signal (the current batch was finished)');
      code = EXIT_STOPPED;
      await setStatus('stopped', 'stopped by a signal');
    } else {
      code = last && passFailed(last) ? EXIT_FAILURES : EXIT_OK;
      await setStatus(code === EXIT_OK ? 'completed' : 'failed', code === EXIT_OK ? 'completed' : 'some deletions failed');
    }
    return code;
  } catch (e) {
    log.error(`Cleanup Service failed: ${errorMessage(e)}`);
    await setStatus('failed', errorMessage(e).slice(0, 200));
    return EXIT_FAILURES;
  } finally {
    await watcher.stop();
    d.signal?.removeEventListener('abort', onStop);
    await shipper?.flush();
  }
}

/** sweep_orphans: the orphan sweep after a pass, its summary in the console and its scalars. */
async function sweepAfterPass(d: TaskServiceDeps, log: Log, p: ServiceParams, iter: number, signal: AbortSignal): Promise<void> {
  const storage = d.storage;
  if (!storage.list || !storage.roots) {
    log.warn('sweep_orphans is on but this storage cannot list its files; no sweep');
    return;
  }
  try {
    const r = await sweepOrphans(
      { api: d.api, storage: { list: storage.list.bind(storage), deleteFiles: (u) => storage.deleteFiles(u), readText: storage.readText?.bind(storage) }, log, signal },
      {
        roots: [...storage.roots],
        minAgeDays: p.orphanMinAgeDays,
        delete: !p.dryRun,
        stateDir: p.stateDir || d.defaultStateDir,
        fileServerDir: p.orphanFileserverDir || undefined,
        concurrency: p.concurrency,
        s3Hosts: storage.referenceHints?.s3Hosts,
        fileServerPaths: storage.referenceHints?.fileServerPaths,
      },
    );
    for (const line of orphanSummary(r)) log.info(line);
    await d.client.events.addBatch(orphanScalars(d.taskId, iter, r));
  } catch (e) {
    log.warn(`orphan sweep failed: ${errorMessage(e)}`);
  }
}

/** The retention parameters away from their defaults, for the start line. */
function retentionLogFields(p: ServiceParams): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (p.keepTags.trim()) out.keep_tags = p.keepTags;
  if (p.keepLastPerProject) out.keep_last_per_project = p.keepLastPerProject;
  if (p.includeProjects.trim()) out.include_projects = p.includeProjects;
  if (p.excludeProjects.trim()) out.exclude_projects = p.excludeProjects;
  if (p.deleteStatuses.trim()) out.delete_statuses = p.deleteStatuses;
  if (p.archivedBudgetGbPerProject) out.archived_budget_gb_per_project = p.archivedBudgetGbPerProject;
  return out;
}
