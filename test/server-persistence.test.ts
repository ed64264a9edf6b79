import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../src/server/index.js';
import { Api, login } from './support/embedded-api.js';
import { serverStarted } from './support/node-script.js';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

/** Compiles only the server (and what it imports) so a child process can run it and be killed -9. */
function buildServer(): string {
  const out = path.join(repo, 'node_modules', '.cache', `embedded-server-test-${process.pid}`);
  fs.mkdirSync(out, { recursive: true });
  const tsconfig = path.join(out, 'tsconfig.json');
  fs.writeFileSync(tsconfig, JSON.stringify({
    extends: path.join(repo, 'tsconfig.json'),
    compilerOptions: { outDir: path.join(out, 'dist'), rootDir: path.join(repo, 'src'), sourceMap: false },
    include: [],
    files: [path.join(repo, 'src', 'server', 'index.ts'), path.join(repo, 'src', 'commands', 'server.ts')],
  }));
  const r = spawnSync(process.execPath, [path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tsc failed: ${r.stdout}${r.stderr}`);
  // inside node_modules no package scope applies: mark the build as ESM
  fs.writeFileSync(path.join(out, 'package.json'), '{"type":"module"}');
  fs.writeFileSync(
    path.join(out, 'run.js'),
    `import { startServer } from './dist/server/index.js';
const s = await startServer({ dataDir: process.argv[2] });
process.stdout.write(JSON.stringify({ apiUrl: s.apiUrl, accessKey: s.accessKey, secretKey: s.secretKey }) + '\\n');
setInterval(() => {}, 1 << 30);
`,
  );
  // the `server` command alone, registered the way src/cli.ts does it
  fs.writeFileSync(
    path.join(out, 'cli.js'),
    `import yargs from 'yargs';
import { serverCommand } from './dist/commands/server.js';
await yargs(process.argv.slice(2)).command(serverCommand).strict().parseAsync();
`,
  );
  return out;
}

function startChild(build: string, dataDir: string): Promise<{ child: ChildProcess; info: any }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(build, 'run.js'), dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (c) => {
      out += c;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ child, info: JSON.parse(out.slice(0, nl)) });
    });
    child.stderr!.on('data', (c) => (err += c));
    child.on('exit', (code) => reject(new Error(`server child exited ${code}: ${err}`)));
  });
}

let build: string;
let child: ChildProcess | undefined;
let cliChild: ChildProcess | undefined;
const dirs: string[] = [];
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'embedded-persist-'));
  dirs.push(d);
  return d;
};

beforeAll(() => {
  build = buildServer();
}, 60000);

afterAll(() => {
  for (const c of [child, cliChild]) if (c?.pid && c.exitCode === null) c.kill('SIGKILL');
  fs.rmSync(build, { recursive: true, force: true });
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

test('data and generated credentials survive a clean restart', async () => {
  const dataDir = tempDir();
  const first = await Api.start({ dataDir });
  expect(first.server.credentialsFile).toBe(path.join(dataDir, 'credentials.json'));
  expect((fs.statSync(first.server.credentialsFile!).mode & 0o777).toString(8)).toBe('600');
  const project = (await first.ok('projects.create', { name: 'Persisted' })).id;
  const id = await first.createTask('persisted task', { project });
  await first.ok('tasks.archive', { tasks: [id] });
  const oldToken = first.token;
  await first.close();

  const second = await startServer({ dataDir });
  try {
    expect(second.accessKey).toBe(first.server.accessKey);
    expect(second.secretKey).toBe(first.server.secretKey);
    // tokens stay valid across a restart (the signing key is kept too)
    const res = await fetch(`${second.apiUrl}/v2.23/tasks.get_by_id`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${oldToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ task: id }),
    });
    expect(res.status).toBe(200);
    const body: any = await res.json();
    expect(body.data.task).toMatchObject({ id, name: 'persisted task', project, system_tags: ['archived'] });
  } finally {
    await second.close();
  }
});

test('explicit keys are used and not written to disk', async () => {
  const dataDir = tempDir();
  const s = await startServer({ dataDir, accessKey: 'MYACCESSKEY', secretKey: 'my-secret-value' });
  try {
    expect(s.credentialsFile).toBeUndefined();
    expect(fs.readFileSync(path.join(dataDir, 'credentials.json'), 'utf8')).not.toContain('my-secret-value');
    expect((await login(s)).split('.')).toHaveLength(3);
  } finally {
    await s.close();
  }
});

test('kill -9 right after answered writes loses nothing', async () => {
  const dataDir = tempDir();
  const started = await startChild(build, dataDir);
  child = started.child;
  const basic = Buffer.from(`${started.info.accessKey}:${started.info.secretKey}`).toString('base64');
  const token = ((await (await fetch(`${started.info.apiUrl}/auth.login`, { headers: { Authorization: `Basic ${basic}` } })).json()) as any).data.token;
  const call = async (endpoint: string, body: Record<string, unknown>) => {
    const res = await fetch(`${started.info.apiUrl}/v2.23/${endpoint}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as any).data;
  };
  const created: string[] = [];
  for (let i = 0; i < 50; i++) created.push((await call('tasks.create', { name: `durable ${i}`, type: 'training' })).id);
  await call('tasks.delete', { task: created[0] });
  await call('tasks.archive', { tasks: [created[1]] });
  const exited = new Promise((r) => child!.once('exit', r));
  child.kill('SIGKILL');
  await exited;

  const api = await Api.start({ dataDir });
  try {
    const { tasks } = await api.ok('tasks.get_all', { name: '^durable ', only_fields: ['id', 'system_tags'] });
    expect(tasks).toHaveLength(49);
    expect(tasks.map((t: any) => t.id).sort()).toEqual(created.slice(1).sort());
    expect(tasks.find((t: any) => t.id === created[1]).system_tags).toEqual(['archived']);
  } finally {
    await api.close();
  }
}, 30000);

test('`server` command prints URLs and the access key, never the secret, and stops cleanly on SIGTERM', async () => {
  const dataDir = tempDir();
  const cli = spawn(process.execPath, [path.join(build, 'cli.js'), 'server', '--port', '0', '--files-port', '0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cliChild = cli;
  const out = await serverStarted(cli);
  const creds = JSON.parse(fs.readFileSync(path.join(dataDir, 'credentials.json'), 'utf8'));
  expect(out).toContain(`access key:   ${creds.access_key}`);
  expect(out).toContain(path.join(dataDir, 'credentials.json'));
  expect(out).not.toContain(creds.secret_key);
  const apiUrl = /api server: +(\S+)/.exec(out)![1];
  const basic = Buffer.from(`${creds.access_key}:${creds.secret_key}`).toString('base64');
  expect((await fetch(`${apiUrl}/auth.login`, { headers: { Authorization: `Basic ${basic}` } })).status).toBe(200);
  const code = await new Promise((resolve) => {
    cli.removeAllListeners('exit');
    cli.once('exit', (c) => resolve(c));
    cli.kill('SIGTERM');
  });
  expect(code).toBe(0);
}, 30000);

test('`server` command refuses mismatched key options', () => {
  const r = spawnSync(process.execPath, [path.join(build, 'cli.js'), 'server', '--access-key', 'only-one'], { encoding: 'utf8' });
  expect(r.status).not.toBe(0);
  expect(r.stderr + r.stdout).toMatch(/--access-key and --secret-key go together/);
});

test('`server --api-version 2.20 --record-requests` answers as that server and lists what arrived', async () => {
  const cli = spawn(process.execPath, [path.join(build, 'cli.js'), 'server', '--port', '0', '--files-port', '0', '--api-version', '2.20', '--record-requests'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cliChild = cli;
  const out = await serverStarted(cli);
  expect(out).toMatch(/api server: +\S+ \(API 2\.20\)/);
  const apiUrl = /api server: +(\S+)/.exec(out)![1];
  const key = /access key: +(\S+)/.exec(out)![1];
  // without --data-dir the secret is not printed: a login with a wrong one is refused, and recorded
  const refused = await fetch(`${apiUrl}/auth.login`, { headers: { Authorization: `Basic ${Buffer.from(`${key}:wrong`).toString('base64')}` } });
  expect(refused.status).toBe(401);
  const later = await fetch(`${apiUrl}/v2.20/events.get_multi_task_metrics`, { method: 'POST', body: '{}' });
  expect(later.status).toBe(404);
  const log = (await (await fetch(`${apiUrl}/_embedded/requests`)).json()) as { requests: Array<{ endpoint: string; requested: string; status: number }> };
  expect(log.requests.map((r) => [r.endpoint, r.requested, r.status])).toEqual([
    ['auth.login', '2.20', 401],
    ['events.get_multi_task_metrics', '2.20', 404],
  ]);
  cli.removeAllListeners('exit');
  const code = await new Promise((resolve) => {
    cli.once('exit', (c) => resolve(c));
    cli.kill('SIGTERM');
  });
  expect(code).toBe(0);
}, 30000);

test('`server` command refuses an API version outside 2.13 to 2.34', () => {
  for (const v of ['2.5', '2.35', 'latest']) {
    const r = spawnSync(process.execPath, [path.join(build, 'cli.js'), 'server', '--api-version', v], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr + r.stdout).toContain(`--api-version must be an API version from 2.13 to 2.34 (e.g. 2.20), got "${v}"`);
  }
});
