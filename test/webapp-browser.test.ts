/**
 * The admin's workflow in the real ClearML web app (clearml-web, built unchanged, outside the
 * project) served by `startServer({ webappDir })` in front of the embedded server, driven in
 * Debian's headless Chromium: log in, clone the Cleanup Service, edit its General hyperparameters,
 * enqueue it on "services", run it as the agent would (scripts/clearml-task.sh with
 * CLEARML_TASK_ID, its stdout shipped to the CONSOLE as the agent ships it), read the pass summary
 * in CONSOLE and the freed-storage plot in SCALARS, Abort it from the UI, and see the archived tasks
 * the pass deleted gone from the project's archive view. Screenshots of each step go to
 * test-output/webapp/ (gitignored).
 *
 * Runs only when Chromium (/usr/bin/chromium, or CHROMIUM_PATH) and a built web app
 * (CLEARML_WEBAPP_DIR, or ../shared/clearml-webapp/browser) are present; otherwise says why.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import type { ClearMLClient } from '../src/api/index.js';
import { startServer, type RunningServer } from '../src/server/index.js';
import { DEFAULT_PARAMS, EXIT_STOPPED, registerTask } from '../src/task/index.js';
import { ensureBuilt } from './support/node-script.js';
import { clientFor, collectingLog, waitFor } from './support/task-world.js';

const root = process.cwd();
const webappDir = path.resolve(process.env.CLEARML_WEBAPP_DIR ?? path.join(root, '..', 'shared', 'clearml-webapp', 'browser'));
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const shots = path.join(root, 'test-output', 'webapp');

const missing = [
  existsSync(chromiumPath) ? '' : `no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`,
  existsSync(path.join(webappDir, 'index.html'))
    ? ''
    : `no built ClearML web app at ${webappDir} (build clearml-web, see README, or set CLEARML_WEBAPP_DIR)`,
].filter(Boolean);
if (missing.length) {
  // eslint-disable-next-line no-console
  console.log(`webapp-browser.test.ts did not run: ${missing.join('; ')}`);
}
const maybe = missing.length ? test.skip : test;

let server: RunningServer;
let client: ClearMLClient;
let context: BrowserContext;
let page: Page;
let dir: string;
let agentRun: ChildProcess | undefined;
const pageErrors: string[] = [];
const failedCalls: string[] = [];

beforeAll(async () => {
  if (missing.length) return;
  // the entry script runs dist/ (npm test builds first; this covers running this file alone)
  ensureBuilt('cli.js');
  dir = mkdtempSync(path.join(tmpdir(), 'webapp-browser-'));
  mkdirSync(shots, { recursive: true });
  server = await startServer({ port: 0, filesPort: 0, webPort: 0, webappDir });
  client = clientFor(server);
  const { chromium } = await import('playwright-core');
  context = await chromium.launchPersistentContext(path.join(dir, 'chromium-profile'), {
    executablePath: chromiumPath,
    // headless comes from --headless=new below (Playwright's own flag would pick the old mode)
    headless: false,
    viewport: { width: 1400, height: 900 },
    colorScheme: 'light',
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      // without these Chromium keeps calling out to Google services on a closed network
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('response', (r) => {
    if (r.url().includes('/api/') && r.status() !== 200) failedCalls.push(`${r.status()} ${new URL(r.url()).pathname}`);
  });
}, 180_000);

afterAll(async () => {
  if (agentRun?.pid && agentRun.exitCode === null && agentRun.signalCode === null) process.kill(agentRun.pid, 'SIGKILL');
  await context?.close();
  client?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const t0 = Date.now();
async function shot(name: string): Promise<void> {
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(shots, `${name}.png`) });
  // eslint-disable-next-line no-console
  if (process.env.WEBAPP_TEST_TIMING) console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${name}`);
}

/** Old archived tasks in their own project, each with a 1 MiB artifact on the file server: what the pass must delete. */
async function oldArchived(projectId: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = (await client.tasks.create({ name: `old experiment ${i}`, type: 'training', project: projectId })).id;
    const rel = `Old experiments/old experiment ${i}.${id}/artifacts/data/data.bin`;
    mkdirSync(path.dirname(path.join(server.dataDir, 'files', rel)), { recursive: true });
    writeFileSync(path.join(server.dataDir, 'files', rel), Buffer.alloc(1024 * 1024, i));
    await client.call('tasks.add_or_update_artifacts', {
      task: id,
      artifacts: [{ key: 'data', type: 'custom', mode: 'output', uri: `${server.filesUrl}/${rel.split('/').map(encodeURIComponent).join('/')}`, content_size: 1024 * 1024 }],
    });
    ids.push(id);
  }
  await client.tasks.archive({ tasks: ids });
  const res = await fetch(`${server.apiUrl}/_embedded/backdate`, { method: 'POST', body: JSON.stringify({ tasks: ids, days: 90 }) });
  if (res.status !== 200) throw new Error(`backdate failed: ${res.status}`);
  return ids;
}

function agentConfig(): string {
  const conf = path.join(dir, 'clearml.conf');
  writeFileSync(
    conf,
    JSON.stringify({
      api: {
        api_server: server.apiUrl,
        web_server: server.webUrl,
        files_server: server.filesUrl,
        credentials: { access_key: server.accessKey, secret_key: server.secretKey },
      },
      agent: { worker_id: '' },
      sdk: {},
    }),
  );
  return conf;
}

/**
 * What clearml-agent does with a queued task: take it off the queue, mark it started, report as the
 * worker running it, run `$SHELL scripts/clearml-task.sh` with CLEARML_TASK_ID, and ship its output
 * lines to the task's CONSOLE (events.add_batch, type "log").
 */
async function runAsAgent(taskId: string): Promise<{ output: () => string; done: Promise<number | null> }> {
  const queue = (await client.call<{ queues: Array<{ id: string }> }>('queues.get_all', { name: '^services$' })).queues[0];
  const next = await client.call<{ entry?: { task: string } }>('queues.get_next_task', { queue: queue.id });
  expect(next.entry?.task).toBe(taskId);
  await client.tasks.started({ task: taskId, force: true, status_message: 'launch by agent' });
  const worker = 'embedded-agent:0';
  await client.call('workers.status_report', { worker, timestamp: Date.now(), task: taskId });
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(CLEARML|TRAINS)_|^NODE_OPTIONS$/.test(k)) env[k] = v;
  Object.assign(env, {
    SHELL: '/bin/sh',
    HOME: dir,
    CLEARML_TASK_ID: taskId,
    CLEARML_CONFIG_FILE: agentConfig(),
    CLEARML_WORKER_ID: worker,
    CLEARML_LOG_TASK_TO_BACKEND: '0',
  });
  const child = spawn('/bin/sh', ['scripts/clearml-task.sh'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  agentRun = child;
  let out = '';
  let pending = '';
  const ship = async (lines: string[]) => {
    if (!lines.length) return;
    const now = Date.now();
    await client.callJsonLines(
      'events.add_batch',
      lines.map((msg, i) => ({ type: 'log', task: taskId, timestamp: now + i, level: 'info', worker, msg })),
    );
  };
  let shipping = Promise.resolve();
  const onData = (c: Buffer) => {
    out += c.toString();
    pending += c.toString();
    const cut = pending.lastIndexOf('\n');
    if (cut < 0) return;
    const lines = pending.slice(0, cut).split('\n');
    pending = pending.slice(cut + 1);
    shipping = shipping.then(() => ship(lines)).catch(() => undefined);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { output: () => out, done };
}

/**
 * Moves the app to `route` without reloading it (a reload costs seconds of script parsing): its
 * router follows history changes announced with a popstate event, as on the browser's Back button.
 */
async function navigate(route: string): Promise<void> {
  // a string, evaluated in the page (this file is type-checked without the DOM library)
  await page.evaluate(`history.pushState(null, '', ${JSON.stringify(route)}); dispatchEvent(new PopStateEvent('popstate', { state: null }));`);
}

async function openTask(projectId: string, taskId: string, tab: string): Promise<void> {
  await navigate(`/projects/${projectId}/tasks/${taskId}/${tab}`);
}

async function contextMenu(rowText: string, item: string): Promise<void> {
  await page.locator('.list-container, sm-experiments-table, body').getByText(rowText, { exact: true }).first().click({ button: 'right' });
  await page.getByRole('menuitem', { name: item }).first().click();
}

maybe(
  "the admin's workflow: clone, edit General, enqueue, run as agent, CONSOLE, SCALARS, Abort, archive view",
  async () => {
    try {
      await workflow();
    } catch (e) {
      await page.screenshot({ path: path.join(shots, 'zz-failure.png') }).catch(() => undefined);
      throw e;
    }
  },
  240_000,
);

async function workflow(): Promise<void> {
    const services = await client.queues.create({ name: 'services' });
    expect(services.id).toBeTruthy();
    const reg = await registerTask(client, {
      repo: { repository: 'https://github.com/example/clearml-cleanup.git', branch: 'main', commit: 'a'.repeat(40), workingDir: '.', dirty: false, unpushed: false },
      params: DEFAULT_PARAMS,
      log: collectingLog(),
    });
    const experiments = (await client.projects.create({ name: 'Old experiments' })).id;
    const victims = await oldArchived(experiments, 3);

    // 1. log in: user name = access key, password = secret key (the server's fixed-users mode)
    await page.goto(`${server.webUrl}/`);
    await page.locator('input').nth(0).fill(server.accessKey);
    await page.locator('input').nth(1).fill(server.secretKey);
    await shot('01-login');
    await page.getByRole('button', { name: /log ?in/i }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/login'));
    await navigate('/projects');
    await page.getByText('DevOps Services').first().waitFor();
    await shot('02-projects');

    // 2. the archive view of the project holding the old archived tasks
    await navigate(`/projects/${experiments}/tasks`);
    await page.getByText(/open archive/i).click();
    await page.getByText('old experiment 0').first().waitFor();
    await shot('03-archive-before');

    // 3. DevOps Services > Cleanup Service > Clone
    await openTask(reg.projectId, reg.taskId, 'execution');
    await page.getByText('scripts/clearml-task.sh').first().waitFor();
    await contextMenu('Cleanup Service', 'Clone');
    await page.getByRole('button', { name: /^clone$/i }).click();
    const cloneId = await waitFor('the clone', async () => {
      const m = /\/tasks\/([0-9a-f]{32})/.exec(page.url());
      return m && m[1] !== reg.taskId ? m[1] : undefined;
    });
    await shot('04-cloned');

    // 4. CONFIGURATION > HYPERPARAMETERS > General: edit two values, save
    await page.getByText('CONFIGURATION', { exact: true }).click();
    await page.getByText('General', { exact: true }).first().click();
    await page.getByText('delete_threshold_days').first().hover();
    await page.getByRole('button', { name: /^edit$/i }).click();
    const setParam = async (name: string, value: string) => {
      const names = await page.locator('[data-id="parameterField"]').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value));
      expect(names).toContain(name);
      await page.locator('[data-id="valueField"]').nth(names.indexOf(name)).fill(value);
    };
    await setParam('delete_threshold_days', '45');
    await setParam('cleanup_period_in_days', '30');
    await page.getByRole('button', { name: /^save$/i }).click();
    await page.getByText('45', { exact: true }).first().waitFor();
    await shot('05-general-hyperparameters');
    const general = (await client.tasks.getById({ task: cloneId })).task.hyperparams?.General ?? {};
    expect(general.delete_threshold_days?.value).toBe('45');
    expect(general.cleanup_period_in_days?.value).toBe('30');

    // 5. Enqueue on "services"
    await contextMenu('Clone of Cleanup Service', 'Enqueue');
    const queueInput = page.locator('mat-dialog-container input').first();
    await queueInput.click();
    await queueInput.fill('services');
    await page.getByRole('option', { name: 'services' }).first().click();
    await page.getByRole('button', { name: /^enqueue$/i }).click();
    await waitFor('queued', async () => (await client.tasks.getById({ task: cloneId })).task.status === 'queued');
    await page.getByText(/pending|queued/i).first().waitFor();
    await shot('06-enqueued');

    // 6. the agent takes it and runs the entry script; one pass, then it sleeps 30 days
    const run = await runAsAgent(cloneId);
    await waitFor('the first pass', async () => run.output().includes('going to sleep'), 60_000);
    expect(run.output()).toContain('Summary: deleted 3 tasks');
    expect(run.output()).toMatch(/files on .*: 3 deleted \(3\.0 MB\)/);

    // 7. CONSOLE shows the pass summary
    await openTask(reg.projectId, cloneId, 'info-output/log');
    await page.getByText('CONSOLE', { exact: true }).click();
    await page.getByText(/Summary: deleted 3 tasks/).first().waitFor({ timeout: 30_000 });
    await shot('07-console-after-pass');

    // 8. SCALARS: the freed-storage plot
    await page.getByText('SCALARS', { exact: true }).click();
    await page.locator('.js-plotly-plot').first().waitFor({ timeout: 30_000 });
    await page.locator('text="bytes freed" >> visible=true').first().waitFor();
    await shot('08-scalars');

    // 9. Abort from the UI: the service stops at its next check, the agent reports it, the UI shows Aborted
    await contextMenu('Clone of Cleanup Service', 'Abort');
    await page.locator('mat-dialog-container').getByRole('button', { name: /^abort$/i }).click();
    const code = await Promise.race([run.done, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 40_000).unref())]);
    expect(code).toBe(EXIT_STOPPED);
    const after = (await client.tasks.getById({ task: cloneId })).task;
    if (after.status !== 'stopped') await client.tasks.stopped({ task: cloneId, force: true });
    await navigate('/projects');
    await openTask(reg.projectId, cloneId, 'execution');
    await page.getByText('Aborted').first().waitFor({ timeout: 30_000 });
    await shot('09-aborted');

    // 10. the deleted archived tasks are gone from the archive view
    expect((await client.tasks.getAll({ id: victims, only_fields: ['id'] })).tasks).toHaveLength(0);
    await navigate(`/projects/${experiments}/tasks`);
    await page.getByText(/open archive/i).click();
    await page.waitForTimeout(2000);
    await shot('10-archive-after');
    expect(await page.getByText('old experiment 0').count()).toBe(0);
    // what the app still could not get along the way (see docs/webapp.md)
    // eslint-disable-next-line no-console
    console.log(`web app calls that failed: ${[...new Set(failedCalls)].join(', ') || 'none'}; page errors: ${pageErrors.length}`);
}
