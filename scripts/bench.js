#!/usr/bin/env node
/**
 * `npm run bench -- [--tasks 2000] [--artifacts 5] [--models 2] [--debug-images 20] [--latency-ms 5]
 *                   [--only ours|official] [--ours-node-options OPTS] [--json FILE]`
 * Seeds the same data set on two embedded servers (at 0 ms latency), then runs one full cleanup pass
 * on each at --latency-ms, each in its own child process: ours (the real CLI, defaults) and a MODEL of
 * the official cleanup_service.py request pattern (src/bench/official-model.ts, not the script).
 * Prints a table; --json writes {speedup, params, ours, official}. Run `npm run build` first (npm run bench does).
 */
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
if (!existsSync(path.join(dist, 'bench', 'run-bench.js'))) {
  process.stderr.write('bench: dist/ is missing; run `npm run build` first (or `npm run bench`, which builds)\n');
  process.exit(2);
}
const { runBench, formatReport } = await import(path.join(dist, 'bench', 'run-bench.js'));
const { runningChildren } = await import(path.join(dist, 'bench', 'children.js'));

const positive = (name) => (v) => {
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a whole number >= 0, got ${v}`);
  return v;
};
const argv = yargs(hideBin(process.argv))
  .scriptName('npm run bench --')
  .option('tasks', { type: 'number', default: 2000, describe: 'tasks per copy', coerce: positive('tasks') })
  .option('artifacts', { type: 'number', default: 5, describe: 'uploaded artifacts per task', coerce: positive('artifacts') })
  .option('models', { type: 'number', default: 2, describe: 'output models (one file each) per task', coerce: positive('models') })
  .option('debug-images', { type: 'number', default: 20, describe: 'debug images per task', coerce: positive('debug-images') })
  .option('latency-ms', { type: 'number', default: 5, describe: 'delay of every API and file-server request during the cleanup runs' })
  .option('only', { choices: ['ours', 'official'], describe: 'run one side only (e.g. the 20,000-task memory run)' })
  .option('ours-node-options', { type: 'string', describe: 'NODE_OPTIONS for our side only, e.g. "--max-old-space-size=64" (default: none)' })
  .option('sweep-latencies', {
    type: 'string', default: '0,5,20',
    describe: 'latencies (ms, comma-separated) at which both sides run again for the speedup sweep; "" skips the sweep',
  })
  .option('sweep-official-tasks', {
    type: 'number', default: 100, coerce: positive('sweep-official-tasks'),
    describe: 'tasks the official model deletes at each extra sweep latency (its cost is per task; 20 ms x 2,000 tasks would take 25 min)',
  })
  .option('official-tasks', {
    type: 'number', coerce: (v) => (v === undefined ? v : positive('official-tasks')(v)),
    describe: 'stop the official model\'s main run after this many tasks (its rate is per task; for a loaded machine). Default: all',
  })
  .option('data-dir', {
    type: 'string',
    describe: 'folder for the servers\' data (default: the system temporary folder). The bench prints how long one file delete takes there: on a slow disk both sides are bound by it',
  })
  .option('seed', { type: 'number', default: 1, describe: 'PRNG seed of the data set' })
  .option('json', { type: 'string', describe: 'write the results as JSON to this file' })
  .strict()
  .fail((msg, err) => {
    process.stderr.write(`bench: ${msg ?? err?.message}\n`);
    process.exit(2);
  })
  .parseSync();
if (!Number.isFinite(argv['latency-ms']) || argv['latency-ms'] < 0) {
  process.stderr.write(`bench: --latency-ms must be >= 0\n`);
  process.exit(2);
}
const sweep = argv['sweep-latencies'].trim() === '' ? [] : argv['sweep-latencies'].split(',').map((v) => Number(v.trim()));
if (sweep.some((v) => !Number.isFinite(v) || v < 0)) {
  process.stderr.write(`bench: --sweep-latencies must be numbers >= 0 separated by commas, got ${argv['sweep-latencies']}\n`);
  process.exit(2);
}
if (argv['sweep-official-tasks'] < 1) {
  process.stderr.write(`bench: --sweep-official-tasks must be >= 1\n`);
  process.exit(2);
}
if (argv.tasks < 1) {
  process.stderr.write(`bench: --tasks must be >= 1\n`);
  process.exit(2);
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    for (const pid of runningChildren) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    process.exit(130);
  });
}

const say = (s) => process.stdout.write(`${s}\n`);
try {
  const report = await runBench(
    {
      tasks: argv.tasks, artifacts: argv.artifacts, models: argv.models, debugImages: argv['debug-images'],
      latencyMs: argv['latency-ms'], only: argv.only, oursNodeOptions: argv['ours-node-options'], seed: argv.seed, thresholdDays: 30,
      sweepLatenciesMs: [...new Set(sweep)], sweepOfficialTasks: argv['sweep-official-tasks'],
      officialTasks: argv['official-tasks'] || undefined,
      dataDir: argv['data-dir'] || undefined,
    },
    { say },
  );
  say('');
  for (const l of formatReport(report)) say(l);
  if (argv.json) {
    await fsp.writeFile(argv.json, `${JSON.stringify(report, null, 2)}\n`);
    say(`\nJSON written to ${argv.json}`);
  }
  const sides = ['ours', 'official'].filter((s) => report[s]);
  process.exit(sides.every((s) => report[s].exit_code === 0) ? 0 : 1);
} catch (e) {
  process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
