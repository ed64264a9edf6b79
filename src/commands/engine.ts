/**
 * Wiring shared by the engine commands (run, plan, report, orphans): configuration -> API client +
 * storage + logger -> engine ports, and what each of them does on the way in and out.
 */
import type { Options } from 'yargs';
import { ClearMLClient } from '../api/index.js';
import { loadConfig } from '../config/index.js';
import { ConfigError } from '../config/errors.js';
import type { ClearMLConfig } from '../config/types.js';
import { s3HostsOf } from '../storage/allow-list.js';
import { createStorage, storageContextFromConfig, type Storage as RealStorage } from '../storage/index.js';
import type { Api, CleanupOptions, Storage } from '../cleanup/index.js';
import { defaultStateDir } from '../cleanup/index.js';
import { DEFAULT_MAX_REQUESTS_PER_SECOND } from '../cleanup/options.js';
import { createLogger, type Log, type LogFormat } from '../log/index.js';
import { createProgress, type Progress, type ProgressStream } from '../log/progress.js';
import { retentionOfArgs, retentionOptions, type RetentionArgs } from './retention-flags.js';

export const commonOptions = {
  'delete-threshold-days': {
    type: 'number',
    default: 30,
    describe: 'delete archived tasks whose archive time is older than this many days (fractions allowed)',
  },
  'force-delete': {
    type: 'boolean',
    default: false,
    describe: 'false: delete only Draft tasks; true: any status, published included',
  },
  'delete-published-models': {
    type: 'boolean',
    default: false,
    describe: 'with --force-delete: delete published output models with their task (default: they stay)',
  },
  concurrency: { type: 'number', default: 4, describe: 'API read calls in flight at once (be gentle with a shared server)' },
  'batch-size': { type: 'number', default: 500, describe: 'tasks per batch (max 500)' },
  'max-requests-per-second': {
    type: 'number',
    default: DEFAULT_MAX_REQUESTS_PER_SECOND,
    describe:
      'API requests per second a pass may send at most (token bucket, bursts of 20; 0: no limit). ' +
      'The default is about what ClearML\'s own cleanup service sends; file-server requests are not counted',
  },
  'pacing-ms': { type: 'number', default: 0, describe: 'deprecated: pause between batches, ms (use --max-requests-per-second)' },
  'allow-root': {
    type: 'string',
    array: true,
    describe: 'extra storage root files may be deleted under (s3://bucket/prefix, https://files.host, file:///path)',
  },
  'config-file': { type: 'string', describe: 'read this clearml.conf alone' },
  'request-timeout-ms': { type: 'number', default: 120_000, describe: 'give up on one API request after this many ms (then retried)' },
  retries: { type: 'number', default: 6, describe: 'repeats of an API request after a connection error, timeout or 5xx' },
  'log-format': { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'console log format' },
  'state-dir': {
    type: 'string',
    describe: `journal directory (default $XDG_STATE_HOME/clearml-cleanup or ~/.clearml-cleanup/state)`,
  },
  ...retentionOptions,
} satisfies Record<string, Options>;

export interface CommonArgs extends RetentionArgs {
  deleteThresholdDays: number;
  forceDelete: boolean;
  deletePublishedModels?: boolean;
  concurrency: number;
  batchSize: number;
  pacingMs: number;
  /** undefined: the default rate */
  maxRequestsPerSecond?: number;
  allowRoot?: string[];
  configFile?: string;
  requestTimeoutMs?: number;
  retries?: number;
  logFormat: LogFormat;
  stateDir?: string;
}

/** Above this a limit means nothing for one client; 0 says "no limit" instead. */
export const MAX_REQUESTS_PER_SECOND = 10_000;

/** A usage problem: one line, exit 2. */
export class UsageError extends Error {}

/** yargs has already turned a non-number into NaN: say so instead of printing "NaN". */
export function shown(n: number | undefined): string {
  return Number.isNaN(n) ? 'a value that is not a number' : String(n);
}

export function validateCommon(a: CommonArgs): void {
  if (!Number.isFinite(a.deleteThresholdDays) || a.deleteThresholdDays < 0) {
    throw new UsageError(`--delete-threshold-days must be a number of days >= 0, got ${shown(a.deleteThresholdDays)}`);
  }
  if (a.deletePublishedModels && !a.forceDelete) {
    throw new UsageError('--delete-published-models needs --force-delete (without it no task with a published model is deleted)');
  }
  if (!Number.isInteger(a.concurrency) || a.concurrency < 1 || a.concurrency > 64) {
    throw new UsageError(`--concurrency must be an integer from 1 to 64, got ${shown(a.concurrency)}`);
  }
  if (!Number.isInteger(a.batchSize) || a.batchSize < 1 || a.batchSize > 500) {
    throw new UsageError(`--batch-size must be an integer from 1 to 500, got ${shown(a.batchSize)}`);
  }
  if (!Number.isFinite(a.pacingMs) || a.pacingMs < 0) throw new UsageError(`--pacing-ms must be >= 0, got ${shown(a.pacingMs)}`);
  const rps = a.maxRequestsPerSecond;
  if (rps !== undefined && (!Number.isFinite(rps) || rps < 0 || rps > MAX_REQUESTS_PER_SECOND)) {
    throw new UsageError(`--max-requests-per-second must be a number from 0 (no limit) to ${MAX_REQUESTS_PER_SECOND}, got ${shown(rps)}`);
  }
  if (a.requestTimeoutMs !== undefined && (!Number.isFinite(a.requestTimeoutMs) || a.requestTimeoutMs < 100)) {
    throw new UsageError(`--request-timeout-ms must be a number of ms >= 100, got ${shown(a.requestTimeoutMs)}`);
  }
  if (a.retries !== undefined && (!Number.isInteger(a.retries) || a.retries < 0 || a.retries > 20)) {
    throw new UsageError(`--retries must be an integer from 0 to 20, got ${shown(a.retries)}`);
  }
  retentionOf(a);
}

/** The retention rules of the flags; a bad value is a UsageError naming the flag. */
export function retentionOf(a: RetentionArgs) {
  return retentionOfArgs(a, (flag, value, problem) =>
    new UsageError(typeof value === 'number' ? `${flag} ${problem}, got ${shown(value)}` : `${flag} ${problem}`),
  );
}

export interface Engine {
  config: ClearMLConfig;
  client: ClearMLClient;
  api: Api;
  storage: Storage;
  log: Log;
  stateDir: string;
  close(): Promise<void>;
}

function newClient(config: ClearMLConfig, a: CommonArgs, log: Log): ClearMLClient {
  return new ClearMLClient({
    api: config.api,
    workerId: config.workerId,
    logger: log,
    ...(a.requestTimeoutMs !== undefined ? { timeoutMs: a.requestTimeoutMs } : {}),
    ...(a.retries !== undefined ? { retries: a.retries } : {}),
  });
}

export async function openEngine(a: CommonArgs, logOverride?: Log): Promise<Engine> {
  const config = await loadConfig({ configFile: a.configFile });
  const log = logOverride ?? createLogger({ format: a.logFormat, level: config.logLevel });
  for (const w of config.warnings ?? []) log.warn(w);
  let client: ClearMLClient;
  try {
    client = newClient(config, a, log);
  } catch (err) {
    // e.g. an unreadable CA bundle: the user's to fix, one line
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
  let real: RealStorage;
  try {
    real = createStorage(
      storageContextFromConfig(config, { allowRoots: a.allowRoot, getToken: () => client.getToken(), log, concurrency: a.concurrency }),
    );
  } catch (err) {
    client.close();
    throw new ConfigError(err instanceof Error ? err.message : String(err));
  }
  const storage: Storage = {
    deleteFiles: (urls) => real.deleteFiles(urls),
    deleteFolders: (urls) => real.deleteFolders(urls),
    classify: (url) => {
      const c = real.classify(url);
      return { backend: c.backend, allowed: c.allowed, reason: c.refusal ? `${c.refusal.reason}: ${c.refusal.detail}` : undefined };
    },
    list: (root, opts) => real.list(root, opts),
    readText: (url, maxBytes) => real.readText(url, maxBytes),
    roots: real.roots,
    referenceHints: { s3Hosts: s3HostsOf(config.storage), fileServerPaths: config.api.filesServer ? [config.api.filesServer] : [] },
  };
  return {
    config,
    client,
    api: client,
    storage,
    log,
    stateDir: a.stateDir ?? defaultStateDir(),
    close: async () => {
      real.close();
      client.close();
      if (!logOverride) await log.close();
    },
  };
}

/** The one line a user sees for a problem they can fix; never a stack trace. */
export function isUserError(err: unknown): err is Error {
  return err instanceof UsageError || err instanceof ConfigError;
}

/** That line as printed: the message folded onto one line. */
export function userErrorLine(err: Error): string {
  return `clearml-cleanup: ${err.message.replace(/\s*\n\s*/g, ' ')}\n`;
}

/**
 * The start of every engine command: the common checks, the command's own (`check`), then the
 * engine. A problem the user can fix is written to `err` as one line and gives undefined (exit 2).
 */
export async function openCommandEngine(
  a: CommonArgs,
  log: Log | undefined,
  err: (text: string) => void,
  check?: () => void,
): Promise<Engine | undefined> {
  try {
    validateCommon(a);
    check?.();
    return await openEngine(a, log);
  } catch (e) {
    if (!isUserError(e)) throw e;
    err(userErrorLine(e));
    return undefined;
  }
}

/** Where an engine command writes: stdout, stderr and the console log unless given (tests). */
export interface CommandIo {
  log?: Log;
  out?: (text: string) => void;
  err?: (text: string) => void;
  /** where the progress bar goes (tests pass a fake TTY) */
  progressStream?: ProgressStream;
}

/**
 * The writers of a command that can print a --json document: with --json, stdout carries the
 * document alone, so the log goes to stderr (undefined log: openEngine's console logger).
 */
export function documentIo(io: CommandIo, a: { json: boolean; logFormat: LogFormat }): {
  out: (text: string) => void;
  err: (text: string) => void;
  log: Log | undefined;
} {
  return {
    out: io.out ?? ((t) => void process.stdout.write(t)),
    err: io.err ?? ((t) => void process.stderr.write(t)),
    log: io.log ?? (a.json ? createLogger({ format: a.logFormat, stream: process.stderr }) : undefined),
  };
}

/** Progress of a command: a bar on a terminal, or lines through the log (always with --log-format json). */
export function commandProgress(log: Log, a: Pick<CommonArgs, 'logFormat'>, stream?: ProgressStream): Progress {
  return createProgress({ stream, line: (t) => log.info(t), mode: a.logFormat === 'json' ? 'lines' : undefined });
}

/** The pass options the common flags set. */
export function passOptionsOf(
  a: CommonArgs,
): Pick<CleanupOptions, 'deleteThresholdDays' | 'forceDelete' | 'deletePublishedModels' | 'concurrency' | 'batchSize' | 'pacingMs' | 'retention'> &
  Partial<Pick<CleanupOptions, 'maxRequestsPerSecond'>> {
  return {
    retention: retentionOf(a),
    deleteThresholdDays: a.deleteThresholdDays,
    forceDelete: a.forceDelete,
    deletePublishedModels: a.deletePublishedModels ?? false,
    concurrency: a.concurrency,
    batchSize: a.batchSize,
    pacingMs: a.pacingMs,
    maxRequestsPerSecond: a.maxRequestsPerSecond,
  };
}
