import http from 'node:http';

/**
 * Forwards a request under `prefix` to `target` with the prefix removed (as nginx's
 * `location /api { proxy_pass http://apiserver:8008/; }` does), streaming both ways.
 */
export function proxyTo(target: string, prefix: string): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const base = new URL(target);
  return (req, res) => {
    const rest = (req.url ?? '/').slice(prefix.length) || '/';
    const headers = { ...req.headers, host: base.host };
    const upstream = http.request(
      {
        protocol: base.protocol,
        hostname: base.hostname,
        port: base.port,
        method: req.method,
        path: rest.startsWith('/') ? rest : `/${rest}`,
        headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        up.on('error', () => res.destroy());
      },
    );
    upstream.on('error', (err) => {
      if (res.headersSent) return res.destroy();
      const text = `upstream ${prefix} unavailable: ${err.message}`;
      res.writeHead(502, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) }).end(text);
    });
    req.on('aborted', () => upstream.destroy());
    req.pipe(upstream);
  };
}
