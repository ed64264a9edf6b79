/**
 * Serves a built ClearML web app (clearml/clearml-web, `ng build` output) the way the stock
 * deployment's nginx does: static files, `/api/*` to the API server, `/files/*` to the file server,
 * `configuration.json` pointing the app at those two paths, and any other path falling back to
 * `index.html` (the app routes on the client). The app's files are read from the given folder only;
 * nothing of it is part of this project.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { SafeRoot } from '../files/safe-path.js';
import { proxyTo } from './proxy.js';

export interface WebappOptions {
  /** the built app: the folder holding index.html (clearml-web's build/browser) */
  dir: string;
  apiUrl: string;
  filesUrl: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** Throws a one-line error when `dir` is not a built web app. */
export function checkWebappDir(dir: string): string {
  const abs = path.resolve(dir);
  if (!fs.existsSync(path.join(abs, 'index.html'))) {
    throw new Error(`${dir} is not a built ClearML web app (no index.html); build clearml-web and pass its build/browser folder`);
  }
  return abs;
}

export function createWebappHandler(opts: WebappOptions): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const root = new SafeRoot(checkWebappDir(opts.dir));
  const indexFile = path.join(root.root, 'index.html');
  const toApi = proxyTo(opts.apiUrl, '/api');
  const toFiles = proxyTo(opts.filesUrl, '/files');

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://webapp');
    const p = url.pathname;
    if (p === '/api' || p.startsWith('/api/')) return toApi(req, res);
    if (p === '/files' || p.startsWith('/files/')) return toFiles(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (p === '/configuration.json') {
      // same origin as the page, so the session cookie set by /api/auth.login reaches /files too
      const origin = `http://${req.headers.host ?? 'localhost'}`;
      return sendText(req, res, 200, TYPES['.json'], JSON.stringify({ apiBaseUrl: `${origin}/api`, fileBaseUrl: `${origin}/files` }));
    }
    if (p === '/env.js') {
      // the stock image fills this template at start-up (envsubst); no sub-path here
      const file = path.join(root.root, 'env.js');
      if (fs.existsSync(file)) {
        const text = fs.readFileSync(file, 'utf8').replaceAll('${CLEARML_SERVER_SUB_PATH}', '');
        return sendText(req, res, 200, TYPES['.js'], text);
      }
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(p);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const resolved = decoded === '/' ? undefined : root.resolve(decoded);
    if (resolved?.ok && isFile(resolved.full)) return sendFile(req, res, resolved.full, true);
    // a missing asset (it has an extension) is a 404, anything else is a client-side route
    if (path.extname(decoded)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    sendFile(req, res, indexFile, false);
  };
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function sendText(req: http.IncomingMessage, res: http.ServerResponse, status: number, type: string, text: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : text);
}

function sendFile(req: http.IncomingMessage, res: http.ServerResponse, file: string, cacheable: boolean): void {
  const stat = fs.statSync(file);
  res.writeHead(200, {
    'Content-Type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': stat.size,
    // hashed bundle names may be cached; index.html must not be, or a rebuilt app would not load
    'Cache-Control': cacheable && !file.endsWith('index.html') ? 'public, max-age=3600' : 'no-store',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  fs.createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}
