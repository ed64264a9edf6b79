import type http from 'node:http';
import type { Counters } from './embedded/counters.js';
import { delay, type FaultInjector } from './embedded/faults.js';
import type { Latency } from './embedded/latency.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** Which file-server operation a request is, for the counters. */
export function fileOperation(req: http.IncomingMessage): string {
  const method = (req.method ?? 'GET').toUpperCase();
  const pathname = new URL(req.url ?? '/', 'http://files').pathname;
  if (pathname === '/') return method === 'POST' ? 'upload' : 'ping';
  if (pathname === '/delete_many' && method === 'POST') return 'delete_many';
  if (method === 'DELETE') return 'delete';
  if (method === 'GET' || method === 'HEAD') return 'download';
  return method.toLowerCase();
}

/** Adds counters, latency and injected faults around the file-server handler. */
export function wrapFilesHandler(inner: Handler, counters: Counters, faults: FaultInjector, latency: Latency): Handler {
  return (req, res) => {
    counters.countFiles(fileOperation(req));
    void delay(latency.ms).then(() => {
      const fault = faults.next();
      if (fault === 'drop') {
        req.socket.destroy();
        return;
      }
      if (fault !== 'none') {
        const code = fault === 'http503' ? 503 : 500;
        req.resume();
        res.writeHead(code, { 'Content-Type': 'text/plain' });
        res.end(code === 503 ? 'Service unavailable (injected fault)' : 'Internal server error (injected fault)');
        return;
      }
      inner(req, res);
    });
  };
}
