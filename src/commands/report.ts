/**
 * `clearml-cleanup report`: where the storage goes. Bytes and files per project (or the top tasks),
 * how much is archived, how much the next pass would free, how much is orphaned. A table on the
 * terminal; run as a ClearML task (CLEARML_TASK_ID set by clearml-agent, or --task-id), the same
 * figures also become the task's scalars, and the table lands in its CONSOLE.
 */
import type { CommandModule } from 'yargs';
import { storageUsage, usageTable, type UsageReport } from '../cleanup/index.js';
import { s3HostsOf } from '../storage/allow-list.js';
import { usageScalars } from '../task/scalars.js';
import { commandProgress, commonOptions, documentIo, type CommandIo, openCommandEngine, passOptionsOf, shown, UsageError, type CommonArgs, type Engine } from './engine.js';
import { EXIT_FAILURES, EXIT_OK, EXIT_USAGE } from './exit.js';
import { checkDays, orphanOptions, sweepRoots } from './orphans.js';

export interface ReportArgs extends CommonArgs {
  json: boolean;
  by: 'project' | 'task';
  top: number;
  root?: string[];
  minAgeDays: number;
  fileserverDir?: string;
  /** post the figures as scalars of this task (default CLEARML_TASK_ID under clearml-agent) */
  taskId?: string;
}

async function postScalars(engine: Engine, taskId: string, r: UsageReport): Promise<void> {
  const { tasks } = await engine.client.tasks.getAll({ id: [taskId], only_fields: ['id', 'last_iteration'], search_hidden: true });
  const last = (tasks[0] as { last_iteration?: number } | undefined)?.last_iteration;
  const iter = typeof last === 'number' && last >= 0 ? last + 1 : 0;
  await engine.client.events.addBatch(usageScalars(taskId, iter, r));
}

export async function runReportCommand(args: ReportArgs, io: CommandIo = {}): Promise<number> {
  const { out, err, log } = documentIo(io, args);
  const engine = await openCommandEngine(args, log, err, () => {
    checkDays(args.minAgeDays, '--min-age-days');
    if (!Number.isInteger(args.top) || args.top < 0) throw new UsageError(`--top must be a whole number >= 0, got ${shown(args.top)}`);
  });
  if (!engine) return EXIT_USAGE;
  try {
    if (!engine.storage.list) throw new Error('internal: storage cannot list');
    const progress = commandProgress(engine.log, args, io.progressStream);
    const report = await storageUsage(
      { api: engine.api, storage: { ...engine.storage, list: engine.storage.list }, log: engine.log, onProgress: progress.onProgress },
      {
        roots: sweepRoots(engine, args.root),
        minAgeDays: args.minAgeDays,
        fileServerDir: args.fileserverDir,
        s3Hosts: s3HostsOf(engine.config.storage),
        top: args.top,
        concurrency: args.concurrency,
        pass: { ...passOptionsOf(args), pacingMs: 0 },
      },
    );
    progress.stop();
    if (args.json) out(`${JSON.stringify(report)}\n`);
    else for (const line of usageTable(report, args.by)) out(`${line}\n`);
    const taskId = args.taskId || engine.config.taskId;
    if (taskId) {
      try {
        await postScalars(engine, taskId, report);
      } catch (e) {
        engine.log.warn(`could not report the scalars to task ${taskId}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return report.rootErrors.length || report.nextPass.error ? EXIT_FAILURES : EXIT_OK;
  } finally {
    await engine.close();
  }
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report',
  describe: 'Where the storage goes: bytes per project or task, archived, freed by the next pass, orphaned (deletes nothing)',
  builder: (yargs) =>
    yargs
      .options(commonOptions)
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document on stdout' })
      .option('by', { choices: ['project', 'task'] as const, default: 'project' as const, describe: 'table rows: projects, or the top tasks' })
      .option('top', { type: 'number', default: 10, describe: 'tasks kept in the top-tasks list' })
      .option('root', { type: 'string', array: true, describe: 'storage root to list (repeatable; default: every allow root)' })
      .option('min-age-days', { type: 'number', default: 7, describe: 'unreferenced files older than this count as orphaned' })
      .option('fileserver-dir', orphanOptions['fileserver-dir'])
      .option('task-id', { type: 'string', describe: 'also post the figures as scalars of this task (default: CLEARML_TASK_ID under clearml-agent)' })
      .epilog('Exit codes: 0 ok, 1 a root could not be listed or the next pass not planned, 2 bad usage or configuration.') as never,
  handler: async (argv) => {
    process.exitCode = await runReportCommand(argv);
  },
};
