import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Service } from './api/service.js';
import { Authenticator } from './auth/authenticator.js';
import { resolveCredentials } from './auth/credentials.js';
import { Counters } from './embedded/counters.js';
import { FaultInjector } from './embedded/faults.js';
import { Latency } from './embedded/latency.js';
import { RequestLog } from './embedded/request-log.js';
import { createEmbeddedRoutes } from './embedded/routes.js';
import { ApiVersionPolicy } from './schema/emulation.js';
import { createFilesHandler } from './files/index.js';
import { ScrollStates } from './query/scroll-states.js';
import { wrapFilesHandler } from './files-wrapper.js';
import { createApiHandler } from './http/api-handler.js';
import { createEventsService } from './services/events.js';
import { createSingleValueMetrics } from './services/events-single-value.js';
import { createOrganizationService } from './services/organization.js';
import { createLoginService } from './services/login.js';
import { createAuthService, createDebugService, createServerService } from './services/misc.js';
import { createUsersService } from './services/users.js';
import { createModelsService } from './services/models.js';
import { createProjectsService } from './services/projects.js';
import { createProjectsExService } from './services/projects-ex.js';
import { createQueuesService, ensureDefaultQueue } from './services/queues.js';
import { createReportsService } from './services/reports.js';
import { updateTaskFromEvents } from './services/task-metrics.js';
import { createTasksService } from './services/tasks.js';
import { createTasksExService } from './services/get-all-ex.js';
import { createWorkersService } from './services/workers.js';
import { checkWebappDir, createWebappHandler } from './webapp/index.js';
import type { EmbeddedState } from './state.js';
export type { RecordedRequest } from './embedded/request-log.js';
import type { RecordedRequest } from './embedded/request-log.js';
import { compareVersions, MAX_API_VERSION, parseVersion } from './versions.js';
import { makeIsoNow } from './state.js';
import { openDatabase } from './store/db.js';
import { EventsStore } from './store/events-store.js';
import { Stores } from './store/stores.js';
import { AsyncDeleteJob, type AsyncDeleteOptions } from './async-delete/job.js';
import { UrlDeleteQueue, type QueuedUrl } from './async-delete/queue.js';

export interface StartServerOptions {
  host?: string;
  /** API port; 0 picks a free one */
  port?: number;
  /** file-server port; 0 picks a free one */
  filesPort?: number;
  /** where server.db, credentials.json and files/ live; a temporary dir (removed on close) when absent */
  dataDir?: string;
  accessKey?: string;
  secretKey?: string;
  /** delay added to every API and file-server request (changeable later: POST /_embedded/latency {ms}) */
  latencyMs?: number;
  /** fraction of API and file-server requests that fail (500, 503 or a dropped connection) */
  faultRate?: number;
  faultSeed?: number;
  /** a built ClearML web app (clearml-web's build/browser) to serve on webPort; none when absent */
  webappDir?: string;
  /** web app port; 0 picks a free one (only with webappDir) */
  webPort?: number;
  /**
   * Serve as a clearml-server whose newest API version is this (2.13 ... 2.34), from the real
   * servers' version history: endpoints and fields that version lacks behave as they did there.
   */
  apiVersion?: string;
  /** keep every API request (endpoint, version, body) for requests() and GET /_embedded/requests */
  recordRequests?: boolean;
  /**
   * The server's own file deletion (services.async_urls_delete): on by default as in the stock
   * deployment, so a deleting call that leaves `delete_external_artifacts` unset deletes files here
   * as on a real server. `{ enabled: false }` (CLI `--no-async-delete`) turns it off.
   */
  asyncDelete?: AsyncDeleteOptions;
  /**
   * Endpoints this server answers as unknown (e.g. ["events.debug_images", "events.plots"]), like a
   * server too old to have them; a narrow stand-in until full API-version emulation exists.
   */
  withoutEndpoints?: string[];
  /**
   * The file server's `fileserver.delete.allow_batch` (default true, as shipped): false serves no
   * `POST /delete_many` (405), so a client must delete file by file and cannot remove a folder.
   */
  filesBatchDelete?: boolean;
}

/** What the server queued for its own deletion (test support; also GET /_embedded/async_delete). */
export interface AsyncDeleteView {
  enabled: boolean;
  /** every URL a deleting call scheduled, in order, with what became of it */
  history(): QueuedUrl[];
  /** resolves once every URL due now has been tried */
  drain(): Promise<void>;
}

export interface RunningServer {
  apiUrl: string;
  filesUrl: string;
  /** the web app's URL, when webappDir was given */
  webUrl?: string;
  accessKey: string;
  secretKey: string;
  /** where generated keys are kept (absent when keys were given or the data dir is temporary) */
  credentialsFile?: string;
  dataDir: string;
  /** the newest API version served */
  apiVersion: string;
  /** the requests recorded so far (empty unless started with recordRequests) */
  requests(): RecordedRequest[];
  clearRequests(): void;
  asyncDelete: AsyncDeleteView;
  close(): Promise<void>;
}

/** The oldest server the emulation knows: API 2.13 (clearml-server 1.0, the first with tasks.delete_many). */
export const OLDEST_EMULATED_API_VERSION = '2.13';

/** A checked --api-version value, or an Error with one line saying what is accepted. */
export function checkApiVersion(v: string): string {
  const ok = parseVersion(v) && compareVersions(v, OLDEST_EMULATED_API_VERSION) >= 0 && compareVersions(v, MAX_API_VERSION) <= 0;
  if (!ok) throw new Error(`--api-version must be an API version from ${OLDEST_EMULATED_API_VERSION} to ${MAX_API_VERSION} (e.g. 2.20), got "${v}"`);
  return v;
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    // keep-alive sockets would keep close() (and jest) waiting
    server.closeAllConnections();
  });
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** projects.* plus what the web app's project pages ask for (stats, users, tags). */
function withProjectPages(state: EmbeddedState, base: Service): Service {
  return { ...base, ...createProjectsExService(state, base) };
}

/** tasks.* plus the web app's joined reads (get_all_ex, get_by_id_ex). */
function withTaskPages(state: EmbeddedState, base: Service): Service {
  return { ...base, ...createTasksExService(state, base) };
}

/** Starts the embedded ClearML-compatible API server and file server. */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  // a wrong folder is a one-line error before anything is opened or bound
  if (options.webappDir) checkWebappDir(options.webappDir);
  const host = options.host ?? '127.0.0.1';
  const versions = new ApiVersionPolicy(checkApiVersion(options.apiVersion ?? MAX_API_VERSION));
  const requestLog = new RequestLog(options.recordRequests ?? false);
  const temporary = !options.dataDir;
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'clearml-embedded-'));
  fs.mkdirSync(dataDir, { recursive: true });

  const creds = resolveCredentials(dataDir, !temporary, options.accessKey, options.secretKey);
  const db = openDatabase(path.join(dataDir, 'server.db'));
  const auth = new Authenticator(creds.accessKey, creds.secretKey, creds.tokenSecret, undefined, versions.max);
  const stores = new Stores(db);
  const now = () => new Date();
  const events = new EventsStore(db);
  const asyncOpts = options.asyncDelete ?? {};
  let filesUrl = '';
  const prefixes = () => asyncOpts.fileserverPrefixes ?? (filesUrl ? [filesUrl] : []);
  const urlQueue = new UrlDeleteQueue(prefixes);
  const job = new AsyncDeleteJob(urlQueue, () => ({ url: filesUrl, token: () => auth.issue(600) }), prefixes, asyncOpts);
  urlQueue.onQueued(() => job.wake());
  const urlDeletes = { enabled: asyncOpts.enabled ?? true, queue: urlQueue, drain: () => job.drain() };
  const state: EmbeddedState = {
    db,
    now,
    isoNow: makeIsoNow(now),
    getTask: (id) => stores.tasks.get(id),
    events,
    eventsStore: events,
    urlDeletes,
    apiVersion: versions.max,
    stores,
    auth,
    scrolls: new ScrollStates(),
  };
  ensureDefaultQueue(state);

  const services: Record<string, Service> = {
    auth: createAuthService(state),
    server: createServerService(state, versions.max),
    users: createUsersService(state),
    login: createLoginService(),
    debug: createDebugService(),
    tasks: withTaskPages(state, createTasksService(state)),
    models: createModelsService(state),
    projects: withProjectPages(state, createProjectsService(state)),
    queues: createQueuesService(state),
    reports: createReportsService(state),
    workers: createWorkersService(state),
    events: {
      ...createEventsService({ ...state, onTaskEvents: (id, summary) => updateTaskFromEvents(state, id, summary) }),
      ...createSingleValueMetrics(events),
    },
    organization: createOrganizationService(state),
  };

  for (const name of options.withoutEndpoints ?? []) {
    const [svc, action] = name.split('.');
    const service = services[svc];
    if (!service || !action || !Object.prototype.hasOwnProperty.call(service, action)) throw new Error(`unknown endpoint to leave out: ${name}`);
    services[svc] = Object.fromEntries(Object.entries(service).filter(([a]) => a !== action));
  }

  const counters = new Counters();
  const seed = options.faultSeed ?? 1;
  const latency = new Latency(options.latencyMs ?? 0);
  const apiServer = http.createServer(
    createApiHandler({
      services,
      auth,
      counters,
      faults: new FaultInjector(options.faultRate ?? 0, seed),
      latency,
      versions,
      requests: requestLog,
      embedded: createEmbeddedRoutes(state, counters, latency, requestLog),
    }),
  );
  const filesServer = http.createServer(
    wrapFilesHandler(
      createFilesHandler({ rootDir: path.join(dataDir, 'files'), authorize: auth.authorizeRequest, batchDelete: options.filesBatchDelete ?? true }),
      counters,
      new FaultInjector(options.faultRate ?? 0, seed + 0x9e3779b9),
      latency,
    ),
  );

  let apiPort: number;
  let filesPort: number;
  let webServer: http.Server | undefined;
  let webPort = 0;
  try {
    apiPort = await listen(apiServer, options.port ?? 0, host);
    filesPort = await listen(filesServer, options.filesPort ?? 0, host);
    if (options.webappDir) {
      webServer = http.createServer(
        createWebappHandler({
          dir: options.webappDir,
          apiUrl: `http://${urlHost(host)}:${apiPort}`,
          filesUrl: `http://${urlHost(host)}:${filesPort}`,
        }),
      );
      webPort = await listen(webServer, options.webPort ?? 0, host);
    }
  } catch (err) {
    await closeServer(apiServer);
    await closeServer(filesServer);
    db.close();
    throw err;
  }

  filesUrl = `http://${urlHost(host)}:${filesPort}`;
  let closed = false;
  return {
    apiUrl: `http://${urlHost(host)}:${apiPort}`,
    filesUrl: `http://${urlHost(host)}:${filesPort}`,
    webUrl: webServer ? `http://${urlHost(host)}:${webPort}` : undefined,
    accessKey: creds.accessKey,
    secretKey: creds.secretKey,
    credentialsFile: creds.file,
    dataDir,
    apiVersion: versions.max,
    requests: () => requestLog.snapshot().requests,
    clearRequests: () => requestLog.clear(),
    asyncDelete: { enabled: urlDeletes.enabled, history: () => [...urlQueue.history], drain: () => job.drain() },
    close: async () => {
      if (closed) return;
      closed = true;
      await job.stop();
      await Promise.all([closeServer(apiServer), closeServer(filesServer), ...(webServer ? [closeServer(webServer)] : [])]);
      db.close();
      if (temporary) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
