/**
 * `run --run-as-service true` (the default): the ClearML way.
 * - no task id: register (or update) the "Cleanup Service" task from this git clone, enqueue it on
 *   `--queue` (services), print its id and web URL, exit 0;
 * - CLEARML_TASK_ID set (clearml-agent runs us) or `--task-id`: run as that task (src/task/service).
 * `--run-as-service false` runs the plain local loop (protecting CLEARML_TASK_ID's task if set).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Options } from 'yargs';
import type { ClearMLConfig } from '../config/types.js';
import type { Log } from '../log/index.js';
import {
  CONTAINER_IMAGE,
  DEFAULT_PARAMS,
  DEFAULT_QUEUE,
  enqueueTask,
  findQueue,
  readRepoInfo,
  registerTask,
  runTaskService,
  taskWebUrl,
  TaskSetupError,
  type ServiceParams,
} from '../task/index.js';
import type { Engine } from './engine.js';
import type { OrphanSweepFlags } from './orphans.js';
import type { RetentionArgs } from './retention-flags.js';
import { EXIT_OK, EXIT_USAGE } from './exit.js';

export const serviceOptions = {
  queue: { type: 'string', default: DEFAULT_QUEUE, describe: 'queue the registered task is enqueued on (must exist)' },
  enqueue: { type: 'boolean', default: true, describe: 'false: only register the task (a Draft to clone in the web app)' },
  'task-id': { type: 'string', describe: 'run as this existing ClearML task, without an agent (console and status sent by us)' },
  'repo-dir': { type: 'string', describe: 'git clone recorded as the task\'s code (default: this package\'s directory)' },
  'container-image': {
    type: 'string',
    default: CONTAINER_IMAGE,
    describe: 'docker image a docker-mode agent runs the registered task in (Node.js 20 or newer, Debian-based; editable later in the web app\'s CONTAINER section)',
  },
} satisfies Record<string, Options>;

/** The flags of serviceOptions. */
export interface ServiceFlags {
  queue?: string;
  enqueue?: boolean;
  taskId?: string;
  repoDir?: string;
  containerImage?: string;
}

/** What the service needs of `run`'s arguments (the task's hyperparameters come from them). */
export interface ServiceArgs extends ServiceFlags, OrphanSweepFlags, RetentionArgs {
  deleteThresholdDays: number;
  cleanupPeriodInDays: number;
  forceDelete: boolean;
  deletePublishedModels?: boolean;
  runAsService: boolean;
  dryRun?: boolean;
  once?: boolean;
  concurrency?: number;
  batchSize?: number;
  pacingMs?: number;
  maxRequestsPerSecond?: number;
  stateDir?: string;
}

export type ServiceSetup =
  | {
      action: 'continue';
      /** never deleted by the cleanup (our own task) */
      protectedTaskIds: string[];
      /** called while sleeping between passes (liveness pings) */
      onTick?: () => void | Promise<void>;
      /** after each pass, with its report */
      onPassDone?: (report: unknown) => void | Promise<void>;
      /** when the loop ends */
      onExit?: (code: number) => void | Promise<void>;
      /** fires when the service should stop (e.g. aborted from the UI) */
      stopSignal?: AbortSignal;
    }
  | { action: 'exit'; code: number; message?: string }
  /** the whole run happens here (as a ClearML task); resolves to the exit code */
  | { action: 'task'; run: (signal: AbortSignal) => Promise<number> };

/** The package root: dist/commands/ or src/commands/ sit two levels below it. */
export function packageDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
}

function paramsOf(a: ServiceArgs): ServiceParams {
  return {
    deleteThresholdDays: a.deleteThresholdDays,
    cleanupPeriodInDays: a.cleanupPeriodInDays,
    forceDelete: a.forceDelete,
    deletePublishedModels: a.deletePublishedModels ?? false,
    runAsService: a.runAsService,
    dryRun: a.dryRun ?? false,
    concurrency: a.concurrency ?? 4,
    batchSize: a.batchSize ?? 500,
    pacingMs: a.pacingMs ?? DEFAULT_PARAMS.pacingMs,
    maxRequestsPerSecond: a.maxRequestsPerSecond ?? DEFAULT_PARAMS.maxRequestsPerSecond,
    stateDir: a.stateDir ?? '',
    sweepOrphans: a.sweepOrphans ?? false,
    orphanMinAgeDays: a.orphanMinAgeDays ?? 7,
    orphanFileserverDir: a.fileserverDir ?? '',
    keepTags: a.keepTags ?? '',
    keepLastPerProject: a.keepLastPerProject ?? 0,
    includeProjects: a.includeProjects ?? '',
    excludeProjects: a.excludeProjects ?? '',
    deleteStatuses: a.deleteStatuses ?? '',
    archivedBudgetGbPerProject: a.archivedBudgetGbPerProject ?? 0,
  };
}

export async function prepareRunAsService(engine: Engine | ClearMLConfig, args: ServiceArgs, log: Log): Promise<ServiceSetup> {
  const config = 'config' in engine ? engine.config : engine;
  if (!args.runAsService) return { action: 'continue', protectedTaskIds: config.taskId ? [config.taskId] : [] };
  if (!('config' in engine)) return { action: 'exit', code: EXIT_USAGE, message: 'internal: the task mode needs the engine' };
  const taskId = args.taskId || config.taskId;
  if (taskId) {
    const underAgent = !args.taskId;
    // clearml-agent sets CLEARML_LOG_TASK_TO_BACKEND=0: it ships our stdout itself
    const shipConsole = !underAgent && process.env.CLEARML_LOG_TASK_TO_BACKEND !== '0';
    return {
      action: 'task',
      run: (signal) =>
        runTaskService({
          client: engine.client,
          api: engine.api,
          storage: engine.storage,
          log,
          taskId,
          underAgent,
          shipConsole,
          workerId: config.workerId,
          defaults: paramsOf(args),
          defaultStateDir: engine.stateDir,
          once: args.once,
          signal,
        }),
    };
  }
  try {
    const code = await registerAndEnqueue(engine, args, log);
    return { action: 'exit', code };
  } catch (e) {
    if (e instanceof TaskSetupError) return { action: 'exit', code: EXIT_USAGE, message: e.message };
    throw e;
  }
}

export async function registerAndEnqueue(engine: Engine, args: ServiceArgs, log: Log): Promise<number> {
  const { client, config } = engine;
  const repo = await readRepoInfo(args.repoDir ?? packageDir());
  if (repo.dirty) log.warn('the clone has uncommitted changes: the agent runs the pushed commit, without them');
  if (repo.unpushed) log.warn(`commit ${repo.commit.slice(0, 12)} is on no remote branch: push it, or the agent cannot check it out`);
  const queueName = args.queue ?? DEFAULT_QUEUE;
  const enqueue = args.enqueue !== false;
  const containerImage = checkedImage(args.containerImage);
  // the queue first: a missing queue leaves nothing behind
  const queueId = enqueue ? await findQueue(client, queueName, config.api.apiServer) : undefined;
  const reg = await registerTask(client, { repo, params: paramsOf(args), log, containerImage });
  for (const a of reg.active) {
    if (a.id !== reg.taskId) log.warn(`another Cleanup Service task is already ${a.status === 'queued' ? 'queued' : 'running'}: ${a.id}`);
  }
  const url = config.api.webServer ? taskWebUrl(config.api.webServer, reg.projectId, reg.taskId) : undefined;
  if (queueId) {
    await enqueueTask(client, reg.taskId, queueId);
    log.info(`Enqueued task ${reg.taskId} on queue "${queueName}": a services agent will run it`);
  } else {
    log.info(`Registered task ${reg.taskId} (not enqueued): clone it in the web app, edit its hyperparameters, enqueue it`);
  }
  log.info(`Task id: ${reg.taskId}`);
  if (url) log.info(`Web page: ${url}`);
  return EXIT_OK;
}

/** A docker image reference as docker accepts it: no spaces, not empty (the agent passes it to `docker run`). */
function checkedImage(image: string | undefined): string {
  if (image === undefined) return CONTAINER_IMAGE;
  const v = image.trim();
  if (!v || /\s/.test(v) || !/^[A-Za-z0-9][A-Za-z0-9._\/:@-]*$/.test(v)) {
    throw new TaskSetupError(`--container-image: "${image}" is not a docker image name (e.g. ${CONTAINER_IMAGE} or registry.example.com/node:24)`);
  }
  return v;
}
