/**
 * A tiny real HTTP server for the client tests that need answers the embedded ClearML server would
 * never give (HTML from a proxy, a reset socket, a 401 on demand). Not a mock library: real sockets.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type TinyHandler = (req: SeenRequest, res: http.ServerResponse) => void;

export interface TinyServer {
  url: string;
  port: number;
  seen: SeenRequest[];
  close(): Promise<void>;
}

export async function startTinyServer(handler: TinyHandler): Promise<TinyServer> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(r);
      handler(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A ClearML-style envelope answer. */
export function envelope(res: http.ServerResponse, data: unknown, code = 200, subcode = 0, msg = 'OK'): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      meta: { id: 'x', trx: 'x', endpoint: { name: '', requested_version: '2.23', actual_version: '2.23' }, result_code: code, result_subcode: subcode, result_msg: msg, error_stack: null, error_data: {} },
      data,
    }),
  );
}

/** An unsigned JWT with the given claims (the client never checks signatures). */
export function fakeJwt(claims: Record<string, unknown>): string {
  const b = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b({ alg: 'HS256', typ: 'JWT' })}.${b(claims)}.c2ln`;
}
