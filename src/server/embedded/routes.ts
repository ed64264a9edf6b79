import type http from 'node:http';
import { readBody } from '../http/body.js';
import type { EmbeddedState } from '../state.js';
import { isoDate } from '../util/time.js';
import type { Counters } from './counters.js';
import type { Latency } from './latency.js';
import type { RequestLog } from './request-log.js';

/** Prefix for test and bench support; the real server has nothing under it. */
export const EMBEDDED_PREFIX = '/_embedded/';

const DATE_FIELDS = ['created', 'started', 'completed', 'published', 'status_changed', 'last_update', 'last_change', 'last_worker_report'];

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The request's JSON object ({} when empty); undefined after answering 400 to malformed JSON. */
async function jsonBody(req: http.IncomingMessage, res: http.ServerResponse): Promise<Record<string, any> | undefined> {
  try {
    return JSON.parse((await readBody(req)).toString('utf8') || '{}');
  } catch {
    json(res, 400, { error: 'malformed JSON' });
    return undefined;
  }
}

function shift(doc: Record<string, unknown>, ms: number): Record<string, unknown> {
  const copy = structuredClone(doc);
  for (const f of DATE_FIELDS) {
    const v = copy[f];
    if (typeof v === 'string' && v) {
      const t = Date.parse(v);
      if (!Number.isNaN(t)) copy[f] = isoDate(new Date(t - ms));
    }
  }
  return copy;
}

/**
 * GET counters, POST counters/reset, POST backdate {task | tasks: [], model | models: [], days}
 * (moves every date of those entities N days into the past, so "older than 30 days" can be tested),
 * POST make_public {tasks, models} (turns them into built-in examples: company ""),
 * GET/POST latency {ms} (the delay of every later API and file-server request; a bench seeds at 0),
 * GET requests (what arrived: endpoint, versions, body; when started with recordRequests), POST requests/reset,
 * GET async_delete (every URL the server queued for its own deletion and its status), POST
 * async_delete/drain (the same, once every URL due now was tried).
 */
export function createEmbeddedRoutes(state: EmbeddedState, counters: Counters, latency: Latency, requests?: RequestLog) {
  return async (req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<boolean> => {
    const method = (req.method ?? 'GET').toUpperCase();
    const route = url.pathname.slice(EMBEDDED_PREFIX.length).replace(/\/$/, '');
    if (route === 'requests' && method === 'GET' && requests) {
      json(res, 200, requests.snapshot());
      return true;
    }
    if (route === 'requests/reset' && method === 'POST' && requests) {
      await readBody(req);
      requests.clear();
      json(res, 200, { ok: true });
      return true;
    }
    if (route === 'counters' && method === 'GET') {
      json(res, 200, counters.snapshot());
      return true;
    }
    if (route === 'counters/reset' && method === 'POST') {
      await readBody(req);
      counters.reset();
      json(res, 200, { ok: true });
      return true;
    }
    if (route === 'async_delete' && method === 'GET') {
      // what the server queued for its own deletion (a real server keeps it in url_to_delete)
      json(res, 200, { enabled: state.urlDeletes?.enabled ?? false, urls: state.urlDeletes?.queue.history ?? [] });
      return true;
    }
    if (route === 'async_delete/drain' && method === 'POST') {
      await readBody(req);
      await state.urlDeletes?.drain();
      json(res, 200, { enabled: state.urlDeletes?.enabled ?? false, urls: state.urlDeletes?.queue.history ?? [] });
      return true;
    }
    if (route === 'latency' && method === 'GET') {
      json(res, 200, { ms: latency.ms });
      return true;
    }
    if (route === 'latency' && method === 'POST') {
      const body = await jsonBody(req, res);
      if (!body) return true;
      const ms = body.ms;
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
        json(res, 400, { error: 'ms must be a number >= 0' });
        return true;
      }
      latency.set(ms);
      json(res, 200, { ms: latency.ms });
      return true;
    }
    if (route === 'backdate' && method === 'POST') {
      const body = await jsonBody(req, res);
      if (!body) return true;
      const days = Number(body.days);
      if (!Number.isFinite(days)) {
        json(res, 400, { error: 'days must be a number' });
        return true;
      }
      const ms = days * 86_400_000;
      const taskIds: string[] = [...(body.tasks ?? []), ...(body.task ? [body.task] : [])];
      const modelIds: string[] = [...(body.models ?? []), ...(body.model ? [body.model] : [])];
      const missing: string[] = [];
      let tasks = 0;
      let models = 0;
      state.stores.transaction(() => {
        for (const id of taskIds) {
          const t = state.stores.tasks.get(id);
          if (!t) { missing.push(id); continue; }
          state.stores.tasks.put(shift(t, ms) as any);
          tasks++;
        }
        for (const id of modelIds) {
          const m = state.stores.models.get(id);
          if (!m) { missing.push(id); continue; }
          state.stores.models.put(shift(m, ms) as any);
          models++;
        }
      });
      json(res, missing.length ? 404 : 200, { tasks, models, missing });
      return true;
    }
    if (route === 'make_public' && method === 'POST') {
      // what the real server's built-in examples are: entities of no company (writes answer 403/21)
      const body = await jsonBody(req, res);
      if (!body) return true;
      const missing: string[] = [];
      let tasks = 0;
      let models = 0;
      state.stores.transaction(() => {
        for (const id of [...(body.tasks ?? []), ...(body.task ? [body.task] : [])] as string[]) {
          const t = state.stores.tasks.get(id);
          if (!t) { missing.push(id); continue; }
          state.stores.tasks.put({ ...structuredClone(t), company: '' });
          tasks++;
        }
        for (const id of [...(body.models ?? []), ...(body.model ? [body.model] : [])] as string[]) {
          const m = state.stores.models.get(id);
          if (!m) { missing.push(id); continue; }
          state.stores.models.put({ ...structuredClone(m), company: '' });
          models++;
        }
      });
      json(res, missing.length ? 404 : 200, { tasks, models, missing });
      return true;
    }
    json(res, 404, { error: `unknown test-support route ${url.pathname}` });
    return true;
  };
}
