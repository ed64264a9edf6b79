/**
 * Listing every file under a storage root, streamed (async generators), with size and mtime: the
 * orphan sweep and the storage report compare it with what the ClearML server references.
 *
 * The real ClearML file server offers no listing. Two ways around it:
 * - the embedded server (and any server implementing it) answers `GET /_embedded/list?prefix=&after=&limit=`
 *   on its files port with `{files: [{path, size, mtime}], next}` (paths relative to the server root);
 * - for a real file server, its data directory mounted locally (`fileServerDir`): walked on disk,
 *   each path mapped to the files-server URL the SDK wrote, so references match and deletion goes
 *   through the file server as in a pass.
 */
import { opendir, lstat } from 'node:fs/promises';
import path from 'node:path';
import type { Got } from 'got';
import type { AllowRoot } from './allow-list.js';
import type { AzureClients } from './azure.js';
import type { GcsClients } from './gcs.js';
import type { S3Clients } from './s3.js';
import type { TokenSource } from './fileserver.js';
import type { AzureLocation, GsLocation, S3Location } from './url.js';

export interface ListedFile {
  url: string;
  /** bytes */
  size: number;
  /** epoch ms of the last modification (upload) */
  mtime: number;
}

/** The extension the embedded file server offers (the real one answers 404/405). */
export const FILES_LIST_PATH = '_embedded/list';

export class ListingUnsupportedError extends Error {}

/** Depth-first, names sorted, never following symlinks (a link could lead outside the root). */
export async function* walkDir(dir: string): AsyncGenerator<{ full: string; size: number; mtime: number }> {
  let names: string[];
  try {
    const d = await opendir(dir);
    names = [];
    for await (const e of d) names.push(e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  names.sort();
  for (const n of names) {
    const full = path.join(dir, n);
    let st;
    try {
      st = await lstat(full);
    } catch {
      continue; // gone meanwhile
    }
    if (st.isDirectory()) yield* walkDir(full);
    else if (st.isFile()) yield { full, size: st.size, mtime: st.mtimeMs };
  }
}

function encodePath(segments: string[]): string {
  return segments.map(encodeURIComponent).join('/');
}

/** file:///root: a directory walk. */
export async function* listLocal(root: AllowRoot): AsyncGenerator<ListedFile> {
  const dir = '/' + root.segments.join('/');
  for await (const f of walkDir(dir)) yield { url: `file://${f.full}`, size: f.size, mtime: f.mtime };
}

/** A file server's data directory mounted at `dir`: paths mapped to URLs under `root.baseUrl`. */
export async function* listFileServerDir(root: AllowRoot, base: AllowRoot, dir: string): AsyncGenerator<ListedFile> {
  const below = root.segments.slice(base.segments.length);
  const start = path.join(dir, ...below);
  for await (const f of walkDir(start)) {
    const rel = path.relative(dir, f.full).split(path.sep);
    yield { url: `${base.baseUrl}/${encodePath(rel)}`, size: f.size, mtime: f.mtime };
  }
}

/** The listing extension of the embedded file server, page by page. */
export async function* listFileServerHttp(
  root: AllowRoot,
  base: AllowRoot,
  http: Got,
  token?: TokenSource,
): AsyncGenerator<ListedFile> {
  const prefix = root.segments.slice(base.segments.length).join('/');
  let after = '';
  // a cursor seen before would start the listing over: stop instead of looping
  const cursors = new Set<string>(['']);
  for (;;) {
    const url = `${base.baseUrl}/${FILES_LIST_PATH}?prefix=${encodeURIComponent(prefix)}&after=${encodeURIComponent(after)}&limit=1000`;
    const get = async (t?: string) => http(url, { method: 'GET', headers: t ? { authorization: `Bearer ${t}` } : {} });
    const t = token ? await token.get() : undefined;
    let res = await get(t);
    if (res.statusCode === 401 && token && t !== undefined) res = await get(await token.refresh(t));
    if (res.statusCode === 404 || res.statusCode === 405) {
      throw new ListingUnsupportedError(
        `the file server at ${base.baseUrl} offers no listing: mount its data directory and pass --fileserver-dir`,
      );
    }
    if (res.statusCode !== 200) throw new Error(`listing ${base.baseUrl} failed: HTTP ${res.statusCode}`);
    const body = JSON.parse(String(res.body)) as { files?: Array<{ path: string; size: number; mtime: number }>; next?: string | null };
    for (const f of body.files ?? []) {
      yield { url: `${base.baseUrl}/${encodePath(f.path.split('/'))}`, size: f.size, mtime: f.mtime };
    }
    if (!body.next || cursors.has(body.next)) return;
    cursors.add(body.next);
    after = body.next;
  }
}

/** S3 and compatible stores: ListObjectsV2 under the root's prefix. */
export async function* listS3(clients: S3Clients, loc: S3Location, root: AllowRoot): AsyncGenerator<ListedFile> {
  const client = clients.get(loc);
  // the SDK is loaded only when an S3 root is listed (it is tens of MB)
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const prefix = root.segments.length ? root.segments.join('/') + '/' : '';
  const head = loc.host ? `s3://${loc.host}/${loc.bucket}` : `s3://${loc.bucket}`;
  let token: string | undefined;
  const tokens = new Set<string>();
  do {
    const res = await client.send(new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of res.Contents ?? []) {
      if (!o.Key || o.Key.endsWith('/')) continue;
      yield { url: `${head}/${o.Key}`, size: o.Size ?? 0, mtime: o.LastModified?.getTime() ?? 0 };
    }
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
    // a continuation token seen before would list the same keys again: stop instead of looping
    if (token !== undefined && tokens.has(token)) token = undefined;
    if (token !== undefined) tokens.add(token);
  } while (token);
}

/** Azure Blob: listBlobsFlat under the root's prefix. */
export async function* listAzure(clients: AzureClients, loc: AzureLocation, root: AllowRoot): AsyncGenerator<ListedFile> {
  const client = clients.get(loc);
  const prefix = root.segments.length ? root.segments.join('/') + '/' : undefined;
  for await (const b of client.listBlobsFlat(prefix ? { prefix } : {})) {
    yield {
      url: `azure://${loc.account}.blob.core.windows.net/${loc.container}/${b.name}`,
      size: b.properties.contentLength ?? 0,
      mtime: b.properties.lastModified?.getTime() ?? 0,
    };
  }
}

/** Google Cloud Storage: getFiles pages under the root's prefix. */
export async function* listGcs(clients: GcsClients, loc: GsLocation, root: AllowRoot): AsyncGenerator<ListedFile> {
  const bucket = clients.get(loc.bucket).bucket(loc.bucket);
  const prefix = root.segments.length ? root.segments.join('/') + '/' : undefined;
  let query: Record<string, unknown> | null = { prefix, autoPaginate: false, maxResults: 1000 };
  const pageTokens = new Set<string>();
  while (query) {
    const [files, next] = (await bucket.getFiles(query)) as unknown as [Array<{ name: string; metadata: Record<string, unknown> }>, Record<string, unknown> | null];
    for (const f of files) {
      if (f.name.endsWith('/')) continue;
      yield {
        url: `gs://${loc.bucket}/${f.name}`,
        size: Number(f.metadata.size ?? 0),
        mtime: Date.parse(String(f.metadata.updated ?? f.metadata.timeCreated ?? '')) || 0,
      };
    }
    // a page token seen before would list the same objects again: stop instead of looping
    const pageToken = typeof next?.pageToken === 'string' ? next.pageToken : undefined;
    if (pageToken !== undefined && pageTokens.has(pageToken)) break;
    if (pageToken !== undefined) pageTokens.add(pageToken);
    query = next;
  }
}

