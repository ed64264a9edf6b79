/**
 * A real HTTP(S) pass-through proxy in front of a real server (the embedded ClearML server, s3rver),
 * which can answer in its place, rewrite its answer, delay, or drop the connection: the server answers
 * no real ClearML would give (no envelope, wrong types, endless scrolls), TLS with a self-signed
 * certificate, and seeded faults in front of S3. Real sockets, no mocking library.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  /** path and query, as received */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** `service.action` for ClearML API paths (`/v2.23/tasks.get_all`, `/auth.login`), else '' */
  endpoint: string;
  /** the JSON body, when it is one */
  json?: any;
}

export interface Upstream {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** the parsed body, when it is JSON */
  json?: any;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body: string | Buffer;
}

/**
 * What to do with one request: undefined forwards it unchanged; 'drop' destroys the socket without an
 * answer; an Answer is sent instead of asking the server; `{ delayMs }` forwards after a pause;
 * `{ rewrite }` forwards and sends what it returns.
 */
export type Decision =
  | undefined
  | 'drop'
  | Answer
  | { delayMs: number }
  | { rewrite: (up: Upstream, req: ProxiedRequest) => Answer | Promise<Answer> };

export type Decide = (req: ProxiedRequest) => Decision | Promise<Decision>;

export interface TamperProxy {
  url: string;
  port: number;
  /** change the behaviour between test cases */
  decide: Decide;
  /** every request seen (method, url, headers), newest last */
  seen: ProxiedRequest[];
  close(): Promise<void>;
}

export interface ProxyOptions {
  /** serve HTTPS with this key/certificate (PEM) */
  tls?: { key: Buffer | string; cert: Buffer | string };
}

function endpointOf(url: string): string {
  const m = /^\/(?:v\d+(?:\.\d+)?\/)?([a-z_]+\.[a-z_]+)(?:[?#]|$)/i.exec(url);
  return m ? m[1] : '';
}

function parseJson(buf: Buffer): any {
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A ClearML envelope around `data` (status = result_code). */
export function envelopeBody(data: unknown, code = 200, msg = 'OK'): Answer {
  return {
    status: code,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      meta: { id: 'p', trx: 'p', endpoint: { name: '', requested_version: '2.23', actual_version: '2.23' }, result_code: code, result_subcode: 0, result_msg: msg, error_stack: null, error_data: {} },
      data,
    }),
  };
}

export async function startTamperProxy(target: string, decide: Decide = () => undefined, opts: ProxyOptions = {}): Promise<TamperProxy> {
  const to = new URL(target);
  const seen: ProxiedRequest[] = [];
  const state = { decide };

  const forward = (req: ProxiedRequest): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: to.host };
      delete headers['content-length'];
      const up = http.request(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...headers, 'content-length': String(req.body.length) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const body = Buffer.concat(chunks);
            resolve({ status: res.statusCode ?? 502, headers: res.headers, body, json: parseJson(body) });
          });
          res.on('error', reject);
        },
      );
      up.on('error', reject);
      up.end(req.body);
    });

  const send = (res: http.ServerResponse, a: Answer) => {
    const body = typeof a.body === 'string' ? Buffer.from(a.body) : a.body;
    res.writeHead(a.status, { ...(a.headers ?? {}), 'content-length': String(body.length) });
    res.end(body);
  };

  const handler = (inc: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    inc.on('data', (c: Buffer) => chunks.push(c));
    inc.on('end', async () => {
      const body = Buffer.concat(chunks);
      const req: ProxiedRequest = {
        method: inc.method ?? 'GET',
        url: inc.url ?? '/',
        headers: inc.headers,
        body,
        endpoint: endpointOf(inc.url ?? '/'),
        json: parseJson(body),
      };
      seen.push(req);
      try {
        const d = await state.decide(req);
        if (d === 'drop') {
          inc.socket.destroy();
          return;
        }
        if (d && 'status' in d) return send(res, d);
        if (d && 'delayMs' in d) await new Promise((r) => setTimeout(r, d.delayMs));
        const up = await forward(req);
        if (d && 'rewrite' in d) return send(res, await d.rewrite(up, req));
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(up.headers)) {
          if (v !== undefined && !['content-length', 'transfer-encoding', 'connection', 'keep-alive'].includes(k)) headers[k] = String(v);
        }
        send(res, { status: up.status, headers, body: up.body });
      } catch {
        if (!res.headersSent) send(res, { status: 502, body: 'proxy: upstream failed' });
        else res.destroy();
      }
    });
  };

  const server = opts.tls ? https.createServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    get decide() {
      return state.decide;
    },
    set decide(d: Decide) {
      state.decide = d;
    },
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
