/**
 * Commands run in-process (runRunCommand, runReportCommand, ...): they find their server through the
 * CLEARML_* variables, as the CLI does; and the flags of a plain `run --once`.
 */
import type { RunArgs } from '../../src/commands/run.js';

export interface ServerAddress {
  apiUrl: string;
  filesUrl: string;
  accessKey: string;
  secretKey: string;
}

/**
 * The variables that point a command at `server`: the API (also as web host), the files host, the
 * keys, a HOME without clearml.conf, and no CLEARML_CONFIG_FILE or CLEARML_TASK_ID (undefined: unset).
 */
export function clearmlEnvFor(server: ServerAddress, home: string): Record<string, string | undefined> {
  return {
    CLEARML_API_HOST: server.apiUrl,
    CLEARML_WEB_HOST: server.apiUrl,
    CLEARML_FILES_HOST: server.filesUrl,
    CLEARML_API_ACCESS_KEY: server.accessKey,
    CLEARML_API_SECRET_KEY: server.secretKey,
    CLEARML_CONFIG_FILE: undefined,
    CLEARML_TASK_ID: undefined,
    HOME: home,
  };
}

function setVars(vars: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

/** Sets (undefined: unsets) these variables of process.env; returns what puts back the values they had. */
export function applyEnv(vars: Record<string, string | undefined>): () => void {
  const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  setVars(vars);
  return () => setVars(before);
}

/** `run --once --run-as-service false` with the flags' defaults, no pacing, journal in `stateDir`. */
export function runOnceArgs(stateDir: string): RunArgs {
  return {
    deleteThresholdDays: 30,
    forceDelete: false,
    concurrency: 4,
    batchSize: 500,
    pacingMs: 0,
    logFormat: 'text',
    stateDir,
    cleanupPeriodInDays: 1,
    runAsService: false,
    once: true,
    dryRun: false,
  };
}
