/**
 * The entry script as clearml-agent starts it: `$SHELL scripts/clearml-task.sh` (here $SHELL is sh,
 * which must re-run it under bash), CLEARML_TASK_ID and a JSON CLEARML_CONFIG_FILE, against the
 * embedded server. Then the script's own checks (old Node, no dist/) with stand-in node/npm.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ClearMLClient } from '../src/api/index.js';
import type { RunningServer } from '../src/server/index.js';
import { DEFAULT_PARAMS, EXIT_STOPPED, readRepoInfo, registerTask } from '../src/task/index.js';
import { collectingLog, makeRepo, oldArchivedDrafts, startWorld, waitFor, type TempRepo } from './support/task-world.js';
import { buildDist } from './support/node-script.js';

const root = process.cwd();
let server: RunningServer;
let client: ClearMLClient;
let repo: TempRepo;
let dir: string;
let conf: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  // the script runs dist/ (npm test builds first; this covers running this file alone)
  buildDist();
  ({ server, client } = await startWorld());
  repo = makeRepo('pushed');
  dir = mkdtempSync(path.join(tmpdir(), 'task-entry-'));
  conf = path.join(dir, '.clearml_agent.cfg');
  writeFileSync(
    conf,
    JSON.stringify(
      {
        api: {
          api_server: server.apiUrl,
          web_server: 'http://127.0.0.1:1',
          files_server: server.filesUrl,
          credentials: { access_key: server.accessKey, secret_key: server.secretKey },
        },
        agent: { worker_id: '' },
        sdk: {},
      },
      null,
      4,
    ),
  );
}, 180_000);

afterAll(async () => {
  for (const c of children) if (c.pid && c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGKILL');
  client.close();
  await server.close();
  repo.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

function agentEnv(taskId: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(CLEARML|TRAINS)_|^NODE_OPTIONS$/.test(k)) env[k] = v;
  return {
    ...env,
    SHELL: '/bin/sh',
    HOME: dir,
    CLEARML_TASK_ID: taskId,
    CLEARML_CONFIG_FILE: conf,
    CLEARML_LOG_LEVEL: 'INFO',
    CLEARML_LOG_TASK_TO_BACKEND: '0',
    CLEARML_WORKER_ID: 'vm:cpu:0:service:' + taskId,
    ...extra,
  };
}

function launch(script: string, env: NodeJS.ProcessEnv, cwd = root) {
  // what the agent does: $SHELL <entry_point>, cwd = <clone>/<working_dir>
  const child = spawn('/bin/sh', [script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => out, done };
}

async function startedTask(params = {}): Promise<string> {
  const reg = await registerTask(client, { repo: await readRepoInfo(repo.dir), params: { ...DEFAULT_PARAMS, ...params }, log: collectingLog() });
  await client.tasks.enqueue({ task: reg.taskId, queue_name: 'services' });
  await client.call('tasks.dequeue', { task: reg.taskId, new_status: 'in_progress' });
  await client.tasks.started({ task: reg.taskId, force: true, status_message: 'launch by agent' });
  await client.call('workers.status_report', { worker: 'vm:cpu:0', timestamp: Date.now(), task: reg.taskId });
  return reg.taskId;
}

test('under the agent: passes on stdout only, a UI Abort ends it through the runtime callback with exit 254', async () => {
  expect(existsSync(path.join(root, 'dist', 'cli.js'))).toBe(true);
  const victims = await oldArchivedDrafts(server, client, 3, 'entry-victim');
  const id = await startedTask({ cleanupPeriodInDays: 30 });
  const run = launch('scripts/clearml-task.sh', agentEnv(id));
  await waitFor('the first pass', async () => run.output().includes('going to sleep for 30.0 days'), 30_000);
  expect(run.output()).toContain(`starting the cleanup service (task ${id})`);
  expect(run.output()).toContain('Summary: deleted 3 tasks');
  expect((await client.tasks.getAll({ id: victims, only_fields: ['id'] })).tasks).toHaveLength(0);

  await client.call('workers.status_report', { worker: 'vm:cpu:0', timestamp: Date.now(), task: id });
  await client.call('tasks.stop', { task: id });
  // the service polls every 10 s by default
  const code = await Promise.race([run.done, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000).unref())]);
  expect(code).toBe(EXIT_STOPPED);
  expect(run.output()).toContain('stopped by an Abort from the web app');
  const { task } = await client.tasks.getById({ task: id });
  expect(task.runtime?._abort_callback_completed).toBe('1');
  // the agent ships stdout to the CONSOLE: nothing of ours there
  const log = await client.events.getTaskLog({ task: id, batch_size: 1000 });
  expect(log.events).toHaveLength(0);
}, 90_000);

test('under the agent: a bad hyperparameter exits 2 with one line naming it, before any pass', async () => {
  const id = await startedTask();
  await client.tasks.editHyperParams({ task: id, force: true, hyperparams: [{ section: 'General', name: 'delete_threshold_days', value: '-3' }] });
  const run = launch('scripts/clearml-task.sh', agentEnv(id));
  expect(await run.done).toBe(2);
  const errors = run.output().split('\n').filter((l) => l.startsWith('ERROR:'));
  expect(errors).toEqual([expect.stringContaining('General/delete_threshold_days = "-3" must be a number of days from 0')]);
  expect(run.output()).not.toContain('Starting cleanup');
}, 60_000);

describe('the script on its own (stand-in node and npm)', () => {
  let copy: string;
  let bin: string;
  beforeAll(() => {
    copy = path.join(dir, 'clone');
    mkdirSync(path.join(copy, 'scripts'), { recursive: true });
    copyFileSync(path.join(root, 'scripts', 'clearml-task.sh'), path.join(copy, 'scripts', 'clearml-task.sh'));
    bin = path.join(dir, 'bin');
    mkdirSync(bin);
  });
  const tool = (name: string, body: string) => {
    writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(path.join(bin, name), 0o755);
  };

  test('Node older than 20: exit 3 and a clear line', async () => {
    tool('node', 'if [ "$1" = "-p" ]; then echo 18; else echo v18.19.0; fi');
    const run = launch('scripts/clearml-task.sh', agentEnv('x', { PATH: `${bin}:/usr/bin:/bin` }), copy);
    expect(await run.done).toBe(3);
    expect(run.output()).toContain('Node.js v18.19.0 is too old: version 20 or newer is required');
  });

  test('a Node line past its end of life runs with a warning; a maintained LTS line without one', async () => {
    // the script's only use of node before the hand-over is `node -p` (major) and `node --version`
    tool('node', `if [ "$1" = "-p" ]; then echo "$FAKE_MAJOR"; elif [ "$1" = "--version" ]; then echo "v$FAKE_MAJOR.1.0"; else echo "node $*"; fi`);
    mkdirSync(path.join(copy, 'dist'), { recursive: true });
    writeFileSync(path.join(copy, 'dist', 'cli.js'), 'x');
    try {
      const old = launch('scripts/clearml-task.sh', agentEnv('x', { PATH: `${bin}:/usr/bin:/bin`, FAKE_MAJOR: '20' }), copy);
      expect(await old.done).toBe(0);
      expect(old.output()).toContain('warning: Node.js v20.1.0 reached its end of life on 2026-04-30');
      expect(old.output()).toContain('node dist/cli.js run');
      const odd = launch('scripts/clearml-task.sh', agentEnv('x', { PATH: `${bin}:/usr/bin:/bin`, FAKE_MAJOR: '23' }), copy);
      expect(await odd.done).toBe(0);
      expect(odd.output()).toContain('reached its end of life on 2025-06-01');
      const lts = launch('scripts/clearml-task.sh', agentEnv('x', { PATH: `${bin}:/usr/bin:/bin`, FAKE_MAJOR: '24' }), copy);
      expect(await lts.done).toBe(0);
      // Node 24 is maintained until 2028-04-30
      if (new Date().toISOString().slice(0, 10) <= '2028-04-30') expect(lts.output()).not.toContain('end of life');
      else expect(lts.output()).toContain('reached its end of life on 2028-04-30');
      expect(lts.output()).toContain('node dist/cli.js run');
    } finally {
      rmSync(path.join(copy, 'dist'), { recursive: true, force: true });
    }
  });

  test('no dist/: npm ci (with dev dependencies) and the build run first, then node gets the arguments', async () => {
    tool('node', `if [ "$1" = "-p" ]; then echo 20; elif [ "$1" = "--version" ]; then echo v20.0.0; else echo "node $*"; fi`);
    tool('npm', `echo "npm $*" >> "${path.join(dir, 'npm.log')}"; if [ "$1" = run ]; then mkdir -p dist && echo x > dist/cli.js; fi`);
    const run = launch('scripts/clearml-task.sh', agentEnv('x', { PATH: `${bin}:/usr/bin:/bin` }), copy);
    expect(await run.done).toBe(0);
    expect(readFileSync(path.join(dir, 'npm.log'), 'utf8').trim().split('\n')).toEqual([
      'npm ci --include=dev --no-audit --no-fund --loglevel=error',
      'npm run build --silent',
    ]);
    expect(run.output()).toContain('node dist/cli.js run');
  });
});
