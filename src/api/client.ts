/**
 * ClearMLClient: one authenticated connection to a ClearML API server.
 *
 * - `call(endpoint, body)` POSTs `{apiServer}/v{apiVersion}/{endpoint}` and returns the envelope's `data`
 *   (POST because the server is method-agnostic and Node cannot send a GET body).
 * - Auth: `auth.login` with Basic access_key:secret_key (no version in its URL), or a given bearer
 *   token; the token's `exp` is read to log in again `refreshMarginSec` before it runs out, and a 401
 *   triggers one new login and one repeat of the call.
 * - The server's API version is read from the token's `api_version` claim (as the SDK does): requests
 *   ask for the configured version or the server's, whichever is lower, and leave out the request
 *   fields that server's release does not know (src/api/server-features.ts).
 * - Connection errors and 5xx are repeated with exponential backoff and jitter; a 4xx never is.
 * - Typed namespaces (`tasks`, `models`, `events`, `projects`, `queues`) wrap the calls the cleanup uses.
 */
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import got, { type Got } from 'got';
import type { ApiConfig } from '../config/types.js';
import { ApiError } from './errors.js';
import { unwrapEnvelope } from './envelope.js';
import { decodeTokenClaims, tokenExpiryMs } from './jwt.js';
import { bodyForServer, lowerApi, parseApiVersion } from './server-features.js';
import { backoffDelayMs, isRetriableErrorCode, isRetriableStatus, retryAfterMs } from './retry.js';
import { emptyStats, type ApiStats } from './stats.js';
import { CLIENT_VERSION } from './version.js';
import { withoutServerDeletes } from './server-deletes.js';
import { TasksApi } from './endpoints/tasks.js';
import { ModelsApi } from './endpoints/models.js';
import { EventsApi } from './endpoints/events.js';
import { ProjectsApi } from './endpoints/projects.js';
import { QueuesApi } from './endpoints/queues.js';

export const DEFAULT_API_VERSION = '2.23';

/** The part of ApiConfig the client needs. */
export type ClientApiConfig = Pick<ApiConfig, 'apiServer'> &
  Partial<Pick<ApiConfig, 'accessKey' | 'secretKey' | 'authToken' | 'verifyCertificate' | 'apiVersion'>>;

/** Anything with winston-like methods; messages never contain credentials. */
export interface ApiLogger {
  debug?(msg: string): void;
  warn?(msg: string): void;
}

export interface ClearMLClientOptions {
  api: ClientApiConfig;
  /** X-ClearML-Worker; default the host name */
  workerId?: string;
  /** X-ClearML-Client; default `clearml-cleanup-<version>` */
  clientName?: string;
  /** whole-request timeout per attempt, default 120 000 ms */
  timeoutMs?: number;
  /** TCP/TLS connect timeout per attempt, default 10 000 ms */
  connectTimeoutMs?: number;
  /** repeats after a connection error or 5xx, default 6 */
  retries?: number;
  /** first backoff delay, doubled each retry, default 1 000 ms */
  backoffBaseMs?: number;
  /** backoff cap, default 30 000 ms */
  backoffMaxMs?: number;
  /** log in again when the token expires within this many seconds, default 360 */
  refreshMarginSec?: number;
  /** token lifetime asked of auth.login (`expiration_sec`); default: the server's (30 days) */
  tokenExpirationSec?: number;
  /** default `clearml-cleanup/<version>` */
  userAgent?: string;
  /** keep-alive sockets per host, default 16 */
  maxSockets?: number;
  logger?: ApiLogger;
  /**
   * Only for modelling another tool (the benchmark's official script): send deleting calls as
   * given. Otherwise every deleting or resetting call carries `delete_external_artifacts: false`
   * (see server-deletes.ts).
   */
  sendServerDeletesAsGiven?: boolean;
}

/** What the endpoint namespaces need from the client. */
export interface ApiCaller {
  call<T>(endpoint: string, body?: object): Promise<T>;
  callJsonLines<T>(endpoint: string, items: readonly object[]): Promise<T>;
}

interface Payload {
  body: string;
  contentType: string;
}

export class ClearMLClient implements ApiCaller {
  readonly tasks: TasksApi;
  readonly models: ModelsApi;
  readonly events: EventsApi;
  readonly projects: ProjectsApi;
  readonly queues: QueuesApi;
  /** live counters; read them, do not write */
  readonly stats: ApiStats = emptyStats();
  /** scheme://host:port of the API server, safe to print */
  readonly host: string;

  private readonly baseUrl: string;
  private readonly version: string;
  private readonly http: Got;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly retries: number;
  private readonly backoff: { baseMs: number; maxMs: number };
  private readonly refreshMarginMs: number;
  private readonly loginBody: string;
  private readonly logger?: ApiLogger;
  private readonly basicAuth?: string;
  private readonly sendServerDeletesAsGiven: boolean;
  private token?: string;
  private tokenExpiry?: number;
  /** from the token; undefined for an opaque token or a server that does not say */
  private serverApi?: string;
  private login?: Promise<string>;

  constructor(opts: ClearMLClientOptions) {
    const api = opts.api;
    if (!api.apiServer) throw new Error('ClearML API server is not configured (api.api_server / CLEARML_API_HOST)');
    let url: URL;
    try {
      url = new URL(api.apiServer);
    } catch {
      throw new Error(`ClearML API server is not a valid URL: ${redactUrl(api.apiServer)}`);
    }
    this.host = url.origin;
    this.baseUrl = `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
    this.version = (api.apiVersion || DEFAULT_API_VERSION).replace(/^v/, '');
    this.retries = opts.retries ?? 6;
    this.backoff = { baseMs: opts.backoffBaseMs ?? 1000, maxMs: opts.backoffMaxMs ?? 30_000 };
    this.refreshMarginMs = (opts.refreshMarginSec ?? 360) * 1000;
    this.loginBody = JSON.stringify(opts.tokenExpirationSec ? { expiration_sec: opts.tokenExpirationSec } : {});
    this.logger = opts.logger;
    this.sendServerDeletesAsGiven = opts.sendServerDeletesAsGiven === true;
    if (api.accessKey && api.secretKey) {
      this.basicAuth = `Basic ${Buffer.from(`${api.accessKey}:${api.secretKey}`).toString('base64')}`;
    }
    if (api.authToken) this.setToken(api.authToken);
    if (!this.basicAuth && !this.token) {
      throw new Error(
        'ClearML is not configured: set api.credentials.access_key and secret_key (or CLEARML_API_ACCESS_KEY / ' +
          'CLEARML_API_SECRET_KEY), or CLEARML_AUTH_TOKEN',
      );
    }

    const maxSockets = opts.maxSockets ?? 16;
    this.agents = {
      http: new http.Agent({ keepAlive: true, maxSockets }),
      https: new https.Agent({ keepAlive: true, maxSockets }),
    };
    const verify = api.verifyCertificate ?? true;
    const tls: { rejectUnauthorized: boolean; certificateAuthority?: string } = { rejectUnauthorized: verify !== false };
    if (typeof verify === 'string' && verify !== '') {
      try {
        tls.certificateAuthority = readFileSync(verify, 'utf8');
      } catch (e) {
        throw new Error(`cannot read the CA bundle given in api.verify_certificate (${verify}): ${(e as Error).message}`);
      }
    }
    this.http = got.extend({
      agent: this.agents,
      https: tls,
      timeout: { connect: opts.connectTimeoutMs ?? 10_000, request: opts.timeoutMs ?? 120_000 },
      retry: { limit: 0 }, // our own loop: it also counts, logs and knows about 401
      // A redirect would carry the Basic credentials or the bearer token to wherever it points.
      followRedirect: false,
      throwHttpErrors: false,
      responseType: 'text',
      headers: {
        'user-agent': opts.userAgent ?? `clearml-cleanup/${CLIENT_VERSION}`,
        'x-clearml-worker': opts.workerId || os.hostname(),
        'x-clearml-client': opts.clientName ?? `clearml-cleanup-${CLIENT_VERSION}`,
      },
    });

    this.tasks = new TasksApi(this);
    this.models = new ModelsApi(this);
    this.events = new EventsApi(this);
    this.projects = new ProjectsApi(this);
    this.queues = new QueuesApi(this);
  }

  /** Calls any endpoint (`service.action`) with a JSON body; resolves to the envelope's data. */
  call<T>(endpoint: string, body: object = {}): Promise<T> {
    const sent = this.sendServerDeletesAsGiven ? body : withoutServerDeletes(endpoint, body);
    // then without what this server's release does not know (it would ignore it anyway)
    return this.authorizedCall<T>(endpoint, () => ({
      body: JSON.stringify(bodyForServer(endpoint, sent, this.serverApi)),
      contentType: 'application/json',
    }));
  }

  /**
   * The server's API version (logging in first if needed), from the token's `api_version` claim;
   * undefined when the token does not say (then the newest behaviour is assumed).
   */
  async serverApiVersion(): Promise<string | undefined> {
    await this.getToken();
    return this.serverApi;
  }

  /** The version requests ask for: the configured one, or the server's if lower. */
  get requestVersion(): string {
    return this.serverApi ? lowerApi(this.version, this.serverApi) : this.version;
  }

  /** Calls an endpoint that takes one JSON document per line (events.add_batch). */
  callJsonLines<T>(endpoint: string, items: readonly object[]): Promise<T> {
    const body = items.map((i) => JSON.stringify(i)).join('\n');
    return this.authorizedCall<T>(endpoint, () => ({ body, contentType: 'application/json-lines' }));
  }

  /**
   * A valid bearer token (logging in if needed), e.g. for the file server. Send it to the files host only.
   * Pass the token a server just refused (401) as `stale` to force one new login; concurrent callers
   * that pass the same stale token share that login.
   */
  async getToken(stale?: string): Promise<string> {
    if (stale !== undefined && stale === this.token) return this.refreshToken(stale, true);
    if (this.token && !this.expiresSoon()) return this.token;
    return this.refreshToken();
  }

  /** Frees the keep-alive sockets; the client must not be used afterwards. */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** `build` runs once the token (and so the server's version) is known. */
  private async authorizedCall<T>(endpoint: string, build: () => Payload): Promise<T> {
    this.stats.calls++;
    this.stats.byEndpoint[endpoint] = (this.stats.byEndpoint[endpoint] ?? 0) + 1;
    try {
      const token = await this.getToken();
      const url = `${this.baseUrl}/v${this.requestVersion}/${endpoint}`;
      const payload = build();
      try {
        return await this.send<T>(endpoint, url, payload, `Bearer ${token}`);
      } catch (e) {
        if (!(e instanceof ApiError) || !e.is(401)) throw e;
        this.logger?.debug?.(`${endpoint}: 401 from ${this.host}, logging in again`);
        const fresh = await this.refreshToken(token, true);
        return await this.send<T>(endpoint, url, payload, `Bearer ${fresh}`);
      }
    } catch (e) {
      this.stats.failures++;
      throw e;
    }
  }

  private expiresSoon(): boolean {
    return this.tokenExpiry !== undefined && this.tokenExpiry - Date.now() <= this.refreshMarginMs;
  }

  private setToken(token: string): void {
    this.token = token;
    this.tokenExpiry = tokenExpiryMs(token);
    const claimed = decodeTokenClaims(token)?.api_version;
    const parsed = parseApiVersion(claimed);
    if (parsed) this.serverApi = `${parsed[0]}.${parsed[1]}`;
  }

  /**
   * One login at a time: concurrent callers share it. `stale` is the token that failed; if another
   * caller already replaced it, the new one is used without a second login.
   */
  private refreshToken(stale?: string, forced = false): Promise<string> {
    if (stale !== undefined && this.token && this.token !== stale && !this.expiresSoon()) {
      return Promise.resolve(this.token);
    }
    this.login ??= this.doLogin(forced).finally(() => {
      this.login = undefined;
    });
    return this.login;
  }

  /** `forced`: the current token was refused, so it must not be kept as a fallback. */
  private async doLogin(forced = false): Promise<string> {
    const current = this.token;
    // Keys win; a bare token can only be exchanged for a fresh one with itself.
    const auth = this.basicAuth ?? (current ? `Bearer ${current}` : undefined);
    if (!auth) throw new Error('ClearML is not configured: no access key/secret key and no auth token');
    let data: { token?: unknown };
    try {
      data = await this.send<{ token?: unknown }>('auth.login', `${this.baseUrl}/auth.login`, { body: this.loginBody, contentType: 'application/json' }, auth);
    } catch (e) {
      // A bearer-only setup whose token still works should not stop because a refresh failed.
      if (!forced && !this.basicAuth && current && (this.tokenExpiry === undefined || this.tokenExpiry > Date.now()) && !(e instanceof ApiError && e.is(401))) {
        this.logger?.warn?.(`could not refresh the ClearML token: ${(e as Error).message}; using the current one`);
        return current;
      }
      if (e instanceof ApiError && e.is(401)) {
        throw new ApiError({
          endpoint: 'auth.login', host: this.host, kind: 'api', code: e.code, subcode: e.subcode, data: e.data,
          resultMsg: `${e.resultMsg || 'unauthorized'} (check the access key and secret key, or the auth token)`.trim(),
        });
      }
      throw e;
    }
    if (typeof data?.token !== 'string' || !data.token) {
      throw new ApiError({ endpoint: 'auth.login', host: this.host, kind: 'malformed', code: 0, resultMsg: 'login answer has no data.token (is api_server the API port, 8008?)' });
    }
    this.setToken(data.token);
    this.stats.logins++;
    return data.token;
  }

  /** One call with retries on connection errors and 5xx. */
  private async send<T>(endpoint: string, url: string, payload: Payload, authorization: string): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      this.stats.requests++;
      let failure: ApiError;
      let waitHint: number | undefined;
      try {
        const res = await this.http.post(url, {
          body: payload.body,
          headers: { authorization, 'content-type': payload.contentType },
        });
        if (res.statusCode >= 300 && res.statusCode < 400) {
          const to = redirectTarget(res.headers.location, url);
          throw new ApiError({
            endpoint, host: this.host, kind: 'malformed', code: res.statusCode,
            resultMsg: `redirect to ${to} not followed (credentials are sent to the configured API server only); set api_server to the final address`,
          });
        }
        const answer = { status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), body: res.body };
        try {
          return unwrapEnvelope<T>(endpoint, this.host, answer);
        } catch (e) {
          if (!(e instanceof ApiError) || !isRetriableStatus(res.statusCode)) throw e;
          failure = e;
          waitHint = retryAfterMs(res.headers['retry-after']);
        }
      } catch (e) {
        if (e instanceof ApiError) throw e;
        const code = (e as { code?: string }).code;
        // Only the code and message of the transport error: its request options hold the Authorization header.
        failure = new ApiError({
          endpoint, host: this.host, kind: 'network', code: 0, errorCode: code, attempts: attempt,
          resultMsg: transportMessage(e as Error, code),
        });
        if (!isRetriableErrorCode(code)) throw failure;
      }
      if (attempt > this.retries) throw withAttempts(failure, attempt);
      const delay = Math.min(this.backoff.maxMs, Math.max(backoffDelayMs(attempt, this.backoff), waitHint ?? 0));
      this.stats.retries++;
      this.logger?.warn?.(`${failure.message}; retry ${attempt}/${this.retries} in ${delay} ms`);
      await sleep(delay);
    }
  }
}

function withAttempts(e: ApiError, attempts: number): ApiError {
  if (e.attempts === attempts) return e;
  return new ApiError({
    endpoint: e.endpoint, host: e.host, kind: e.kind, code: e.code, subcode: e.subcode, resultMsg: e.resultMsg,
    data: e.data, errorCode: e.errorCode, attempts,
  });
}

/** got's messages may quote the URL; ours has no credentials, but a user-given URL could, so strip them. */
function transportMessage(e: Error, code: string | undefined): string {
  let msg = redactUrl(e.message ?? '');
  if (code && msg.includes(code)) msg = '';
  if (code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
    msg = `${msg ? `${msg}; ` : ''}set api.verify_certificate to the CA bundle path, or to false`;
  }
  return msg;
}

/** Where a redirect points, as scheme://host:port only (its query could hold anything). */
function redirectTarget(location: string | undefined, base: string): string {
  if (!location) return 'nowhere';
  try {
    return new URL(location, base).origin;
  } catch {
    return 'an invalid address';
  }
}

function redactUrl(s: string): string {
  return s.replace(/(\w+:\/\/)[^/@\s]+@/g, '$1***@');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
