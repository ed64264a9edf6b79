#!/usr/bin/env node
/**
 * `node scripts/memory-run.js [--tasks 100000] [--artifacts 1] [--models 1] [--debug-images 2] [--json FILE]`
 * The memory check of docs/benchmark.md, run once by hand (not in CI: seeding 100,000 tasks takes
 * tens of minutes). Seeds one embedded server (every task archived and old, files on its file
 * server), then runs the real CLI three times against it, each in its own process with its peak RSS
 * measured: `report`, an orphan sweep (`orphans`, which lists every file and judges it), and one
 * pass (`run --once --force-delete`, which deletes everything). Run `npm run build` first.
 */
import { existsSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
if (!existsSync(path.join(dist, 'bench', 'copy.js'))) {
  process.stderr.write('memory-run: dist/ is missing; run `npm run build` first\n');
  process.exit(2);
}
const { BenchCopy } = await import(path.join(dist, 'bench', 'copy.js'));
const { runChild, runningChildren, CLI_JS } = await import(path.join(dist, 'bench', 'children.js'));

const whole = (name) => (v) => {
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a whole number >= 0, got ${v}`);
  return v;
};
const argv = yargs(hideBin(process.argv))
  .scriptName('node scripts/memory-run.js')
  .option('tasks', { type: 'number', default: 100_000, coerce: whole('tasks') })
  .option('artifacts', { type: 'number', default: 1, coerce: whole('artifacts') })
  .option('models', { type: 'number', default: 1, coerce: whole('models') })
  .option('debug-images', { type: 'number', default: 2, coerce: whole('debug-images') })
  .option('seed', { type: 'number', default: 1 })
  .option('json', { type: 'string', describe: 'write the results as JSON to this file' })
  .strict()
  .help()
  .parseSync();

const say = (m) => process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);
process.on('SIGINT', () => {
  for (const pid of runningChildren) process.kill(pid, 'SIGKILL');
  process.exit(130);
});

const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'clearml-cleanup-memory-'));
const copy = await BenchCopy.start('memory', path.join(tmp, 'copy'));
const results = { params: { tasks: argv.tasks, artifacts: argv.artifacts, models: argv.models, debug_images: argv.debugImages, seed: argv.seed }, runs: [] };
try {
  say(`seeding ${argv.tasks} tasks x (${argv.artifacts} artifacts, ${argv.models} models, ${argv.debugImages} debug images)`);
  let last = 0;
  const t0 = Date.now();
  const seeded = await copy.seed(
    { tasks: argv.tasks, artifacts: argv.artifacts, models: argv.models, debugImages: argv.debugImages, seed: argv.seed, thresholdDays: 30 },
    (phase, done, total) => {
      if (Date.now() - last < 30_000 && done !== total) return;
      last = Date.now();
      say(`  ${phase} ${done}/${total}`);
    },
  );
  results.params.files = seeded.files.length;
  results.params.seed_s = Math.round((Date.now() - t0) / 1000);
  say(`seeded ${seeded.tasks.length} tasks, ${seeded.files.length} files in ${results.params.seed_s} s`);

  const runs = [
    ['report', ['report', '--json']],
    ['orphan sweep', ['orphans', '--json', '--min-age-days', '0']],
    ['pass', ['run', '--once', '--run-as-service', 'false', '--force-delete', '--delete-threshold-days', '30']],
  ];
  for (const [label, args] of runs) {
    const workDir = path.join(tmp, label.replace(/\W+/g, '-'));
    await fsp.mkdir(workDir, { recursive: true });
    say(`${label}: clearml-cleanup ${args.join(' ')}`);
    const run = await runChild({ script: CLI_JS, args: [...args, '--state-dir', path.join(workDir, 'state')], env: copy.clientEnv(), workDir });
    const rssMb = run.maxRssBytes === undefined ? null : Math.round((run.maxRssBytes / 2 ** 20) * 10) / 10;
    results.runs.push({ label, args, exit_code: run.exitCode, wall_s: Math.round(run.wallMs / 100) / 10, peak_rss_mb: rssMb });
    say(`  exit ${run.exitCode}, ${(run.wallMs / 1000).toFixed(1)} s, peak RSS ${rssMb} MB`);
    if (run.exitCode !== 0 && run.exitCode !== 1) say(`  stderr: ${run.stderr.split('\n').slice(-5).join(' | ')}`);
  }
  results.params.tasks_left = await copy.tasksLeft(seeded.tasks.map((t) => t.id));
  results.params.files_left = copy.filesLeft();
  results.date = new Date().toISOString();
  results.machine = { nproc: os.availableParallelism(), total_mem_gb: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadavg: os.loadavg().map((x) => Math.round(x * 10) / 10) };
  say(`after the pass: ${results.params.tasks_left} tasks and ${results.params.files_left} files left`);
  if (argv.json) await fsp.writeFile(argv.json, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(results)}\n`);
} finally {
  await copy.close().catch(() => undefined);
  await fsp.rm(tmp, { recursive: true, force: true });
}
