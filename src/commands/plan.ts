/**
 * `clearml-cleanup plan`: exactly what one pass would delete and why, deleting nothing.
 * --json streams the planned tasks (files, models) then the skipped tasks, kept models and the report.
 */
import type { CommandModule } from 'yargs';
import { runPass, type BatchPlan } from '../cleanup/index.js';
import { commandProgress, commonOptions, documentIo, type CommandIo, openCommandEngine, passOptionsOf, type CommonArgs } from './engine.js';
import { EXIT_FAILURES, EXIT_OK, EXIT_USAGE } from './exit.js';
import { logReport } from './run.js';
import { retentionActive } from '../cleanup/rules/retention.js';

export interface PlanArgs extends CommonArgs {
  json: boolean;
}

function ageDays(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '?' : ((Date.now() - t) / 86_400_000).toFixed(1);
}

export async function runPlanCommand(args: PlanArgs, io: CommandIo = {}): Promise<number> {
  const { out, err, log } = documentIo(io, args);
  const engine = await openCommandEngine(args, log, err);
  if (!engine) return EXIT_USAGE;
  let first = true;
  // with a retention rule set, every line names the rule that decided (at defaults: as before)
  const byRule = retentionActive(passOptionsOf(args).retention);
  const onPlan = (plan: BatchPlan) => {
    for (const t of plan.tasks) {
      if (args.json) {
        out(`${first ? '' : ',\n'}${JSON.stringify({ ...t, verdict: 'delete' })}`);
        first = false;
      } else {
        out(
          `delete ${t.id} ${JSON.stringify(t.name ?? '')} status ${t.status}, archived ${ageDays(t.archivedAt)} days ago ` +
            `(${t.dateField}): ${t.files.length} files, ${t.models.length} models` +
            (byRule && t.rule ? ` [${t.rule}: ${t.reason}]` : '') +
            '\n',
        );
      }
    }
  };
  try {
    if (args.json) out('{"tasks":[\n');
    const progress = commandProgress(engine.log, args, io.progressStream);
    const report = await runPass(
      { api: engine.api, storage: engine.storage, log: engine.log, onPlan, onProgress: progress.onProgress },
      { ...passOptionsOf(args), dryRun: true, listCap: Number.MAX_SAFE_INTEGER },
    );
    progress.stop();
    if (args.json) {
      out(
        `\n],\n"skipped":${JSON.stringify(report.tasks.skippedList.map((s) => ({ ...s, verdict: 'keep' })))},`+
          `\n"byRule":${JSON.stringify(report.rules)},\n"budgets":${JSON.stringify(report.budgets ?? [])},\n"keptModels":${JSON.stringify(report.models.keptList)},\n` +
          `"report":${JSON.stringify(report)}}\n`,
      );
    } else {
      for (const s of report.tasks.skippedList) out(`keep   ${s.id} ${JSON.stringify(s.name ?? '')}: ${s.reason}${byRule && s.rule ? ` [${s.rule}]` : ''}\n`);
      for (const m of report.models.keptList) out(`keep model ${m.id}: ${m.reason}\n`);
      logReport(engine.log, report, args.logFormat);
    }
    return report.error || report.tasks.failed ? EXIT_FAILURES : EXIT_OK;
  } finally {
    await engine.close();
  }
}

export const planCommand: CommandModule<object, PlanArgs> = {
  command: 'plan',
  describe: 'Show exactly what one cleanup pass would delete and why (deletes nothing)',
  builder: (yargs) =>
    yargs
      .options(commonOptions)
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document on stdout' })
      .epilog('Exit codes: 0 ok, 1 some tasks could not be planned, 2 bad usage or configuration.') as never,
  handler: async (argv) => {
    process.exitCode = await runPlanCommand(argv);
  },
};
