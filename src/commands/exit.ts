/** Exit codes shared by every command (documented in --help). */
export const EXIT_OK = 0;
export const EXIT_FAILURES = 1;
export const EXIT_USAGE = 2;

/** yargs .fail() handler: a usage error is exit 2 with one clear line, never a stack trace. */
export function usageExit(msg: string | null, err: Error | undefined): never {
  const text = msg ?? err?.message ?? 'unknown error';
  process.stderr.write(`clearml-cleanup: ${text}\nRun with --help for usage.\n`);
  process.exit(EXIT_USAGE);
}
