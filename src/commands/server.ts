/**
 * `clearml-cleanup server`: runs the embedded ClearML-compatible API server and file server
 * (for demos, tests and benchmarks) until SIGINT/SIGTERM. Prints URLs and the access key, never the secret.
 */
import type { CommandModule } from 'yargs';
import type { StartServerOptions } from '../server/index.js';
import { EXIT_OK, EXIT_USAGE } from './exit.js';

/** The same range the server checks, without loading the server at CLI start. */
function checkApiVersionArg(v: string): void {
  const m = /^2\.(\d+)$/.exec(v);
  if (!m || Number(m[1]) < 13 || Number(m[1]) > 34) {
    throw new Error(`--api-version must be an API version from 2.13 to 2.34 (e.g. 2.20), got "${v}"`);
  }
}

interface ServerArgs {
  host: string;
  port: number;
  'files-port': number;
  'data-dir'?: string;
  'access-key'?: string;
  'secret-key'?: string;
  'latency-ms': number;
  'fault-rate': number;
  'fault-seed': number;
  'api-version'?: string;
  'record-requests': boolean;
  webapp?: string;
  'web-port': number;
  'async-delete': boolean;
  'without-endpoint'?: string[];
}

export const serverCommand: CommandModule<object, ServerArgs> = {
  command: 'server',
  describe: 'Run the embedded ClearML-compatible API and file server (testing, demos, benchmarks)',
  builder: (yargs) =>
    yargs
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to bind' })
      .option('port', { type: 'number', default: 8008, describe: 'API port (0 = any free port)' })
      .option('files-port', { type: 'number', default: 8081, describe: 'file-server port (0 = any free port)' })
      .option('data-dir', { type: 'string', describe: 'keep data here (default: a temporary dir, deleted on exit)' })
      .option('access-key', { type: 'string', describe: 'API access key (default: generated and stored in the data dir)' })
      .option('secret-key', { type: 'string', describe: 'API secret key (with --access-key)' })
      .option('latency-ms', { type: 'number', default: 0, describe: 'delay added to every request' })
      .option('fault-rate', { type: 'number', default: 0, describe: 'fraction of requests that fail (500, 503 or dropped)' })
      .option('fault-seed', { type: 'number', default: 1, describe: 'seed choosing which requests fail' })
      .option('api-version', {
        type: 'string',
        describe: 'act as an older clearml-server whose newest API version is this (2.13 to 2.34)',
      })
      .option('record-requests', {
        type: 'boolean',
        default: false,
        describe: 'keep every API request for GET /_embedded/requests (tests of what a client sends)',
      })
      .option('webapp', { type: 'string', describe: 'serve this built ClearML web app (clearml-web build/browser folder) on --web-port' })
      .option('web-port', { type: 'number', default: 8080, describe: 'web app port with --webapp (0 = any free port)' })
      .option('async-delete', {
        type: 'boolean',
        default: true,
        describe: 'delete the files of deleted tasks and models unless a call sends delete_external_artifacts: false, as a stock clearml-server does (--no-async-delete: never)',
      })
      .option('without-endpoint', { type: 'string', array: true, describe: 'answer this endpoint as unknown, like an older server (e.g. events.debug_images)' })
      .check((argv) => {
        if (Boolean(argv['access-key']) !== Boolean(argv['secret-key'])) throw new Error('--access-key and --secret-key go together');
        if (argv['api-version'] !== undefined) checkApiVersionArg(String(argv['api-version']));
        if (!(argv['fault-rate'] >= 0 && argv['fault-rate'] <= 1)) throw new Error('--fault-rate must be between 0 and 1');
        for (const k of ['port', 'files-port', 'web-port', 'latency-ms'] as const) {
          if (!Number.isInteger(argv[k]) || argv[k] < 0) throw new Error(`--${k} must be a non-negative integer`);
        }
        return true;
      }),
  handler: async (argv) => {
    const opts: StartServerOptions = {
      host: argv.host,
      port: argv.port,
      filesPort: argv['files-port'],
      dataDir: argv['data-dir'],
      accessKey: argv['access-key'],
      secretKey: argv['secret-key'],
      latencyMs: argv['latency-ms'],
      faultRate: argv['fault-rate'],
      faultSeed: argv['fault-seed'],
      apiVersion: argv['api-version'],
      recordRequests: argv['record-requests'],
      webappDir: argv.webapp,
      webPort: argv['web-port'],
      asyncDelete: { enabled: argv['async-delete'] },
      withoutEndpoints: argv['without-endpoint'],
    };
    let server;
    try {
      // loaded here, not at CLI start: the other commands need none of the server (SQLite, services)
      const { startServer } = await import('../server/index.js');
      server = await startServer(opts);
    } catch (e) {
      process.stderr.write(`clearml-cleanup: cannot start the server: ${(e as Error).message}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    const lines = [
      `api server:   ${server.apiUrl} (API ${server.apiVersion})`,
      `files server: ${server.filesUrl}`,
      ...(server.webUrl
        ? [
            `web app:      ${server.webUrl} (log in with the access key as user name and the secret key as password` +
              (server.credentialsFile || argv['secret-key'] ? ')' : '; with a generated secret, start with --data-dir to read it, or give --access-key/--secret-key)'),
          ]
        : []),
      `access key:   ${server.accessKey}`,
      server.credentialsFile
        ? `secret key:   stored in ${server.credentialsFile}`
        : argv['secret-key']
          ? 'secret key:   as given with --secret-key'
          : 'secret key:   generated for this run only (no --data-dir); use --data-dir to keep it',
      `data:         ${argv['data-dir'] ?? 'temporary (deleted on exit)'}`,
      'Stop with Ctrl-C.',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    process.exitCode = EXIT_OK;
  },
};
