import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { runConfigCommand } from '../src/commands/config.js';
import { CLEARML_INIT_FILE, TempHome } from './config-helpers.js';
import { ensureBuilt } from './support/node-script.js';

const SECRETS = [
  's3cr3t-V4lue-From-The-W3bapp-xyzQ',
  'default-aws-secret-0000000000000001',
  'bucket-aws-secret-000000000000002',
  'minio-secret-00000000003',
  'azure-account-key-0000000000000004==',
  'ABCDEFGHIJ0123456789',
];

let home: TempHome;
beforeEach(() => {
  home = new TempHome();
});
afterEach(() => home.remove());

async function run(json: boolean, env: NodeJS.ProcessEnv) {
  let out = '';
  let err = '';
  const code = await runConfigCommand({ json, env, homeDir: home.dir, out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('clearml-cleanup config (handler)', () => {
  test('text view: secrets masked, every value says where it came from', async () => {
    const file = home.write('clearml.conf', CLEARML_INIT_FILE);
    const { code, out, err } = await run(false, { CLEARML_API_HOST: 'https://user:pa55word@api.example.com', CLEARML_TASK_ID: 'task1' });
    expect(code).toBe(0);
    expect(err).toBe('');
    for (const secret of SECRETS) expect(out).not.toContain(secret);
    expect(out).not.toContain('pa55word');
    expect(out).toContain(`files read: ${file}`);
    expect(out).toMatch(/api\.apiServer\s+https:\/\/user:\*\*\*\*@api\.example\.com\s+\[env CLEARML_API_HOST\]/);
    expect(out).toMatch(/api\.secretKey\s+\*\*\*\*zQ\s+\[file /);
    expect(out).toContain(`[file ${file}: api.credentials.secret_key]`);
    expect(out).toMatch(/storage\.s3\.credentials\.1\.host\s+minio\.local:9000\s+\[file .*sdk\.aws\.s3\.credentials\[1\]\.host\]/);
    expect(out).toMatch(/storage\.s3\.credentials\.1\.secret\s+\*\*\*\*03\s/);
    expect(out).toMatch(/api\.verifyCertificate\s+true\s+\[default\]/);
    expect(out).toMatch(/taskId\s+task1\s+\[env CLEARML_TASK_ID\]/);
  });

  test('--json: the same values, masked, with files, sources and origins', async () => {
    home.write('clearml.conf', CLEARML_INIT_FILE);
    const { code, out } = await run(true, { CLEARML_API_HOST: 'http://localhost:8008' });
    expect(code).toBe(0);
    for (const secret of SECRETS) expect(out).not.toContain(secret);
    const view = JSON.parse(out);
    expect(view.api.apiServer).toBe('http://localhost:8008');
    expect(view.api.secretKey).toBe('****zQ');
    expect(view.storage.s3.credentials[0].secret).toBe('****02');
    expect(view.storage.azure.containers[0].accountKey).toBe('****==');
    expect(view.storage.s3.credentials[1].key).toBe('****');
    expect(view.sources['api.apiServer']).toBe('env');
    expect(view.origins['api.apiServer']).toBe('CLEARML_API_HOST');
    expect(view.files).toEqual([home.path('clearml.conf')]);
  });

  test('a configuration error is one line on stderr and exit code 2', async () => {
    const { code, out, err } = await run(false, {});
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err.trimEnd().split('\n')).toHaveLength(1);
    expect(err).toMatch(/^clearml-cleanup: ClearML is not configured/);
  });
});

describe('clearml-cleanup config (built CLI)', () => {
  const cli = join(process.cwd(), 'dist', 'cli.js');

  beforeAll(() => ensureBuilt(join('commands', 'config.js')), 120_000);

  function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH, HOME: home.dir, ...env } });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out, err }));
    });
  }

  test('prints the masked configuration read from $HOME/clearml.conf', async () => {
    home.write('clearml.conf', CLEARML_INIT_FILE);
    const { code, out, err } = await runCli(['config'], {});
    expect(err).toBe('');
    expect(code).toBe(0);
    for (const secret of SECRETS) expect(out).not.toContain(secret);
    expect(out).toMatch(/api\.filesServer\s+http:\/\/clearml\.local:8081\s+\[file /);
  });

  test('a missing CLEARML_CONFIG_FILE exits 2 with one line and no stack trace', async () => {
    const { code, out, err } = await runCli(['config', '--json'], { CLEARML_CONFIG_FILE: '/nonexistent/agent.json' });
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err.trimEnd().split('\n')).toHaveLength(1);
    expect(err).toContain('CLEARML_CONFIG_FILE names /nonexistent/agent.json, which does not exist');
    expect(err).not.toMatch(/\bat .*\.js:\d+/);
  });
});
