#!/usr/bin/env node
/**
 * The whole story in under a minute, on this machine only (run `npm run build` first, or `npm run demo`):
 *   1. starts the embedded ClearML server (API + file server) on free ports, data in a temp dir;
 *   2. seeds it with a realistic mix (DEMO_TASKS, default 120; DEMO_SEED, default 1);
 *   3. runs ONE cleanup pass through the real CLI, as a user would:
 *      `clearml-cleanup run --once --run-as-service false --force-delete` with CLEARML_* env;
 *   4. shows what is left and checks it: eligible tasks gone, everything else kept, files of deleted
 *      tasks gone except those a kept model still points to; dataset versions that a kept version
 *      still reads from kept (and the pass says so), the other eligible versions gone.
 * Exit code: 0 when the pass succeeded and every check holds, 1 otherwise.
 *
 * `npm run demo -- --webapp DIR [--web-port N]`: also serves a built ClearML web app (clearml-web's
 * build/browser folder) in front of the server, registers the Cleanup Service task (DevOps Services),
 * prints the web app's URL and how to log in, and keeps everything up until Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clearmlEnv, filesOnDisk, protectedModelUris, remainingById, scratchDirs } from './lib/embedded-run.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
if (!existsSync(path.join(dist, 'cli.js'))) {
  process.stderr.write('demo: dist/ is missing; run `npm run build` first (or `npm run demo`, which builds)\n');
  process.exit(2);
}
const { startServer } = await import(path.join(dist, 'server/index.js'));
const { ClearMLClient } = await import(path.join(dist, 'api/client.js'));
const { seedServer, formatSeedSummary, formatBytes } = await import(path.join(dist, 'seed/index.js'));

const webapp = optionValue('--webapp');
const webPort = optionValue('--web-port');
if (webPort !== undefined && !/^\d+$/.test(webPort)) {
  process.stderr.write(`demo: --web-port must be a port number (got ${webPort})\n`);
  process.exit(2);
}
if (webapp !== undefined && !existsSync(path.join(webapp, 'index.html'))) {
  process.stderr.write(`demo: ${webapp} is not a built ClearML web app (no index.html); see "The ClearML web app" in README.md\n`);
  process.exit(2);
}

const TASKS = intFromEnv('DEMO_TASKS', 120);
const SEED = intFromEnv('DEMO_SEED', 1);
const THRESHOLD_DAYS = 30;

/** `--name value` or `--name=value` from the command line (after `npm run demo --`). */
function optionValue(name) {
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) return args[i + 1];
    if (args[i].startsWith(`${name}=`)) return args[i].slice(name.length + 1);
  }
  return undefined;
}

function intFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`demo: ${name} must be a whole number >= 1 (got ${raw})\n`);
    process.exit(2);
  }
  return n;
}

const say = (s = '') => process.stdout.write(`${s}\n`);
const heading = (s) => say(`\n== ${s} ${'='.repeat(Math.max(0, 70 - s.length))}`);

const { tmp, dataDir, stateDir, home } = await scratchDirs('clearml-cleanup-demo-');

let server;
let client;
let child;
const stop = async () => {
  if (child && child.exitCode === null) child.kill('SIGTERM');
  client?.close();
  await server?.close();
  await fsp.rm(tmp, { recursive: true, force: true });
};
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    stop().finally(() => process.exit(130));
  });
}

let exitCode = 1;
try {
  const t0 = Date.now();
  heading('1. Embedded ClearML server');
  server = await startServer({
    port: 0,
    filesPort: 0,
    dataDir,
    ...(webapp !== undefined ? { webappDir: webapp, webPort: webPort === undefined ? 0 : Number(webPort) } : {}),
  });
  say(`API server  ${server.apiUrl}`);
  say(`file server ${server.filesUrl}`);
  say(`data        ${dataDir}`);

  heading(`2. Seeding ${TASKS} tasks (seed ${SEED})`);
  client = new ClearMLClient({ api: { apiServer: server.apiUrl, accessKey: server.accessKey, secretKey: server.secretKey } });
  const seeded = await seedServer(
    client,
    { apiUrl: server.apiUrl, filesUrl: server.filesUrl },
    { tasks: TASKS, seed: SEED, thresholdDays: THRESHOLD_DAYS, onWarning: (m) => say(`warning: ${m}`) },
  );
  say(formatSeedSummary(seeded.summary));
  const eligible = seeded.tasks.filter((t) => t.eligible);
  const kept = seeded.tasks.filter((t) => !t.eligible);
  say('');
  say(`A correct cleanup (threshold ${THRESHOLD_DAYS} days, --force-delete) deletes ${eligible.length} tasks and keeps ${kept.length}:`);
  say(`  keeps ${seeded.summary.archivedRecent} archived but recent, ${kept.filter((t) => !t.archived).length} not archived` +
    ` (${seeded.summary.oldNotArchived} of them old)`);
  const protectedUris = protectedModelUris(seeded);
  say(`  keeps ${protectedUris.size} model file(s) of deleted tasks that a kept model still uses or shares,`);
  say(`  and never touches ${seeded.summary.foreignArtifacts} artifact URL(s) on a foreign host.`);
  const datasets = seeded.datasets ?? [];
  const dsGo = datasets.filter((d) => d.deletable);
  const dsKeptFor = datasets.filter((d) => d.keptFor);
  say(`Dataset versions: ${datasets.length} in families; it deletes ${dsGo.length} and keeps ${dsKeptFor.length} archived old` +
    ` version(s) that a kept version still reads its files from, e.g.:`);
  for (const d of dsKeptFor.slice(0, 2)) say(`  ${d.name} ${d.version} ${d.id}: parent of kept dataset version ${d.keptFor}`);

  heading('3. One cleanup pass through the CLI');
  const argv = ['run', '--once', '--run-as-service', 'false', '--force-delete', '--delete-threshold-days', String(THRESHOLD_DAYS),
    '--state-dir', stateDir, '--pacing-ms', '0'];
  say(`$ clearml-cleanup ${argv.join(' ')}`);
  const { code: runCode, text: runText } = await runCli(argv, clearmlEnv(server));
  say(`(exit code ${runCode})`);

  heading('4. What is left');
  const left = await remainingById(client, 'tasks.get_all', 'tasks', seeded.tasks.map((t) => t.id), ['id', 'status', 'system_tags']);
  const byStatus = {};
  for (const t of left.values()) {
    const k = `${t.status}${t.system_tags?.includes('archived') ? ' (archived)' : ''}`;
    byStatus[k] = (byStatus[k] ?? 0) + 1;
  }
  say(`tasks remaining: ${left.size} of ${seeded.tasks.length}`);
  for (const [k, v] of Object.entries(byStatus).sort()) say(`  ${k.padEnd(24)} ${v}`);
  const onDisk = await filesOnDisk(path.join(dataDir, 'files'));
  const seededPaths = new Set(seeded.files.map((f) => f.path));
  const bytes = [...onDisk.values()].reduce((a, b) => a + b, 0);
  say(`files on the file server: ${onDisk.size} (${formatBytes(bytes)}), of ${seeded.files.length} seeded` +
    ` (${formatBytes(seeded.summary.bytesUploaded)})`);

  heading('Checks');
  const checks = [];
  const check = (ok, text) => {
    checks.push(ok);
    say(`${ok ? '  ok  ' : '  FAIL'} ${text}`);
  };
  const deletedTasks = eligible.filter((t) => !left.has(t.id)).length;
  check(runCode === 0, 'the cleanup pass exited 0');
  check(deletedTasks === eligible.length, `eligible tasks deleted: ${deletedTasks} of ${eligible.length}`);
  const keptPresent = kept.filter((t) => left.has(t.id)).length;
  check(keptPresent === kept.length, `other tasks kept: ${keptPresent} of ${kept.length}`);
  const dsLeft = await remainingById(client, 'tasks.get_all', 'tasks', datasets.map((d) => d.id), ['id']);
  const dsGone = dsGo.filter((d) => !dsLeft.has(d.id)).length;
  check(dsGone === dsGo.length, `eligible dataset versions deleted: ${dsGone} of ${dsGo.length}`);
  const dsKeep = datasets.filter((d) => !d.deletable);
  const dsStayed = dsKeep.filter((d) => dsLeft.has(d.id)).length;
  check(dsStayed === dsKeep.length, `other dataset versions kept: ${dsStayed} of ${dsKeep.length}` +
    ` (${dsKeptFor.length} archived parent version(s) kept for a child that stays)`);
  const shown = dsKeptFor.filter((d) => runText.includes(`${d.id} (${d.name}): parent of kept dataset version ${d.keptFor}`)).length;
  check(shown === dsKeptFor.length, `the pass said why each parent version stays: ${shown} of ${dsKeptFor.length}`);
  const deletedIds = new Set([...eligible.map((t) => t.id), ...dsGo.map((d) => d.id)]);
  const shouldGo = seeded.files.filter((f) => deletedIds.has(f.taskId) && !protectedUris.has(f.url));
  const gone = shouldGo.filter((f) => !onDisk.has(f.path)).length;
  check(gone === shouldGo.length, `files of deleted tasks removed: ${gone} of ${shouldGo.length}`);
  const mustStay = seeded.files.filter((f) => !deletedIds.has(f.taskId) || protectedUris.has(f.url));
  const stayed = mustStay.filter((f) => onDisk.has(f.path)).length;
  check(stayed === mustStay.length, `files still referenced kept: ${stayed} of ${mustStay.length}` +
    ` (${[...protectedUris].filter((u) => seeded.files.some((f) => f.url === u && onDisk.has(f.path))).length} shared/in-use model files)`);
  const stray = [...onDisk.keys()].filter((p) => !seededPaths.has(p)).length;
  check(stray === 0, `no unexpected files on the file server (${stray})`);
  say(`\ndone in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  exitCode = checks.every(Boolean) ? 0 : 1;
  if (server.webUrl) await showWebapp();
} catch (e) {
  process.stderr.write(`demo failed: ${e instanceof Error ? e.message : String(e)}\n`);
  exitCode = 1;
} finally {
  await stop();
}
process.exit(exitCode);

/** With --webapp: the Cleanup Service task to look at, the URL and the login, then wait for Ctrl-C. */
async function showWebapp() {
  const { registerTask, readRepoInfo, DEFAULT_PARAMS } = await import(path.join(dist, 'task/index.js'));
  let repo;
  try {
    repo = await readRepoInfo(root);
  } catch {
    // a copy without a pushed git origin: the task is for looking at, not for an agent to run
    repo = { repository: 'https://github.com/example/clearml-cleanup.git', branch: 'main', commit: '', workingDir: '.', dirty: false, unpushed: false };
  }
  const quiet = { info() {}, warn() {}, error() {}, debug() {} };
  const reg = await registerTask(client, { repo, params: DEFAULT_PARAMS, log: quiet });
  heading('The ClearML web app');
  say(`web app     ${server.webUrl}`);
  say(`log in with user name ${server.accessKey}`);
  say(`        and password  ${server.secretKey}   (this demo server's own key pair; deleted on exit)`);
  say(`the task   ${server.webUrl}/projects/${reg.projectId}/tasks/${reg.taskId}/execution`);
  say('Stop with Ctrl-C.');
  await new Promise(() => {});
}

function runCli(args, env) {
  return new Promise((resolve, reject) => {
    const childEnv = { ...process.env, ...env, HOME: home };
    delete childEnv.CLEARML_CONFIG_FILE;
    delete childEnv.CLEARML_TASK_ID;
    delete childEnv.CLEARML_AUTH_TOKEN;
    child = spawn(process.execPath, [path.join(dist, 'cli.js'), ...args], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const indent = (stream, out) => {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        text += chunk;
        const lines = (rest + chunk).split('\n');
        rest = lines.pop() ?? '';
        for (const l of lines) out.write(`  | ${l}\n`);
      });
      stream.on('end', () => rest && out.write(`  | ${rest}\n`));
    };
    indent(child.stdout, process.stdout);
    indent(child.stderr, process.stdout);
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), text }));
  });
}
