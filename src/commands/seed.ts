/**
 * `clearml-cleanup seed`: fills the configured ClearML server with a realistic, seeded data set
 * (projects, tasks in every status, archived and not, files, models, debug images) to try a
 * cleanup on. Meant for the embedded server or a throw-away test server, never production.
 */
import type { CommandModule } from 'yargs';
import { ClearMLClient } from '../api/client.js';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import type { SeedOptions, SeedPhase } from '../seed/index.js';
import { EXIT_FAILURES, EXIT_OK, EXIT_USAGE } from './exit.js';

interface SeedArgs {
  tasks: number;
  seed: number;
  artifacts?: number;
  models?: number;
  'debug-images'?: number;
  'all-eligible': boolean;
  json: boolean;
  yes?: boolean;
}

/** Seeding writes hundreds of tasks and files: only a local server goes without --yes. */
export function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

export interface SeedCommandIo {
  out?: (text: string) => void;
  err?: (text: string) => void;
  env?: NodeJS.ProcessEnv;
}

export async function runSeedCommand(args: SeedArgs, io: SeedCommandIo = {}): Promise<number> {
  const out = io.out ?? ((t: string) => process.stdout.write(t));
  const err = io.err ?? ((t: string) => process.stderr.write(t));
  for (const [flag, v] of [['tasks', args.tasks], ['seed', args.seed], ['artifacts', args.artifacts], ['models', args.models], ['debug-images', args['debug-images']]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) {
      err(`clearml-cleanup: --${flag} must be a whole number >= 0 (got ${v})\n`);
      return EXIT_USAGE;
    }
  }
  let client: ClearMLClient | undefined;
  try {
    const cfg = await loadConfig({ env: io.env });
    if (!isLoopbackUrl(cfg.api.apiServer) && !args.yes) {
      err(
        `clearml-cleanup: refusing to seed ${cfg.api.apiServer}: it is not a local server. Seeding adds ${args.tasks} tasks ` +
          'with files to it; pass --yes if this is a throw-away test server.\n',
      );
      return EXIT_USAGE;
    }
    client = new ClearMLClient({ api: cfg.api, retries: 3, backoffMaxMs: 5_000 });
    const showProgress = !args.json && process.stderr.isTTY;
    // one status line, rewritten at most every 100 ms: phases overlap (files upload while tasks are created)
    const phases = new Map<SeedPhase, string>();
    let lastDraw = 0;
    const opts: SeedOptions = {
      tasks: args.tasks,
      seed: args.seed,
      artifactsPerTask: args.artifacts,
      modelsPerTask: args.models,
      debugImagesPerTask: args['debug-images'],
      allEligible: args['all-eligible'],
      onWarning: (m) => err(`warning: ${m}\n`),
      onProgress: showProgress
        ? (phase, done, total) => {
            phases.set(phase, `${phase} ${done}/${total}`);
            const now = Date.now();
            if (now - lastDraw < 100 && done !== total) return;
            lastDraw = now;
            err(`\r  ${[...phases.values()].join(', ')}\x1b[K`);
          }
        : undefined,
    };
    if (!cfg.api.filesServer) throw new ConfigError('seed needs the files server: set CLEARML_FILES_HOST or api.files_server');
    if (!args.json) out(`Seeding ${cfg.api.apiServer} (files ${cfg.api.filesServer}) with ${args.tasks} tasks...\n`);
    // the seeding code (and the S3 SDK it may use) loads only for this command, not at CLI start
    const { formatSeedSummary, seedServer } = await import('../seed/index.js');
    const result = await seedServer(client, { apiUrl: cfg.api.apiServer, filesUrl: cfg.api.filesServer }, opts);
    if (showProgress) err('\n');
    out(args.json ? `${JSON.stringify(result.summary, null, 2)}\n` : `${formatSeedSummary(result.summary)}\n`);
    return EXIT_OK;
  } catch (e) {
    const msg = (e as Error).message.replace(/\s*\n\s*/g, ' ');
    err(`clearml-cleanup: seed failed: ${msg}\n`);
    return e instanceof ConfigError ? EXIT_USAGE : EXIT_FAILURES;
  } finally {
    client?.close();
  }
}

export const seedCommand: CommandModule<object, SeedArgs> = {
  command: 'seed',
  describe: 'Fill the configured (test!) ClearML server with a realistic seeded data set to try a cleanup on',
  builder: (yargs) =>
    yargs
      .option('tasks', { type: 'number', default: 120, describe: 'how many tasks' })
      .option('seed', { type: 'number', default: 1, describe: 'PRNG seed: same seed, same data set' })
      .option('artifacts', { type: 'number', describe: 'uploaded artifacts per task (default: 1-4, varied)' })
      .option('models', { type: 'number', describe: 'output models per task (default: 0-2, varied)' })
      .option('debug-images', { type: 'number', describe: 'debug images per task (default: 3-25, some over 100)' })
      .option('all-eligible', { type: 'boolean', default: false, describe: 'every task an old archived Draft (benchmark data set)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the summary as JSON' })
      .option('yes', { type: 'boolean', default: false, describe: 'allow seeding a server that is not on this machine' }),
  handler: async (argv) => {
    process.exitCode = await runSeedCommand(argv);
  },
};
