#!/usr/bin/env node
/**
 * clearml-cleanup: one yargs entry; each command lives in src/commands/<name>.ts.
 * Exit codes: 0 ok, 1 some deletions failed, 2 bad usage or configuration.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { usageExit } from './commands/exit.js';
import { runCommand } from './commands/run.js';
import { planCommand } from './commands/plan.js';
import { configCommand } from './commands/config.js';
import { seedCommand } from './commands/seed.js';
import { serverCommand } from './commands/server.js';
import { orphansCommand } from './commands/orphans.js';
import { reportCommand } from './commands/report.js';
import { preferSmallHeap } from './commands/heap.js';

preferSmallHeap();

const EPILOG = `Exit codes: 0 ok, 1 some deletions failed, 2 bad usage or configuration.
Docs: README.md in the clearml-cleanup repository.`;

await yargs(hideBin(process.argv))
  .scriptName('clearml-cleanup')
  .usage('$0 <command> [options]\n\nDeletes old archived ClearML tasks together with all their files.')
  // commands are registered here, one line each
  .command(runCommand)
  .command(planCommand)
  .command(configCommand)
  .command(seedCommand)
  .command(serverCommand)
  .command(orphansCommand)
  .command(reportCommand)
  .demandCommand(1, 'Name a command; see --help.')
  .strict()
  .recommendCommands()
  .epilog(EPILOG)
  .wrap(Math.min(110, process.stdout.columns || 110))
  .fail(usageExit)
  .help()
  .parseAsync();
