/**
 * `clearml-cleanup run`: the cleanup service. Loops forever (one pass with --once): a pass, a
 * summary, `going to sleep for X days`, sleep. SIGINT/SIGTERM stop it between batches; a second
 * signal exits at once (the journal makes that safe).
 */
import type { CommandModule } from 'yargs';
import { runLoop, runPass, summarize, type PassReport } from '../cleanup/index.js';
import type { Log } from '../log/index.js';
import { commandProgress, commonOptions, openCommandEngine, passOptionsOf, shown, UsageError, type CommonArgs } from './engine.js';
import { EXIT_FAILURES, EXIT_OK, EXIT_USAGE } from './exit.js';
import { prepareRunAsService, serviceOptions, type ServiceFlags } from './run-as-service.js';
import { orphanOptions, sweepAfterPass, type OrphanSweepFlags } from './orphans.js';

/** The flags of --run-as-service true are ServiceFlags: see run-as-service.ts. */
export interface RunArgs extends CommonArgs, OrphanSweepFlags, ServiceFlags {
  cleanupPeriodInDays: number;
  runAsService: boolean;
  once: boolean;
  dryRun: boolean;
}

export interface RunIo {
  /** a logger instead of the console one (tests) */
  log?: Log;
  /** stop from outside instead of SIGINT/SIGTERM (tests) */
  signal?: AbortSignal;
  err?: (text: string) => void;
}

/** Python prints floats with a decimal point; so do we, for the same console lines. */
export function pyFloat(n: number): string {
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}

export function passFailed(r: PassReport): boolean {
  return !!r.error || r.tasks.failed > 0 || r.models.failed > 0 || r.files.total.failed > 0;
}

export function logReport(log: Log, r: PassReport, format: string): void {
  if (format === 'json') log.info('Cleanup pass finished', { report: r });
  else for (const line of summarize(r)) log.info(line);
}

export async function runRunCommand(args: RunArgs, io: RunIo = {}): Promise<number> {
  const err = io.err ?? ((t: string) => process.stderr.write(t));
  const engine = await openCommandEngine(args, io.log, err, () => {
    if (!Number.isFinite(args.cleanupPeriodInDays) || args.cleanupPeriodInDays <= 0) {
      throw new UsageError(`--cleanup-period-in-days must be a number of days > 0, got ${shown(args.cleanupPeriodInDays)}`);
    }
  });
  if (!engine) return EXIT_USAGE;
  const { log } = engine;
  const controller = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130);
    log.warn(`${sig} received: stopping after the current batch (send it again to stop now)`);
    controller.abort();
  };
  if (io.signal) io.signal.addEventListener('abort', () => controller.abort(), { once: true });
  else {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    const setup = await prepareRunAsService(engine, args, log);
    if (setup.action === 'exit') {
      if (setup.message) err(`clearml-cleanup: ${setup.message}\n`);
      return setup.code;
    }
    if (setup.action === 'task') return await setup.run(controller.signal);
    setup.stopSignal?.addEventListener('abort', () => controller.abort(), { once: true });
    log.info('Cleanup service started', {
      deleteThresholdDays: args.deleteThresholdDays,
      cleanupPeriodInDays: args.cleanupPeriodInDays,
      forceDelete: args.forceDelete,
      dryRun: args.dryRun,
      stateDir: engine.stateDir,
    });
    let failedPasses = 0;
    const last = await runLoop<PassReport>({
      once: args.once,
      periodDays: args.cleanupPeriodInDays,
      signal: controller.signal,
      onTick: setup.onTick,
      runPass: async () => {
        const progress = commandProgress(log, args);
        const r = await runPass(
          {
            api: engine.api,
            storage: engine.storage,
            log,
            signal: controller.signal,
            protectedTaskIds: setup.protectedTaskIds,
            onProgress: progress.onProgress,
          },
          { ...passOptionsOf(args), dryRun: args.dryRun, stateDir: engine.stateDir },
        );
        progress.stop();
        if (passFailed(r)) failedPasses++;
        logReport(log, r, args.logFormat);
        if (args.sweepOrphans && !controller.signal.aborted) await sweepAfterPass(engine, args, controller.signal);
        await setup.onPassDone?.(r);
        return r;
      },
      onPassDone: () => log.info(`going to sleep for ${pyFloat(args.cleanupPeriodInDays)} days`),
      onPassError: (e) => log.error(`Cleanup pass failed: ${e instanceof Error ? e.message : String(e)}`),
    });
    const code = last && passFailed(last) ? EXIT_FAILURES : last || failedPasses === 0 ? EXIT_OK : EXIT_FAILURES;
    await setup.onExit?.(code);
    return code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await engine.close();
  }
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run',
  describe: 'Run the cleanup service: delete old archived tasks with their files, every period (or once)',
  builder: (yargs) =>
    yargs
      .options(commonOptions)
      .options(serviceOptions)
      .option('cleanup-period-in-days', { type: 'number', default: 1, describe: 'time between passes, days (fractions allowed)' })
      .option('run-as-service', {
        type: 'boolean',
        default: true,
        describe:
          'true: register this clone as the ClearML task "Cleanup Service" and enqueue it (under clearml-agent: run as ' +
          'that task, exit 254 when aborted); false: run the loop here',
      })
      .option('once', { type: 'boolean', default: false, describe: 'one pass, then exit' })
      .options(orphanOptions)
      .option('dry-run', { type: 'boolean', default: false, describe: 'report what a pass would delete; delete nothing' })
      .epilog('Exit codes: 0 ok, 1 some deletions failed, 2 bad usage or configuration.') as never,
  handler: async (argv) => {
    process.exitCode = await runRunCommand(argv);
  },
};
