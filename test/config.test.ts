import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, describeConfig, loadConfig } from '../src/config/index.js';
import { deriveFilesServer, deriveWebServer } from '../src/config/hosts.js';
import { quotePyhoconValues } from '../src/config/hocon.js';
import { AGENT_JSON_FILE, CLEARML_INIT_FILE, TempHome } from './config-helpers.js';

const KEYS_CONF = { access_key: 'FILEACCESSKEY0000001', secret_key: 'file-secret-value-0000001' };
const KEYS = { CLEARML_API_ACCESS_KEY: 'ENVACCESSKEY00000001', CLEARML_API_SECRET_KEY: 'env-secret-value-000000000001' };

let home: TempHome;
beforeEach(() => {
  home = new TempHome();
});
afterEach(() => home.remove());

async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('environment only', () => {
  test('hosts and keys from CLEARML_* variables, web/files derived, result deep-frozen', async () => {
    const cfg = await loadConfig({ env: { CLEARML_API_HOST: 'http://localhost:8008/', ...KEYS }, homeDir: home.dir });
    expect(cfg.api).toEqual({
      apiServer: 'http://localhost:8008',
      webServer: 'http://localhost:8080',
      filesServer: 'http://localhost:8081',
      accessKey: KEYS.CLEARML_API_ACCESS_KEY,
      secretKey: KEYS.CLEARML_API_SECRET_KEY,
      verifyCertificate: true,
      apiVersion: '2.23',
    });
    expect(cfg.files).toEqual([]);
    expect(cfg.sources).toMatchObject({
      'api.apiServer': 'env',
      'api.webServer': 'derived',
      'api.filesServer': 'derived',
      'api.accessKey': 'env',
      'api.verifyCertificate': 'default',
    });
    expect(cfg.origins?.['api.apiServer']).toBe('CLEARML_API_HOST');
    expect(cfg.storage.s3.credentials).toEqual([]);
    expect(Object.isFrozen(cfg) && Object.isFrozen(cfg.api) && Object.isFrozen(cfg.storage.s3.credentials)).toBe(true);
    expect(() => {
      (cfg.api as { apiServer: string }).apiServer = 'x';
    }).toThrow(TypeError);
  });

  test('CLEARML_AUTH_TOKEN alone is enough and replaces the key pair', async () => {
    const cfg = await loadConfig({
      env: { CLEARML_API_HOST: 'https://api.example.com', CLEARML_AUTH_TOKEN: 'eyJ.token.sig', ...KEYS },
      homeDir: home.dir,
    });
    expect(cfg.api.authToken).toBe('eyJ.token.sig');
    expect(cfg.api.accessKey).toBeUndefined();
    expect(cfg.api.secretKey).toBeUndefined();
  });

  test('agent variables: task id, worker id, log level; blank variables count as unset', async () => {
    const cfg = await loadConfig({
      env: {
        CLEARML_API_HOST: 'http://h:8008',
        ...KEYS,
        CLEARML_TASK_ID: 'abc123',
        CLEARML_WORKER_ID: 'vm:cpu:0:service:abc123',
        CLEARML_LOG_LEVEL: 'INFO',
        CLEARML_WEB_HOST: '   ',
      },
      homeDir: home.dir,
    });
    expect([cfg.taskId, cfg.workerId, cfg.logLevel]).toEqual(['abc123', 'vm:cpu:0:service:abc123', 'INFO']);
    expect(cfg.sources['taskId']).toBe('env');
    expect(cfg.api.webServer).toBe('http://h:8080');
  });
});

describe('clearml.conf as clearml-init writes it', () => {
  test('unquoted URLs, comments, dotted keys and credentials lists are all read', async () => {
    const file = home.write('clearml.conf', CLEARML_INIT_FILE);
    const cfg = await loadConfig({ env: {}, homeDir: home.dir });
    expect(cfg.files).toEqual([file]);
    expect(cfg.api).toMatchObject({
      apiServer: 'http://clearml.local:8008',
      webServer: 'http://clearml.local:8080',
      filesServer: 'http://clearml.local:8081',
      accessKey: 'ABCDEFGHIJ0123456789',
      secretKey: 's3cr3t-V4lue-From-The-W3bapp-xyzQ',
    });
    expect(cfg.sources['api.webServer']).toBe('file');
    expect(cfg.origins?.['api.secretKey']).toBe(`${file}: api.credentials.secret_key`);
    expect(cfg.storage.s3).toEqual({
      key: 'AKIADEFAULTKEY000001',
      secret: 'default-aws-secret-0000000000000001',
      region: 'us-east-1',
      useCredentialsChain: false,
      credentials: [
        { bucket: 'ml-artifacts', key: 'AKIABUCKETKEY0000002', secret: 'bucket-aws-secret-000000000000002', region: 'eu-west-1' },
        { bucket: '', host: 'minio.local:9000', key: '12345678', secret: 'minio-secret-00000000003', secure: false },
      ],
    });
    expect(cfg.origins?.['storage.s3.credentials.1.host']).toBe(`${file}: sdk.aws.s3.credentials[1].host`);
    expect(cfg.storage.gcs).toEqual({
      project: 'ml-project',
      credentialsJson: '/secrets/gcs.json',
      credentials: [
        { bucket: 'gcs-bucket', subdir: 'path/in/bucket', project: 'other-project', credentialsJson: '/secrets/other.json' },
      ],
    });
    expect(cfg.storage.azure.containers).toEqual([
      { accountName: 'mystorageacct', accountKey: 'azure-account-key-0000000000000004==', containerName: 'models' },
    ]);
  });

  test('templates/clearml.conf parses and yields its placeholders', async () => {
    const text = readFileSync(join(process.cwd(), 'templates', 'clearml.conf'), 'utf8');
    const file = home.write('clearml.conf', text);
    const cfg = await loadConfig({ env: {}, homeDir: home.dir });
    expect(cfg.files).toEqual([file]);
    expect(cfg.api).toMatchObject({
      apiServer: 'http://localhost:8008',
      webServer: 'http://localhost:8080',
      filesServer: 'http://localhost:8081',
      accessKey: 'YOUR_ACCESS_KEY',
      secretKey: 'YOUR_SECRET_KEY',
      verifyCertificate: true,
    });
    // empty strings in the template count as unset, as in the SDK
    expect(cfg.storage.s3).toEqual({ useCredentialsChain: false, credentials: [] });
    expect(cfg.storage.gcs.credentials).toEqual([]);
    expect(cfg.storage.azure.containers).toEqual([]);
  });

  test('~/trains.conf and ~/clearml.conf are merged key by key, clearml.conf winning', async () => {
    const trains = home.write(
      'trains.conf',
      'api { api_server: "http://old:8008", credentials { access_key: "OLDKEY", secret_key: "oldsecret" } }\n' +
        'sdk.aws.s3.region: "us-west-2"\n',
    );
    const clearml = home.write('clearml.conf', 'api.credentials.secret_key = "newsecret"\napi.api_server: http://new:8008\n');
    const cfg = await loadConfig({ env: {}, homeDir: home.dir });
    expect(cfg.files).toEqual([trains, clearml]);
    expect(cfg.api.apiServer).toBe('http://new:8008');
    expect(cfg.api.accessKey).toBe('OLDKEY');
    expect(cfg.api.secretKey).toBe('newsecret');
    expect(cfg.storage.s3.region).toBe('us-west-2');
    expect(cfg.origins?.['api.accessKey']).toBe(`${trains}: api.credentials.access_key`);
    expect(cfg.origins?.['api.secretKey']).toBe(`${clearml}: api.credentials.secret_key`);
  });

  test('api.host is the alias of api.api_server, which wins when both are set', async () => {
    home.write('clearml.conf', 'api { host: "http://alias:8008", credentials { access_key: a, secret_key: b } }');
    expect((await loadConfig({ env: {}, homeDir: home.dir })).api.apiServer).toBe('http://alias:8008');
    home.write('clearml.conf', 'api { host: "http://alias:8008", api_server: "http://main:8008", credentials { access_key: a, secret_key: b } }');
    expect((await loadConfig({ env: {}, homeDir: home.dir })).api.apiServer).toBe('http://main:8008');
  });
});

describe("the agent's JSON file via CLEARML_CONFIG_FILE", () => {
  test('is read alone: ~/clearml.conf is ignored', async () => {
    home.write('clearml.conf', CLEARML_INIT_FILE);
    const json = home.write('agent/tmp/clearml_agent.conf', AGENT_JSON_FILE);
    const cfg = await loadConfig({ env: { CLEARML_CONFIG_FILE: json, CLEARML_TASK_ID: 't1' }, homeDir: home.dir });
    expect(cfg.files).toEqual([json]);
    expect(cfg.api).toMatchObject({
      apiServer: 'http://10.0.0.5:8008',
      filesServer: 'http://10.0.0.5:8081',
      accessKey: 'AGENTACCESSKEY000001',
      secretKey: 'agent-secret-key-value-0000001',
      verifyCertificate: false,
    });
    expect(cfg.storage.s3.key).toBeUndefined();
    expect(cfg.storage.s3.credentials).toEqual([
      { bucket: 'agent-bucket', host: '10.0.0.6:9000', key: 'k', secret: 'agent-s3-secret-0001', secure: false },
    ]);
    expect(cfg.storage.gcs).toEqual({ credentials: [] });
    expect(cfg.taskId).toBe('t1');
  });

  test('TRAINS_CONFIG_FILE is the legacy name, with ~ expanded', async () => {
    home.write('conf/agent.json', AGENT_JSON_FILE);
    const cfg = await loadConfig({ env: { TRAINS_CONFIG_FILE: '~/conf/agent.json' }, homeDir: home.dir });
    expect(cfg.files).toEqual([home.path('conf/agent.json')]);
  });
});

describe('precedence', () => {
  test('environment wins over the file, value by value', async () => {
    const file = home.write('clearml.conf', CLEARML_INIT_FILE);
    const cfg = await loadConfig({
      env: { CLEARML_API_HOST: 'https://api.example.com', CLEARML_API_SECRET_KEY: 'from-env-secret-000000001' },
      homeDir: home.dir,
    });
    expect(cfg.api.apiServer).toBe('https://api.example.com');
    expect(cfg.api.secretKey).toBe('from-env-secret-000000001');
    expect(cfg.api.accessKey).toBe('ABCDEFGHIJ0123456789');
    // web_server is set in the file, so it is not derived from the env api host
    expect(cfg.api.webServer).toBe('http://clearml.local:8080');
    expect(cfg.sources).toMatchObject({ 'api.apiServer': 'env', 'api.secretKey': 'env', 'api.accessKey': 'file' });
    expect(cfg.origins?.['api.accessKey']).toBe(`${file}: api.credentials.access_key`);
  });

  test('command-line overrides win over the environment', async () => {
    const cfg = await loadConfig({
      env: { CLEARML_API_HOST: 'http://env:8008', ...KEYS },
      homeDir: home.dir,
      overrides: { apiServer: 'http://cli:8008', verifyCertificate: false },
    });
    expect(cfg.api.apiServer).toBe('http://cli:8008');
    expect(cfg.api.verifyCertificate).toBe(false);
    expect(cfg.sources['api.apiServer']).toBe('cli');
  });

  test('TRAINS_* variables are the fallback; CLEARML_* wins when both are set', async () => {
    const env = {
      TRAINS_API_HOST: 'http://trains:8008',
      TRAINS_API_ACCESS_KEY: 'TRAINSKEY',
      TRAINS_API_SECRET_KEY: 'trains-secret',
      TRAINS_FILES_HOST: 'http://trains-files:9999/',
    };
    const legacy = await loadConfig({ env, homeDir: home.dir });
    expect(legacy.api).toMatchObject({
      apiServer: 'http://trains:8008',
      accessKey: 'TRAINSKEY',
      secretKey: 'trains-secret',
      filesServer: 'http://trains-files:9999',
    });
    expect(legacy.origins?.['api.accessKey']).toBe('TRAINS_API_ACCESS_KEY');
    const both = await loadConfig({ env: { ...env, CLEARML_API_HOST: 'http://clearml:8008' }, homeDir: home.dir });
    expect(both.api.apiServer).toBe('http://clearml:8008');
  });

  test('storage: the file wins, AWS_* / AZURE_STORAGE_* fill in what it leaves empty', async () => {
    home.write('clearml.conf', 'api { api_server: "http://h:8008", credentials { access_key: a, secret_key: b } }\nsdk.aws.s3 { key: "", region: "eu-central-1" }');
    const cfg = await loadConfig({
      env: {
        AWS_ACCESS_KEY_ID: 'AKIAENV',
        AWS_SECRET_ACCESS_KEY: 'env-aws-secret',
        AWS_DEFAULT_REGION: 'us-east-2',
        AZURE_STORAGE_ACCOUNT: 'envacct',
        AZURE_STORAGE_KEY: 'env-azure-key',
      },
      homeDir: home.dir,
    });
    expect(cfg.storage.s3).toMatchObject({ key: 'AKIAENV', secret: 'env-aws-secret', region: 'eu-central-1' });
    expect(cfg.origins?.['storage.s3.key']).toBe('AWS_ACCESS_KEY_ID');
    expect(cfg.sources['storage.s3.region']).toBe('file');
    expect(cfg.storage.azure.containers).toEqual([{ accountName: 'envacct', accountKey: 'env-azure-key' }]);
  });
});

describe('derived hosts', () => {
  test.each([
    ['http://localhost:8008', 'http://localhost:8080', 'http://localhost:8081'],
    ['https://api.example.com', 'https://app.example.com', 'https://files.example.com'],
    ['https://api.example.com/', 'https://app.example.com', 'https://files.example.com'],
    ['https://api.clear.ml', 'https://app.clear.ml', 'https://files.clear.ml'],
    ['https://demoapi.demo.clear.ml', 'https://demoapp.demo.clear.ml', 'https://demofiles.demo.clear.ml'],
    // as in the SDK: the api. rename comes first, then any explicit port becomes 8081
    ['http://api.example.com:8008', 'http://app.example.com:8008', 'http://app.example.com:8081'],
    ['http://10.1.2.3:8008', 'http://10.1.2.3:8080', 'http://10.1.2.3:8081'],
  ])('%s -> %s, %s', async (api, web, files) => {
    const cfg = await loadConfig({ env: { CLEARML_API_HOST: api, ...KEYS }, homeDir: home.dir });
    expect([cfg.api.webServer, cfg.api.filesServer]).toEqual([web, files]);
  });

  test('files from an explicit web server without a port or app. prefix gets :8081', () => {
    expect(deriveFilesServer('http://x:8008', 'https://clearml.example.com')).toBe('https://clearml.example.com:8081');
    expect(deriveWebServer('https://clearml.example.com/api')).toBeUndefined();
  });

  test('an API address with no recognisable pattern leaves web and files unknown, with a warning', async () => {
    const cfg0 = await loadConfig({ env: { CLEARML_API_HOST: 'https://clearml.example.com/api', ...KEYS }, homeDir: home.dir });
    expect(cfg0.api.webServer).toBeUndefined();
    expect(cfg0.api.filesServer).toBeUndefined();
    expect(cfg0.warnings).toHaveLength(1);
    expect(cfg0.warnings![0]).toContain('CLEARML_FILES_HOST');
    expect(cfg0.warnings![0]).toContain('https://clearml.example.com/api');
    expect(describeConfig(cfg0)).toMatch(/api\.filesServer\s+\(unknown: no file-server URL will be deleted\)/);
    expect(describeConfig(cfg0)).toMatch(/^warning: the ClearML files server is unknown/m);
    const cfg = await loadConfig({
      env: { CLEARML_API_HOST: 'https://clearml.example.com/api', CLEARML_WEB_HOST: 'https://clearml.example.com', ...KEYS },
      homeDir: home.dir,
    });
    expect(cfg.api.filesServer).toBe('https://clearml.example.com:8081');
    expect(cfg.warnings).toBeUndefined();
  });

  test("the agent's JSON file with only api_server on another port loads (files server unknown)", async () => {
    const file = home.write('agent.json', JSON.stringify({ api: { api_server: 'http://10.0.0.5:18008', credentials: KEYS_CONF } }));
    const cfg = await loadConfig({ env: { CLEARML_CONFIG_FILE: file }, homeDir: home.dir });
    expect(cfg.api.apiServer).toBe('http://10.0.0.5:18008');
    expect(cfg.api.filesServer).toBeUndefined();
    expect(cfg.warnings?.[0]).toMatch(/files server is unknown/);
  });
});

describe('verify_certificate', () => {
  const base = 'api { api_server: "https://h.example.com:8008", credentials { access_key: a, secret_key: b } }\n';

  test('false in the file', async () => {
    home.write('clearml.conf', `${base}api.verify_certificate: false\n`);
    const cfg = await loadConfig({ env: {}, homeDir: home.dir });
    expect(cfg.api.verifyCertificate).toBe(false);
    expect(cfg.sources['api.verifyCertificate']).toBe('file');
  });

  test('a CA bundle path in the file, ~ expanded', async () => {
    const ca = home.write('certs/ca.pem', '-----BEGIN CERTIFICATE-----\n');
    home.write('clearml.conf', `${base}api.verify_certificate: ~/certs/ca.pem\n`);
    const cfg = await loadConfig({ env: {}, homeDir: home.dir });
    expect(cfg.api.verifyCertificate).toBe(ca);
  });

  test('CLEARML_API_HOST_VERIFY_CERT overrides the file (any truth word)', async () => {
    home.write('clearml.conf', `${base}api.verify_certificate: true\n`);
    const cfg = await loadConfig({ env: { CLEARML_API_HOST_VERIFY_CERT: 'No' }, homeDir: home.dir });
    expect(cfg.api.verifyCertificate).toBe(false);
    expect(cfg.origins?.['api.verifyCertificate']).toBe('CLEARML_API_HOST_VERIFY_CERT');
  });

  test('a number is refused, naming the key and the file', async () => {
    const file = home.write('clearml.conf', `${base}api.verify_certificate: 5\n`);
    const err = await configError(loadConfig({ env: {}, homeDir: home.dir }));
    expect(err.message).toContain('api.verify_certificate');
    expect(err.message).toContain(file);
    expect(err.message).toContain('true, false or the path of a CA bundle');
  });

  test('a CA path that does not exist is refused, naming the variable', async () => {
    home.write('clearml.conf', base);
    const err = await configError(
      loadConfig({ env: { CLEARML_API_HOST_VERIFY_CERT: '/nonexistent/ca.pem' }, homeDir: home.dir }),
    );
    expect(err.message).toContain('CLEARML_API_HOST_VERIFY_CERT');
    expect(err.message).toContain('/nonexistent/ca.pem does not exist');
  });
});

describe('bad configuration', () => {
  const SECRET = 'TOPSECRETvalue987654';

  test('a syntax error names the file and the line, and never the secret', async () => {
    const file = home.write(
      'clearml.conf',
      `api {\n  api_server: http://h:8008\n  credentials { access_key: "AK", secret_key: "${SECRET}" \n}\n`,
    );
    const err = await configError(loadConfig({ env: {}, homeDir: home.dir }));
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/line \d+/);
    expect(err.message).not.toContain(SECRET);
    expect(err.message).not.toMatch(/\n|at .*\.js/);
  });

  test('an unclosed quote or a stray character next to a secret does not echo it', async () => {
    home.write('clearml.conf', `api.credentials.secret_key: "${SECRET}\n`);
    const unclosed = await configError(loadConfig({ env: {}, homeDir: home.dir }));
    expect(unclosed.message).toContain('line 1');
    expect(unclosed.message).not.toContain(SECRET);
    home.write('clearml.conf', `api.credentials.secret_key: ${SECRET}?x\n`);
    const stray = await configError(loadConfig({ env: {}, homeDir: home.dir }));
    expect(stray.message).not.toContain(SECRET);
    expect(stray.message).not.toContain(SECRET.slice(0, 5));
  });

  test('a file named by CLEARML_CONFIG_FILE that does not exist', async () => {
    const missing = home.path('nope/clearml.conf');
    const err = await configError(loadConfig({ env: { CLEARML_CONFIG_FILE: missing, ...KEYS }, homeDir: home.dir }));
    expect(err.message).toContain('CLEARML_CONFIG_FILE');
    expect(err.message).toContain(missing);
    expect(err.message).toContain('does not exist');
    expect(err.file).toBe(missing);
  });

  test('no credentials anywhere: "ClearML is not configured", listing where it looked', async () => {
    home.write('clearml.conf', 'api { api_server: "http://h:8008" }\n');
    const err = await configError(loadConfig({ env: {}, homeDir: home.dir }));
    expect(err.message).toContain('ClearML is not configured');
    expect(err.message).toContain('CLEARML_API_ACCESS_KEY');
    expect(err.message).toContain('clearml-init');
    expect(err.message).toContain(home.path('clearml.conf'));
    expect(err.message).toContain(`${home.path('trains.conf')} (absent)`);
  });

  test('half a key pair names the missing half and not the present secret', async () => {
    const err = await configError(
      loadConfig({ env: { CLEARML_API_HOST: 'http://h:8008', CLEARML_API_SECRET_KEY: SECRET }, homeDir: home.dir }),
    );
    expect(err.message).toContain('access key is missing');
    expect(err.message).toContain('CLEARML_API_ACCESS_KEY');
    expect(err.message).not.toContain(SECRET);
  });

  test('credentials but no API server', async () => {
    const err = await configError(loadConfig({ env: KEYS, homeDir: home.dir }));
    expect(err.message).toContain('API server is not set');
    expect(err.message).toContain('CLEARML_API_HOST');
  });

  test('wrong types: a list as api_server, an object as the credentials list, an entry without bucket', async () => {
    const file = home.write('clearml.conf', 'api { api_server: [1], credentials { access_key: a, secret_key: b } }');
    const list = await configError(loadConfig({ env: {}, homeDir: home.dir }));
    expect(list.message).toBe(`api.api_server in ${file} must be a text value, not a list. Fix it in that file.`);

    home.write('clearml.conf', 'api { api_server: "http://h:8008", credentials { access_key: a, secret_key: b } }\nsdk.aws.s3.credentials { bucket: x }');
    const obj = await configError(loadConfig({ env: {}, homeDir: home.dir }));
    expect(obj.message).toContain('sdk.aws.s3.credentials');
    expect(obj.message).toContain('must be a list');

    home.write('clearml.conf', 'api { api_server: "http://h:8008", credentials { access_key: a, secret_key: b } }\nsdk.aws.s3.credentials: [{ key: "k", secret: "SECRETX" }]');
    const entry = await configError(loadConfig({ env: {}, homeDir: home.dir }));
    expect(entry.message).toContain('sdk.aws.s3.credentials[0]');
    expect(entry.message).toContain('no bucket');
    expect(entry.message).not.toContain('SECRETX');
  });

  test('an API server that is not a URL', async () => {
    const err = await configError(loadConfig({ env: { CLEARML_API_HOST: 'localhost:8008', ...KEYS }, homeDir: home.dir }));
    expect(err.message).toContain('CLEARML_API_HOST must be an http(s) URL');
  });
});

describe('pyhocon compatibility pass', () => {
  test('quotes unquoted URL and host:port values only, keeping line numbers', () => {
    const text = [
      'api_server: http://localhost:8008 # comment',
      '  host = minio:9000',
      'quoted: "http://x:1"',
      'plain: hello world',
      'path: /etc/ssl/ca.pem',
      'ref: ${HOME}',
      'm: """',
      'inside: http://untouched:1',
      '"""',
    ].join('\n');
    expect(quotePyhoconValues(text).split('\n')).toEqual([
      'api_server: "http://localhost:8008" # comment',
      '  host = "minio:9000"',
      'quoted: "http://x:1"',
      'plain: hello world',
      'path: /etc/ssl/ca.pem',
      'ref: ${HOME}',
      'm: """',
      'inside: http://untouched:1',
      '"""',
    ]);
  });

  test('also after { and , on one line, but not inside strings or comments', () => {
    expect(quotePyhoconValues('s3.credentials: [ { host: 10.0.0.1:9000, key: k, url: s3://b/p } ]')).toBe(
      's3.credentials: [ { host: "10.0.0.1:9000", key: k, url: "s3://b/p" } ]',
    );
    expect(quotePyhoconValues('note: "a, b: c:d" # { x: y:z }')).toBe('note: "a, b: c:d" # { x: y:z }');
    expect(quotePyhoconValues('{"api": {"api_server": "http://h:8008", "n": 1}}')).toBe('{"api": {"api_server": "http://h:8008", "n": 1}}');
  });

  test('a CRLF file with a byte-order mark and one-line objects loads', async () => {
    home.write(
      'clearml.conf',
      '\uFEFF# c\r\napi {\r\n    api_server: http://h:8008/ // trailing comment\r\n' +
        '    credentials {"access_key": "a", "secret_key": "b:c"}\r\n}\r\n' +
        'sdk {\r\n  aws.s3.credentials: [ { host: 10.0.0.1:9000, key: k, secret: s }\r\n ]\r\n}\r\n',
    );
    const cfg = await loadConfig({ env: {}, homeDir: home.dir });
    expect(cfg.api).toMatchObject({ apiServer: 'http://h:8008', secretKey: 'b:c' });
    expect(cfg.storage.s3.credentials).toEqual([{ bucket: '', host: '10.0.0.1:9000', key: 'k', secret: 's' }]);
  });
});
