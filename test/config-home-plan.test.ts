/**
 * An administrator's machine: only ~/clearml.conf as clearml-init writes it (HOCON, unquoted URLs),
 * no CLEARML_* variables at all. `plan --json` must find the server, log in and list the candidates.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Api } from './support/embedded-api.js';
import { ensureBuilt } from './support/node-script.js';

let api: Api;
let home: string;

beforeAll(async () => {
  ensureBuilt('cli.js');
  api = await Api.start();
  home = mkdtempSync(path.join(os.tmpdir(), 'clearml-home-'));
  const { apiUrl, filesUrl, accessKey, secretKey } = api.server;
  writeFileSync(
    path.join(home, 'clearml.conf'),
    `# ClearML SDK configuration file
api {
    # Notice: 'host' is the api server (default port 8008), not the web server.
    api_server: ${apiUrl}
    web_server: ${apiUrl.replace(/:\d+$/, ':8080')}
    files_server: ${filesUrl}
    # Credentials are generated using the webapp, ${apiUrl.replace(/:\d+$/, ':8080')}/settings
    credentials {"access_key": "${accessKey}", "secret_key": "${secretKey}"}
}
sdk {
    aws {
        s3 {
            key: ""
            secret: ""
            region: ""
        }
    }
}
`,
  );
});

afterAll(async () => {
  await api?.server.close();
  rmSync(home, { recursive: true, force: true });
});

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // nothing of this process's environment but PATH: no CLEARML_*, no TRAINS_*, HOME = the fake home
  const child = spawn(process.execPath, [path.resolve('dist/cli.js'), ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const timer = setTimeout(() => child.pid && process.kill(child.pid, 'SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

test('plan --json with only a HOCON ~/clearml.conf lists the old archived Draft and deletes nothing', async () => {
  const oldDraft = await api.createTask('old archived draft');
  const recentDraft = await api.createTask('recent archived draft');
  await api.ok('tasks.archive_many', { ids: [oldDraft, recentDraft] });
  const back = await fetch(`${api.server.apiUrl}/_embedded/backdate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tasks: [oldDraft], days: 45 }),
  });
  expect(back.status).toBe(200);

  const { code, stdout, stderr } = await runCli(['plan', '--json', '--state-dir', path.join(home, 'state')]);
  expect(stderr).not.toMatch(/not configured|ConfigError/);
  expect(code).toBe(0);
  const doc = JSON.parse(stdout);
  expect(doc.tasks.map((t: { id: string }) => t.id)).toEqual([oldDraft]);
  expect(doc.report.dryRun).toBe(true);

  const left = await api.ok('tasks.get_all', { id: [oldDraft, recentDraft], only_fields: ['id'] });
  expect(left.tasks.map((t: { id: string }) => t.id).sort()).toEqual([oldDraft, recentDraft].sort());
});

test('config names ~/clearml.conf as the origin of the API host', async () => {
  const { code, stdout } = await runCli(['config']);
  expect(code).toBe(0);
  expect(stdout).toContain(path.join(home, 'clearml.conf'));
  expect(stdout).toMatch(new RegExp(`api\\.apiServer\\s+${api.server.apiUrl.replace(/[.:/]/g, '\\$&')}`));
  expect(stdout).not.toContain(api.server.secretKey);
});
