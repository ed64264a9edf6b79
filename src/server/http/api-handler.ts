import type http from 'node:http';
import { ApiFault } from '../api/fault.js';
import type { CallRequest, Identity, Service } from '../api/service.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { Counters } from '../embedded/counters.js';
import { delay, type FaultInjector } from '../embedded/faults.js';
import type { Latency } from '../embedded/latency.js';
import { jsonLinesOf, type RequestLog } from '../embedded/request-log.js';
import type { ApiVersionPolicy } from '../schema/emulation.js';
import { compareVersions, MIN_API_VERSION, parseVersion } from '../versions.js';
import { readBody, queryParams } from './body.js';
import { sendEnvelope, type EndpointInfo } from './envelope.js';
import { authorizationWithSession, clearSessionCookie, OPTIONAL_AUTH, setSessionCookie } from './session.js';

export interface ApiHandlerOptions {
  services: Record<string, Service>;
  auth: Authenticator;
  counters: Counters;
  faults: FaultInjector;
  latency: Latency;
  /** the API version served (the newest, or an older server's with --api-version) */
  versions: ApiVersionPolicy;
  /** what arrived, for the wire tests (off unless asked for) */
  requests: RequestLog;
  /** test-support routes under /_embedded/ (no latency, no faults); returns false when not handled */
  embedded?: (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => Promise<boolean>;
}

const PATH_RE = /^\/(?:v(\d+\.\d+)\/)?([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)\/?$/;

/** The API server: routing, envelope, auth, and the test-support knobs (latency, faults, counters). */
export function createApiHandler(opts: ApiHandlerOptions): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    handle(opts, req, res).catch((err) => {
      if (!res.headersSent) {
        sendEnvelope(res, { name: '', requested: opts.versions.max, actual: null }, 500, 0, 'Internal server error', {}, {
          stack: String(err?.stack ?? err),
        });
      } else {
        res.destroy();
      }
    });
  };
}

async function handle(opts: ApiHandlerOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://embedded');
  if (url.pathname.startsWith('/_embedded/') && opts.embedded) {
    if (await opts.embedded(req, res, url)) return;
  }
  const m = PATH_RE.exec(url.pathname);
  const name = m ? `${m[2]}.${m[3]}` : url.pathname.replace(/^\//, '');
  const requested = m?.[1] ?? opts.versions.max;
  const endpoint: EndpointInfo = { name, requested, actual: null };
  opts.counters.countApi(name);
  // recorded once the answer is sent, with the body as it came (before any field is dropped)
  let recordedBody: unknown;
  if (opts.requests.enabled) {
    res.once('finish', () => opts.requests.add({ endpoint: name, requested, served: endpoint.actual, body: recordedBody, status: res.statusCode }));
  }

  await delay(opts.latency.ms);
  const fault = opts.faults.next();
  if (fault === 'drop') {
    req.socket.destroy();
    return;
  }
  if (fault !== 'none') {
    const code = fault === 'http503' ? 503 : 500;
    sendEnvelope(res, endpoint, code, 0, code === 503 ? 'Service unavailable (injected fault)' : 'Internal server error (injected fault)', {});
    return;
  }

  if (req.headers['content-encoding']) {
    sendEnvelope(res, endpoint, 415, 0, `Content encoding is not supported (${req.headers['content-encoding']})`, {});
    req.resume();
    return;
  }
  const rawBody = await readBody(req);
  if (opts.requests.enabled) recordedBody = recordable(rawBody, String(req.headers['content-type'] ?? ''));

  const service = m ? opts.services[m[2]] : undefined;
  const handler = service && Object.prototype.hasOwnProperty.call(service, m![3]) ? service[m![3]] : undefined;
  if (!parseVersion(requested) || compareVersions(requested, MIN_API_VERSION) < 0) {
    sendEnvelope(res, endpoint, 400, 2, `Request path has invalid version ${requested} (max. supported version is ${opts.versions.max})`, {});
    return;
  }
  // above the server's newest: served by the newest (the real server's check_max_version is off)
  const served = opts.versions.served(requested);
  if (!m || !handler || !opts.versions.hasEndpoint(name, served)) {
    sendEnvelope(res, endpoint, 404, 0, `Unable to find endpoint for name ${name} and version ${requested}`, {});
    return;
  }
  endpoint.actual = served;

  const contentType = String(req.headers['content-type'] ?? '');
  let body: Record<string, any> = {};
  const isJsonLines = /json-lines|x-ndjson/i.test(contentType);
  if (!isJsonLines && rawBody.length && rawBody.toString('utf8').trim()) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawBody.toString('utf8'));
    } catch {
      sendEnvelope(res, endpoint, 400, 0, 'Invalid request body: malformed JSON', {});
      return;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      sendEnvelope(res, endpoint, 400, 0, 'Invalid request body: a JSON object is expected', {});
      return;
    }
    body = parsed as Record<string, any>;
  }
  for (const [k, v] of Object.entries(queryParams(url))) if (!(k in body)) body[k] = v;
  // the real server drops nulls before validating
  for (const k of Object.keys(body)) if (body[k] === null && k !== 'scroll_id') delete body[k];
  // fields the emulated release does not know: its request models drop them
  body = opts.versions.visibleBody(name, body);

  try {
    let identity: Identity;
    let data: unknown;
    let authenticated = true;
    const authorization = authorizationWithSession(req);
    if (OPTIONAL_AUTH.has(name)) {
      try {
        identity = opts.auth.authenticate(authorization);
      } catch (err) {
        if (!(err instanceof ApiFault)) throw err;
        identity = opts.auth.identity;
        authenticated = false;
      }
    } else {
      identity = opts.auth.authenticate(authorization);
    }
    const call: CallRequest = {
      endpoint: name,
      service: m[2],
      action: m[3],
      version: served,
      serverVersion: opts.versions.max,
      authenticated,
      body,
      rawBody,
      contentType,
      identity,
    };
    if (name === 'auth.login') {
      const exp = body.expiration_sec !== undefined ? Number(body.expiration_sec) : undefined;
      data = opts.auth.login(authorization, exp);
    } else {
      data = await handler(call);
    }
    const headers: Record<string, string> = {};
    if (name === 'auth.login' && data && typeof (data as any).token === 'string') {
      headers['Set-Cookie'] = setSessionCookie((data as any).token);
    }
    if (name === 'login.logout') headers['Set-Cookie'] = clearSessionCookie();
    sendEnvelope(res, endpoint, 200, 0, 'OK', data ?? {}, { headers });
  } catch (err) {
    if (err instanceof ApiFault) {
      sendEnvelope(res, endpoint, err.code, err.subcode, err.message, {}, { errorData: err.data });
    } else {
      const e = err as Error;
      sendEnvelope(res, endpoint, 500, 0, `Internal server error: ${e?.message ?? String(err)}`, {}, { stack: String(e?.stack ?? err) });
    }
  }
}

/** The body for the request log: parsed JSON, the lines of a json-lines body, or the text. */
function recordable(raw: Buffer, contentType: string): unknown {
  const text = raw.toString('utf8');
  if (/json-lines|x-ndjson/i.test(contentType)) return jsonLinesOf(text);
  if (!text.trim()) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
