#!/usr/bin/env node
/**
 * Chaos run: the cleanup service SIGKILLed at random moments, then run to completion; checks that
 * nothing was lost and nothing left behind. Run `npm run chaos` (builds first) or, after a build:
 *   node scripts/chaos.js [--seed N] [--kills N] [--tasks N] [--json FILE]
 *                         [--latency-ms N] [--fault-rate F] [--batch-size N]
 *
 *   1. starts the embedded ClearML server (API + file server) on free ports, data in a temp dir;
 *   2. seeds a mixed data set (eligible and kept tasks, shared and in-use models, foreign URLs,
 *      many debug images);
 *   3. starts `node dist/cli.js run --once --run-as-service false --force-delete ...` as a child and
 *      SIGKILLs it after a seeded random delay, again and again, until --kills kills have happened
 *      (a run that ends before its kill time counts as a completed run, not a kill);
 *   4. runs the CLI to completion (no kill) until a pass succeeds;
 *   5. checks three figures, printed (and written to --json FILE):
 *      - eligible tasks left                 (must be 0)
 *      - orphaned files: seeded files on the file server that no remaining task, model or event
 *        points to (must be 0, also after every kill)
 *      - kept tasks or files touched: a task that was not eligible is gone, or a file of such a task
 *        (or a model file a kept task uses or a kept model shares) is gone (must be 0, also after
 *        every kill)
 * Exit code 0 when all three are 0, 1 otherwise, 2 on bad arguments.
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clearmlEnv, filesOnDisk, protectedModelUris, remainingById, scratchDirs } from './lib/embedded-run.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');

function usage(msg) {
  process.stderr.write(`chaos: ${msg}\nusage: node scripts/chaos.js [--seed N] [--kills N] [--tasks N] [--json FILE] ` +
    '[--latency-ms N] [--fault-rate F] [--batch-size N]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { seed: 1, kills: 8, tasks: 300, json: undefined, latencyMs: 5, faultRate: 0, batchSize: 3 };
  const ints = { '--seed': 'seed', '--kills': 'kills', '--tasks': 'tasks', '--latency-ms': 'latencyMs', '--batch-size': 'batchSize' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) usage(`${flag} needs a value`);
      return v;
    };
    if (flag === '--help' || flag === '-h') usage('SIGKILLs the cleanup service at random moments and checks nothing is lost');
    else if (flag in ints) {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) usage(`${flag} must be a whole number >= 0, got "${v}"`);
      o[ints[flag]] = n;
    } else if (flag === '--fault-rate') {
      const v = value();
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0 || n >= 1) usage(`--fault-rate must be a number in [0, 1), got "${v}"`);
      o.faultRate = n;
    } else if (flag === '--json') o.json = value();
    else usage(`unknown argument "${a}"`);
  }
  if (o.tasks < 10) usage('--tasks must be at least 10');
  if (o.batchSize < 1 || o.batchSize > 500) usage('--batch-size must be from 1 to 500');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
if (!existsSync(path.join(dist, 'cli.js'))) {
  process.stderr.write('chaos: dist/ is missing; run `npm run build` first (or `npm run chaos`, which builds)\n');
  process.exit(2);
}
const { startServer } = await import(path.join(dist, 'server/index.js'));
const { ClearMLClient } = await import(path.join(dist, 'api/client.js'));
const { seedServer } = await import(path.join(dist, 'seed/index.js'));
// the kill schedule is the same for the same --seed
const { mulberry32: prng } = await import(path.join(dist, 'seed/prng.js'));

const THRESHOLD_DAYS = 30;
const say = (s = '') => process.stdout.write(`${s}\n`);

const { tmp, dataDir, stateDir, home } = await scratchDirs('clearml-cleanup-chaos-');

let server;
let client;
let child;
const stop = async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  client?.close();
  await server?.close();
  await fsp.rm(tmp, { recursive: true, force: true });
};
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => void stop().finally(() => process.exit(130)));

const figures = {
  seed: opts.seed,
  tasks: opts.tasks,
  eligible: 0,
  kept: 0,
  filesSeeded: 0,
  killsAsked: opts.kills,
  kills: 0,
  /** kills after which some, but not all, eligible tasks were gone: the kill landed inside the deleting */
  killsMidDeletion: 0,
  killMoments: [],
  runsCompletedBeforeKill: 0,
  finalRuns: 0,
  finalExitCode: null,
  eligibleLeft: null,
  orphanedFiles: null,
  keptTasksTouched: null,
  keptFilesTouched: null,
  maxOrphansAfterAKill: 0,
  maxKeptTouchedAfterAKill: 0,
  durationMs: 0,
};

let exitCode = 1;
const t0 = Date.now();
try {
  server = await startServer({ port: 0, filesPort: 0, dataDir, latencyMs: opts.latencyMs });
  client = new ClearMLClient({ api: { apiServer: server.apiUrl, accessKey: server.accessKey, secretKey: server.secretKey } });
  say(`chaos: seed ${opts.seed}, ${opts.tasks} tasks, ${opts.kills} kills, batches of ${opts.batchSize}, ` +
    `server latency ${opts.latencyMs} ms${opts.faultRate ? `, fault rate ${opts.faultRate}` : ''}`);
  const seeded = await seedServer(client, { apiUrl: server.apiUrl, filesUrl: server.filesUrl }, { tasks: opts.tasks, seed: opts.seed, thresholdDays: THRESHOLD_DAYS });
  if (opts.faultRate) await reopenWithFaults(); // seeded on a healthy server, cleaned on a sick one
  // dataset versions count as tasks here: the deletable ones with the eligible, the others kept
  const eligible = [...seeded.tasks.filter((t) => t.eligible), ...(seeded.datasets ?? []).filter((d) => d.deletable)];
  const kept = [...seeded.tasks.filter((t) => !t.eligible), ...(seeded.datasets ?? []).filter((d) => !d.deletable)];
  Object.assign(figures, { eligible: eligible.length, kept: kept.length, filesSeeded: seeded.files.length });
  say(`seeded: ${eligible.length} eligible tasks, ${kept.length} kept, ${seeded.files.length} files, ${seeded.models.length} models ` +
    `(${seeded.summary.modelsInUse} in use, ${seeded.summary.sharedModelFiles} shared files), ${seeded.summary.foreignArtifacts} foreign URLs`);

  const rand = prng(opts.seed * 7919 + 17);
  const argv = ['run', '--once', '--run-as-service', 'false', '--force-delete', '--delete-threshold-days', String(THRESHOLD_DAYS),
    '--state-dir', stateDir, '--pacing-ms', '0', '--batch-size', String(opts.batchSize), '--log-format', 'json'];
  // A kill moment is drawn at random (seeded) inside the work that remains: after the j-th
  // "Deleting N tasks" line of the pass (j uniform over a share of the batches left, so that every
  // kill still finds work), plus a random part of a
  // batch's duration; once nothing is left to delete, at a random time after "Starting cleanup"
  // (within what such a pass lasts). Process start-up is not the point.
  let batchMs = 150;
  let passMs = 300;
  let attempts = 0;
  let before = eligible.length;
  while (figures.kills < opts.kills && attempts < opts.kills * 4) {
    attempts++;
    const batchesLeft = Math.ceil(before / opts.batchSize);
    const kill = batchesLeft > 0
      ? { afterDeleting: 1 + Math.floor(rand() * Math.max(1, Math.floor((1.5 * batchesLeft) / (opts.kills - figures.kills)))), ms: Math.round(rand() * batchMs) }
      : { afterDeleting: 0, ms: Math.round(rand() * passMs) };
    const delay = kill.afterDeleting ? `batch ${kill.afterDeleting}/${batchesLeft} + ${kill.ms} ms` : `${kill.ms} ms after start`;
    const r = await runCli(argv, kill);
    if (r.batchMs) batchMs = r.batchMs;
    if (r.killed) {
      figures.kills++;
      figures.killMoments.push(delay);
      const c = await check(seeded);
      if (c.eligibleLeft < before && c.eligibleLeft > 0) figures.killsMidDeletion++;
      before = c.eligibleLeft;
      figures.maxOrphansAfterAKill = Math.max(figures.maxOrphansAfterAKill, c.orphanedFiles);
      figures.maxKeptTouchedAfterAKill = Math.max(figures.maxKeptTouchedAfterAKill, c.keptTasksTouched + c.keptFilesTouched);
      say(`kill ${figures.kills} at ${delay}: ${c.eligibleLeft} eligible tasks left, ${c.orphanedFiles} orphaned files, ` +
        `${c.keptTasksTouched + c.keptFilesTouched} kept touched`);
    } else {
      figures.runsCompletedBeforeKill++;
      if (r.workMs !== undefined) passMs = Math.max(50, r.workMs);
      before = (await check(seeded)).eligibleLeft;
      say(`run ended by itself (exit ${r.code}) before its kill at ${delay}`);
    }
  }

  for (let i = 0; i < 5; i++) {
    const r = await runCli(argv, undefined);
    figures.finalRuns++;
    figures.finalExitCode = r.code;
    const c = await check(seeded);
    if (r.code === 0 && c.eligibleLeft === 0) break;
    say(`final run ${i + 1} exit ${r.code}, ${c.eligibleLeft} eligible left; running again`);
  }
  Object.assign(figures, await check(seeded));
  figures.durationMs = Date.now() - t0;
  say('');
  say(`kills:                       ${figures.kills} (${figures.killsMidDeletion} in the middle of deleting; ` +
    `moments: ${figures.killMoments.join('; ')})`);
  say(`runs ended before the kill:  ${figures.runsCompletedBeforeKill}; final runs: ${figures.finalRuns} (last exit ${figures.finalExitCode})`);
  say(`eligible tasks left:         ${figures.eligibleLeft} of ${figures.eligible}`);
  say(`orphaned files:              ${figures.orphanedFiles} (at most ${figures.maxOrphansAfterAKill} right after a kill)`);
  say(`kept tasks touched:          ${figures.keptTasksTouched} of ${figures.kept}`);
  say(`kept files touched:          ${figures.keptFilesTouched} (at most ${figures.maxKeptTouchedAfterAKill} kept tasks+files after a kill)`);
  say(`duration:                    ${(figures.durationMs / 1000).toFixed(1)} s`);
  const ok = figures.kills >= opts.kills && figures.eligibleLeft === 0 && figures.orphanedFiles === 0 &&
    figures.keptTasksTouched === 0 && figures.keptFilesTouched === 0 && figures.maxOrphansAfterAKill === 0 &&
    figures.maxKeptTouchedAfterAKill === 0;
  say(ok ? 'chaos: OK' : 'chaos: FAILED');
  exitCode = ok ? 0 : 1;
} catch (e) {
  process.stderr.write(`chaos failed: ${e instanceof Error ? e.message : String(e)}\n`);
  exitCode = 1;
} finally {
  figures.durationMs = Date.now() - t0;
  if (opts.json) await fsp.writeFile(opts.json, `${JSON.stringify(figures, null, 2)}\n`);
  await stop();
}
process.exit(exitCode);

/** The same server (ports, data, keys) again, now failing --fault-rate of its API and file requests. */
async function reopenWithFaults() {
  const port = Number(new URL(server.apiUrl).port);
  const filesPort = Number(new URL(server.filesUrl).port);
  const { accessKey, secretKey } = server;
  client.close();
  await server.close();
  server = await startServer({ port, filesPort, dataDir, accessKey, secretKey, latencyMs: opts.latencyMs, faultRate: opts.faultRate, faultSeed: opts.seed });
  client = new ClearMLClient({ api: { apiServer: server.apiUrl, accessKey, secretKey }, retries: 10, backoffBaseMs: 20, backoffMaxMs: 200 });
}

/**
 * One CLI run; with `kill`, SIGKILLed `kill.ms` after its `kill.afterDeleting`-th "Deleting N tasks"
 * line (or after "Starting cleanup" when afterDeleting is 0), unless it ended before.
 */
function runCli(args, kill) {
  return new Promise((resolve, reject) => {
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      ...clearmlEnv(server),
    };
    child = spawn(process.execPath, [path.join(dist, 'cli.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let rest = '';
    let startedAt;
    const batchStarts = [];
    let timer;
    let killed = false;
    const arm = () => {
      if (!kill || timer) return;
      timer = setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) {
          killed = true;
          child.kill('SIGKILL');
        }
      }, kill.ms);
    };
    child.stderr.on('data', (b) => (stderr += b.toString()).length > 20_000 && (stderr = stderr.slice(-10_000)));
    child.stdout.on('data', (b) => {
      const lines = (rest + b.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (startedAt === undefined && line.includes('Starting cleanup')) {
          startedAt = Date.now();
          if (kill && kill.afterDeleting === 0) arm();
        }
        if (/"message":"Deleting \d+ tasks"/.test(line)) {
          batchStarts.push(Date.now());
          if (kill && batchStarts.length === kill.afterDeleting) arm();
        }
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (!killed && code !== 0 && code !== 1) process.stderr.write(`chaos: the CLI exited ${code}: ${stderr.slice(-2000)}\n`);
      const gaps = batchStarts.slice(1).map((t, i) => t - batchStarts[i]);
      resolve({
        killed,
        code,
        workMs: startedAt === undefined ? undefined : Date.now() - startedAt,
        batchMs: gaps.length ? Math.round(gaps.reduce((a, b) => a + b, 0) / gaps.length) : undefined,
      });
    });
  });
}

/** The three figures, from the server's state and the file server's disk. */
async function check(seeded) {
  const datasets = seeded.datasets ?? [];
  const left = await remainingById(client, 'tasks.get_all', 'tasks', [...seeded.tasks, ...datasets].map((t) => t.id), ['id']);
  const models = await remainingById(client, 'models.get_all', 'models', seeded.models.map((m) => m.id), ['id', 'uri']);
  const onDisk = await filesOnDisk(path.join(dataDir, 'files'));
  // what still points to a file: a remaining task (its artifacts, debug and plot images, through its
  // events) and a remaining model
  const referenced = new Set();
  for (const t of seeded.tasks) {
    if (!left.has(t.id)) continue;
    for (const u of t.files) referenced.add(u);
    for (const u of t.externalUris) referenced.add(u);
  }
  for (const m of models.values()) if (m.uri) referenced.add(m.uri);
  // dataset versions: a remaining one holds its files; the deletable ones must go, the others stay
  for (const d of datasets) if (left.has(d.id)) for (const u of d.files) referenced.add(u);
  const eligibleLeft = seeded.tasks.filter((t) => t.eligible && left.has(t.id)).length +
    datasets.filter((d) => d.deletable && left.has(d.id)).length;
  const keptTasksTouched = seeded.tasks.filter((t) => !t.eligible && !left.has(t.id)).length +
    datasets.filter((d) => !d.deletable && !left.has(d.id)).length;
  const keep = mustKeep(seeded);
  let orphanedFiles = 0;
  let keptFilesTouched = 0;
  for (const f of seeded.files) {
    const there = onDisk.has(f.path);
    if (there && !referenced.has(f.url)) orphanedFiles++;
    // files of an eligible task may go before the task itself (that is the journal's order)
    if (!there && keep.has(f.url)) keptFilesTouched++;
  }
  return { eligibleLeft, orphanedFiles, keptTasksTouched, keptFilesTouched };
}

/**
 * Files that must survive whatever happens: those of tasks that are not eligible (artifacts, images,
 * input references), and model files that a kept task uses or a kept model shares.
 */
function mustKeep(seeded) {
  const eligibleIds = new Set(seeded.tasks.filter((t) => t.eligible).map((t) => t.id));
  const keep = protectedModelUris(seeded);
  for (const t of seeded.tasks) {
    if (eligibleIds.has(t.id)) continue;
    for (const u of t.files) keep.add(u);
    for (const u of t.externalUris) keep.add(u);
  }
  for (const m of seeded.models) if (!eligibleIds.has(m.taskId)) keep.add(m.uri);
  for (const d of seeded.datasets ?? []) if (!d.deletable) for (const u of d.files) keep.add(u);
  return keep;
}
