/**
 * `clearml-cleanup config [--json]`: prints the resolved ClearML configuration with secrets masked and
 * where each value came from, so a user can see which file or variable is in effect.
 */
import type { CommandModule } from 'yargs';
import { ConfigError } from '../config/errors.js';
import { loadConfig, type LoadConfigOptions } from '../config/load.js';
import { describeConfig, maskedConfig } from '../config/mask.js';
import { userErrorLine } from './engine.js';
import { EXIT_OK, EXIT_USAGE } from './exit.js';

export interface ConfigCommandIo extends LoadConfigOptions {
  json?: boolean;
  out?: (text: string) => void;
  err?: (text: string) => void;
}

/** Runs the command and returns its exit code (the yargs handler sets process.exitCode from it). */
export async function runConfigCommand(io: ConfigCommandIo = {}): Promise<number> {
  const out = io.out ?? ((t: string) => process.stdout.write(t));
  const err = io.err ?? ((t: string) => process.stderr.write(t));
  try {
    const cfg = await loadConfig(io);
    out(io.json ? `${JSON.stringify(maskedConfig(cfg), null, 2)}\n` : `${describeConfig(cfg)}\n`);
    return EXIT_OK;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err(userErrorLine(e));
    return EXIT_USAGE;
  }
}

export const configCommand: CommandModule<object, { json: boolean }> = {
  command: 'config',
  describe: 'Print the resolved ClearML configuration (secrets masked) and where each value came from',
  builder: (yargs) =>
    yargs.option('json', { type: 'boolean', default: false, describe: 'print JSON (values, files, sources, origins)' }),
  handler: async (argv) => {
    process.exitCode = await runConfigCommand({ json: argv.json });
  },
};
