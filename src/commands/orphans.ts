/**
 * `clearml-cleanup orphans`: files under the owned storage roots that no task artifact, model,
 * debug image or plot references, older than --min-age-days. Lists them; --delete deletes them in
 * batches through the allow-list, with a journal, like a pass.
 */
import type { CommandModule, Options } from 'yargs';
import { orphanSummary, sweepOrphans, type OrphanReport } from '../cleanup/index.js';
import { s3HostsOf } from '../storage/allow-list.js';
import { commandProgress, commonOptions, documentIo, type CommandIo, openCommandEngine, shown, UsageError, type CommonArgs, type Engine } from './engine.js';
import { EXIT_FAILURES, EXIT_OK, EXIT_USAGE } from './exit.js';

export const orphanOptions = {
  'sweep-orphans': {
    type: 'boolean',
    default: false,
    describe: 'after each pass, delete unreferenced files older than --orphan-min-age-days (see the orphans command)',
  },
  'orphan-min-age-days': { type: 'number', default: 7, describe: 'unreferenced files younger than this are left alone, days' },
  'fileserver-dir': {
    type: 'string',
    describe:
      "the file server's data directory mounted here (e.g. /opt/clearml/data/fileserver): walked instead of asking the " +
      'file server, which cannot list; paths map to api.files_server URLs',
  },
} satisfies Record<string, Options>;

/** The flags of orphanOptions (on `run`). */
export interface OrphanSweepFlags {
  sweepOrphans?: boolean;
  orphanMinAgeDays?: number;
  fileserverDir?: string;
}

export interface OrphansArgs extends CommonArgs {
  root?: string[];
  minAgeDays: number;
  delete: boolean;
  json: boolean;
  fileserverDir?: string;
}

/** The roots a sweep lists: --root, else every allow root in force. */
export function sweepRoots(engine: Engine, roots?: string[]): string[] {
  if (roots?.length) return roots;
  return [...(engine.storage.roots ?? [])];
}

/** A day-count flag: a number >= 0 (a non-number is named as such, not as NaN). */
export function checkDays(n: number, flag: string): void {
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} must be a number of days >= 0, got ${shown(n)}`);
}

/** run --sweep-orphans: the sweep after a pass, on the run's own allow roots. */
export async function sweepAfterPass(
  engine: Engine,
  args: CommonArgs & OrphanSweepFlags & { dryRun?: boolean },
  signal?: AbortSignal,
): Promise<OrphanReport | undefined> {
  const { storage, log } = engine;
  if (!storage.list) return undefined;
  const progress = commandProgress(log, args);
  const r = await sweepOrphans(
    { api: engine.api, storage: { list: storage.list, deleteFiles: storage.deleteFiles, readText: storage.readText }, log, signal, onProgress: progress.onProgress },
    {
      roots: sweepRoots(engine),
      minAgeDays: args.orphanMinAgeDays ?? 7,
      delete: !args.dryRun,
      stateDir: engine.stateDir,
      fileServerDir: args.fileserverDir,
      concurrency: args.concurrency,
      s3Hosts: s3HostsOf(engine.config.storage),
    },
  );
  progress.stop();
  for (const line of orphanSummary(r)) log.info(line);
  return r;
}

export async function runOrphansCommand(args: OrphansArgs, io: CommandIo = {}): Promise<number> {
  const { out, err, log } = documentIo(io, args);
  const engine = await openCommandEngine(args, log, err, () => {
    checkDays(args.minAgeDays, '--min-age-days');
  });
  if (!engine) return EXIT_USAGE;
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const roots = sweepRoots(engine, args.root);
    if (roots.length === 0) {
      err('clearml-cleanup: no storage root to sweep: configure api.files_server or buckets, or pass --root\n');
      return EXIT_USAGE;
    }
    if (!engine.storage.list) throw new Error('internal: storage cannot list');
    for (const r of roots) {
      const v = engine.storage.classify?.(`${r.replace(/\/+$/, '')}/x.probe`);
      if (v && !v.allowed) engine.log.warn(`${r} is outside the allow-list: its orphans are listed but never deleted`);
    }
    const progress = commandProgress(engine.log, args, io.progressStream);
    // Orphans are printed batch by batch as they are handled: their number is not bounded.
    let first = true;
    if (args.json) out('{"orphans":[\n');
    const onOrphans = (items: OrphanReport['orphanList']) => {
      for (const o of items) {
        if (args.json) {
          out(`${first ? '' : ',\n'}${JSON.stringify(o)}`);
          first = false;
        } else {
          out(`${o.status === 'deleted' ? 'deleted' : o.status ?? 'orphan'} ${o.url} ${o.size} bytes, modified ${o.mtime}${o.reason ? ` (${o.reason})` : ''}\n`);
        }
      }
    };
    const report = await sweepOrphans(
      {
        api: engine.api,
        storage: { list: engine.storage.list, deleteFiles: engine.storage.deleteFiles, readText: engine.storage.readText },
        log: engine.log,
        signal: controller.signal,
        onProgress: progress.onProgress,
        onOrphans,
      },
      {
        roots,
        minAgeDays: args.minAgeDays,
        delete: args.delete,
        stateDir: engine.stateDir,
        fileServerDir: args.fileserverDir,
        concurrency: args.concurrency,
        s3Hosts: s3HostsOf(engine.config.storage),
        listCap: 0,
      },
    );
    progress.stop();
    if (args.json) {
      const { orphanList: _streamed, ...rest } = report;
      out(`\n],\n"report":${JSON.stringify(rest)}}\n`);
    } else for (const line of orphanSummary(report)) out(`${line}\n`);
    const failed = !!report.error || report.total.failed > 0 || report.roots.some((r) => r.error);
    return failed ? EXIT_FAILURES : EXIT_OK;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await engine.close();
  }
}

export const orphansCommand: CommandModule<object, OrphansArgs> = {
  command: 'orphans',
  describe: 'List (or --delete) files under the storage roots that nothing on the server references any more',
  builder: (yargs) =>
    yargs
      .options(commonOptions)
      .option('root', {
        type: 'string',
        array: true,
        describe: 'storage root to sweep (repeatable; default: every allow root: files server, configured buckets, --allow-root)',
      })
      .option('min-age-days', { type: 'number', default: 7, describe: 'leave younger files alone (an upload may be in progress)' })
      .option('delete', { type: 'boolean', default: false, describe: 'delete the orphans (default: only list them)' })
      .option('json', { type: 'boolean', default: false, describe: 'print one JSON document on stdout' })
      .option('fileserver-dir', orphanOptions['fileserver-dir'])
      .epilog('Exit codes: 0 ok, 1 some deletions or listings failed, 2 bad usage or configuration.') as never,
  handler: async (argv) => {
    process.exitCode = await runOrphansCommand(argv);
  },
};
