import { createReadStream, createWriteStream, lstatSync, mkdirSync, promises as fsp, realpathSync, rmSync, statSync, unlinkSync, type Stats } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import busboy from 'busboy';
import { SafeRoot } from './safe-path.js';
import { listFiles, LIST_ROUTE } from './list.js';

/**
 * A file server that behaves like clearml-server's fileserver: `GET /` ping, `POST /` multipart
 * upload (each part's field name is its target path), `GET|HEAD /<path>` download, `DELETE /<path>`,
 * and `POST /delete_many` (files and whole folders). Everything stays under `rootDir`.
 */

export interface FilesHandlerOptions {
  rootDir: string;
  /** true when the request carries a valid bearer token or session cookie */
  authorize(req: http.IncomingMessage): boolean;
  /** `fileserver.delete.allow_batch`: without it the real server has no delete_many route (405) */
  batchDelete?: boolean;
}

export type FilesHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const MAX_JSON_BODY = 64 * 1024 * 1024;

export function createFilesHandler(opts: FilesHandlerOptions): FilesHandler {
  mkdirSync(opts.rootDir, { recursive: true });
  const root = new SafeRoot(opts.rootDir);

  const route = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    res.setHeader('server', 'clearml');
    const encoding = req.headers['content-encoding'];
    if (encoding) return text(res, 415, `Content encoding is not supported (${encoding})`);

    // the raw path, not WHATWG-normalised: a `..` must be seen (and refused), not silently folded
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const url = new URL(rawUrl.replace(/^\/*/, '/'), 'http://files');
    const method = (req.method ?? 'GET').toUpperCase();
    if (rawPath === '/' || rawPath === '') {
      if (method === 'GET' || method === 'HEAD') {
        // the ping checks credentials only when some are sent
        if (hasCredentials(req) && !opts.authorize(req)) return text(res, 401, 'Unauthorized');
        return text(res, 200, 'OK');
      }
      if (method === 'POST') {
        if (!opts.authorize(req)) return text(res, 401, 'Unauthorized');
        return upload(root, req, res);
      }
      return text(res, 405, 'Method not allowed');
    }

    if (!opts.authorize(req)) return text(res, 401, 'Unauthorized');
    if (rawPath === '/delete_many' && method === 'POST') {
      return opts.batchDelete === false ? text(res, 405, 'Method not allowed') : deleteMany(root, req, res);
    }
    if (rawPath === LIST_ROUTE && method === 'GET') return listFiles(root, url, res);

    let clientPath: string;
    try {
      clientPath = decodeURIComponent(rawPath);
    } catch {
      return text(res, 400, 'Malformed path encoding');
    }
    const target = root.resolve(clientPath);
    if (!target.ok) return text(res, target.status, target.reason);
    const shown = clientPath.replace(/^\/+/, '');
    if (method === 'GET' || method === 'HEAD') return download(target.full, shown, method, url, res);
    if (method === 'DELETE') return deleteOne(target.full, shown, res);
    return text(res, 405, 'Method not allowed');
  };

  return (req, res) => {
    route(req, res).catch((err: unknown) => {
      if (!res.headersSent) text(res, 500, `Internal error: ${(err as Error)?.message ?? String(err)}`);
      else res.destroy();
    });
  };
}

function hasCredentials(req: http.IncomingMessage): boolean {
  return Boolean(req.headers.authorization) || /(?:^|;\s*)clearml_token_basic=/.test(req.headers.cookie ?? '');
}

function text(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function json(res: http.ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function upload(root: SafeRoot, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  let bb: busboy.Busboy;
  try {
    bb = busboy({ headers: req.headers, defParamCharset: 'utf8' });
  } catch (e) {
    return text(res, 400, `Bad upload: ${(e as Error).message}`);
  }
  const stored: string[] = [];
  const seen = new Set<string>();
  const writes: Promise<void>[] = [];
  let refusal: { status: number; reason: string } | undefined;

  bb.on('file', (field, stream, info) => {
    // like werkzeug: parts without a file name are form fields, one file per field name
    if (!field || !info.filename || seen.has(field) || refusal) {
      stream.resume();
      return;
    }
    seen.add(field);
    const target = root.resolve(field);
    if (!target.ok) {
      refusal = { status: target.status, reason: target.reason };
      stream.resume();
      return;
    }
    // answer in part order whatever order the writes finish in
    const slot = stored.push('') - 1;
    const rel = field.replace(/^\/+/, '');
    writes.push(
      saveStream(root, target.full, stream).then(() => {
        stored[slot] = rel;
      }),
    );
  });

  const done = new Promise<void>((resolve, reject) => {
    bb.on('close', resolve);
    bb.on('error', reject);
  });
  req.pipe(bb);
  try {
    await done;
    await Promise.all(writes);
  } catch (e) {
    return text(res, 400, `Bad upload: ${(e as Error).message}`);
  }
  if (refusal) return text(res, refusal.status, refusal.reason);
  json(res, 200, stored);
}

/** Writes next to the target and renames, so a reader never sees half a file. */
async function saveStream(root: SafeRoot, full: string, stream: NodeJS.ReadableStream): Promise<void> {
  const dir = path.dirname(full);
  await fsp.mkdir(dir, { recursive: true });
  // a symlinked folder created meanwhile must not take the file outside the root
  if (!root.inside(await fsp.realpath(dir))) throw new Error('Path outside the storage root');
  const tmp = `${full}.upload-${randomBytes(6).toString('hex')}`;
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(tmp);
    out.on('error', reject);
    stream.on('error', reject);
    out.on('finish', resolve);
    stream.pipe(out);
  });
  try {
    await fsp.rename(tmp, full);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

const MIME: Record<string, string> = {
  '.json': 'application/json',
  '.txt': 'text/plain',
  '.log': 'text/plain',
  '.csv': 'text/csv',
  '.html': 'text/html',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.mp4': 'video/mp4',
  '.zip': 'application/zip',
  '.gz': 'application/octet-stream',
  '.pkl': 'application/octet-stream',
};

async function download(
  full: string,
  shown: string,
  method: string,
  url: URL,
  res: http.ServerResponse,
): Promise<void> {
  const st = await fsp.stat(full).catch(() => undefined);
  if (!st || !st.isFile()) return text(res, 404, `File ${shown} not found`);
  const headers: http.OutgoingHttpHeaders = {
    'content-type': MIME[path.extname(full).toLowerCase()] ?? 'application/octet-stream',
    'content-length': st.size,
    'last-modified': st.mtime.toUTCString(),
  };
  if (url.searchParams.has('download')) {
    headers['content-disposition'] = `attachment; filename*=UTF-8''${encodeURIComponent(path.basename(full))}`;
  }
  res.writeHead(200, headers);
  if (method === 'HEAD') return void res.end();
  await new Promise<void>((resolve, reject) => {
    const input = createReadStream(full);
    input.on('error', reject);
    res.on('close', resolve);
    input.pipe(res);
  });
}

async function deleteOne(full: string, shown: string, res: http.ServerResponse): Promise<void> {
  const st = await fsp.stat(full).catch(() => undefined);
  if (!st || !st.isFile()) return text(res, 404, `File ${shown} not found`);
  await fsp.unlink(full);
  json(res, 200, shown);
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_JSON_BODY) throw new Error('payload too large');
    chunks.push(chunk as Buffer);
  }
  const raw = Buffer.concat(chunks).toString('utf8');
  return raw.trim() ? JSON.parse(raw) : undefined;
}

/** Python's unquote_plus: '+' is a space, then %-escapes (invalid ones stay as they are). */
function unquotePlus(s: string): string {
  const spaced = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced.replace(/%[0-9a-fA-F]{2}/g, (m) => {
      try {
        return decodeURIComponent(m);
      } catch {
        return m;
      }
    });
  }
}

/** `{files: [paths]}` -> `{deleted: {requested: path}, errors: {message: [requested]}}`; folders go whole. */
async function deleteMany(root: SafeRoot, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  let body: unknown;
  try {
    body = await readJson(req);
  } catch (e) {
    return text(res, 400, `Failed to decode JSON object: ${(e as Error).message}`);
  }
  if (!body || typeof body !== 'object' || (Array.isArray(body) && !body.length)) {
    return text(res, 400, 'Json payload is missing');
  }
  const files = (body as { files?: unknown }).files;
  if (!Array.isArray(files) || !files.length) return text(res, 400, 'files are missing');

  // each file's outcome, in request order. Plain files are checked and unlinked with synchronous calls, a
  // slice at a time between yields to the event loop: measured ~12 us of CPU per file against ~27 us for
  // the promise + thread-pool round trips of fsp.lstat/fsp.unlink, while a slice blocks the loop < 1 ms.
  const outcomes: Array<{ ok: true; rel: string } | { ok: false; msg: string }> = new Array(files.length);
  const parents = new Map<string, string | undefined>();
  for (let i = 0; i < files.length; i++) {
    if (i > 0 && i % DELETE_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const o = deleteEntry(root, String(files[i]), parents);
    // a folder goes whole (rmtree)
    outcomes[i] = 'folder' in o ? removeFolder(o.folder, o.rel) : o;
  }

  const deleted: Record<string, string> = {};
  const errors: Record<string, string[]> = {};
  files.forEach((file, i) => {
    const o = outcomes[i];
    if (o.ok) deleted[String(file)] = o.rel;
    else (errors[o.msg] ??= []).push(String(file));
  });
  json(res, 200, { deleted, errors });
}

const DELETE_SLICE = 64;

type EntryOutcome = { ok: true; rel: string } | { ok: false; msg: string };

/**
 * One entry of a delete_many. Confinement is judged on the real path of the entry's folder, resolved
 * once per distinct folder and request (a pass sends hundreds of files from a few folders), then the
 * entry itself is lstat-ed: a plain file or folder inside a confined folder cannot lead outside the
 * root. A symlink, a missing folder or anything unusual takes the full per-path check (SafeRoot.resolve).
 * A plain file is unlinked here; a folder is returned for the caller to remove.
 */
function deleteEntry(
  root: SafeRoot,
  file: string,
  parents: Map<string, string | undefined>,
): EntryOutcome | { folder: string; rel: string } {
  const rel = unquotePlus(file);
  // an empty path would mean the whole store
  if (!rel.replace(/\/+/g, '').trim()) return { ok: false, msg: 'Empty path not allowed' };
  const lexical = root.lexical(rel);
  if (!lexical.ok) return { ok: false, msg: lexical.status === 403 ? 'Path outside the storage root' : lexical.reason };
  if (lexical.full === root.root) return { ok: false, msg: 'Empty path not allowed' };
  const dir = path.dirname(lexical.full);
  let real: string | undefined;
  if (parents.has(dir)) real = parents.get(dir);
  else {
    real = realOrUndefined(dir);
    parents.set(dir, real);
  }
  if (real !== undefined && !root.inside(real)) return { ok: false, msg: 'Path outside the storage root' };
  let lst = real === undefined ? undefined : lstatOrUndefined(lexical.full);
  if (real === undefined || lst?.isSymbolicLink()) {
    // the slow, exact path: the nearest existing ancestor or the link's target decides
    const target = root.resolve(rel);
    if (!target.ok) return { ok: false, msg: target.status === 403 ? 'Path outside the storage root' : target.reason };
    lst = lstatOrUndefined(target.full);
  }
  const st = lst?.isSymbolicLink() ? statOrUndefined(lexical.full) : lst;
  if (!lst || !st) return { ok: false, msg: 'Not found' };
  if (st.isDirectory()) {
    if (lst.isSymbolicLink()) return { ok: false, msg: 'Cannot call rmtree on a symbolic link' };
    return { folder: lexical.full, rel };
  }
  if (!st.isFile()) return { ok: false, msg: 'Not a file or folder' };
  try {
    unlinkSync(lexical.full);
  } catch (e) {
    return deleteFailure(e);
  }
  return { ok: true, rel };
}

/**
 * rmtree, synchronously as the real server's is: a task folder holds tens of files, and the
 * promise API's two thread-pool round trips per entry cost twice the CPU of the calls themselves.
 * The request loop yields between slices of entries, so one folder blocks the server only briefly.
 */
function removeFolder(full: string, rel: string): EntryOutcome {
  try {
    rmSync(full, { recursive: true });
  } catch (e) {
    return deleteFailure(e);
  }
  return { ok: true, rel };
}

function deleteFailure(e: unknown): EntryOutcome {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return { ok: false, msg: 'Not found' };
  return { ok: false, msg: code === 'EACCES' || code === 'EPERM' ? 'Permission denied' : (code ?? 'Delete failed') };
}

/** Like the fsp.lstat/fsp.stat(...).catch(() => undefined) they replace: any failure reads as "not there". */
function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

function realOrUndefined(p: string): string | undefined {
  try {
    return realpathSync(p);
  } catch {
    return undefined;
  }
}
