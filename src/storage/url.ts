/**
 * Parsing of the storage URLs ClearML writes into artifacts, models and events.
 *
 * The SDK percent-encodes only http(s) paths; s3://, gs://, azure:// and file:// URLs carry the raw
 * object name, so those are split by hand and never run through the WHATWG parser (which would
 * re-encode them and silently resolve `..`).
 */

export type Backend = 'fileserver' | 's3' | 'gs' | 'azure' | 'file' | 'unknown';

interface Base {
  url: string;
  /** Identifies the namespace an allow-list root must share (origin, endpoint+bucket, ...). */
  scope: string;
  /** Object path split on '/', decoded; compared segment by segment against allow roots. */
  segments: string[];
  /** Set when the URL must never be acted on (traversal, encoded separators, NUL...). */
  unsafe?: string;
}

export interface FileServerLocation extends Base {
  backend: 'fileserver';
  /** scheme://host[:port], lowercased, default port dropped */
  origin: string;
}

export interface S3Location extends Base {
  backend: 's3';
  /** host[:port] of an S3-compatible endpoint, lowercased; absent for AWS */
  host?: string;
  bucket: string;
  key: string;
}

export interface GsLocation extends Base {
  backend: 'gs';
  bucket: string;
  key: string;
}

export interface AzureLocation extends Base {
  backend: 'azure';
  account: string;
  container: string;
  blob: string;
}

export interface FileLocation extends Base {
  backend: 'file';
  /** absolute POSIX path */
  path: string;
}

export interface UnknownLocation extends Base {
  backend: 'unknown';
}

export type StorageLocation =
  | FileServerLocation
  | S3Location
  | GsLocation
  | AzureLocation
  | FileLocation
  | UnknownLocation;

export interface ClassifyHints {
  /** S3-compatible hosts from the configuration: `s3://<host>/bucket/key` even without a port */
  s3Hosts?: Iterable<string>;
}

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/]*)(.*)$/s;

/** Splits `scheme://authority/rest` without decoding anything. */
function splitRaw(url: string): { scheme: string; authority: string; rest: string } | undefined {
  const m = SCHEME.exec(url);
  if (!m) return undefined;
  return { scheme: m[1].toLowerCase(), authority: m[2], rest: m[3] };
}

/** Why a list of path segments must not be used, or undefined when it is fine. */
function segmentProblem(segments: string[]): string | undefined {
  for (const s of segments) {
    if (s === '.' || s === '..') return 'path traversal';
    if (s.includes('\0')) return 'NUL in path';
  }
  return undefined;
}

function unknown(url: string, unsafe?: string): UnknownLocation {
  return { backend: 'unknown', url, scope: 'unknown', segments: [], unsafe };
}

/**
 * What the WHATWG parser says of a URL's `scheme://authority` (it is the part that can fail or carry
 * credentials), remembered per authority: a pass classifies tens of thousands of URLs of one or two
 * file servers, and a full parse each was most of the CPU and garbage of classifying them.
 */
const authorities = new Map<string, { origin?: string; problem?: string }>();
const MAX_AUTHORITIES = 1000;

function authorityOf(scheme: string, authority: string): { origin?: string; problem?: string } {
  const key = `${scheme}://${authority}`;
  let known = authorities.get(key);
  if (known) return known;
  try {
    const parsed = new URL(`${key}/`);
    known = parsed.username || parsed.password ? { problem: 'credentials in URL' } : { origin: parsed.origin.toLowerCase() };
  } catch {
    known = { problem: 'unparsable URL' };
  }
  if (authorities.size >= MAX_AUTHORITIES) authorities.clear();
  authorities.set(key, known);
  return known;
}

function parseHttp(url: string, raw: { scheme: string; authority: string; rest: string }): StorageLocation {
  // the whole URL must still parse (as before); the authority's verdict is the cached part
  const auth = authorityOf(raw.scheme, raw.authority);
  if (auth.problem) return unknown(url, auth.problem);
  if (!URL.canParse(url)) return unknown(url, 'unparsable URL');
  const origin = auth.origin!;
  // The raw path, before WHATWG normalisation could fold `..` or `%2e%2e` away.
  const rawPath = raw.rest.replace(/[?#].*$/s, '');
  const rawSegments = rawPath.split('/').slice(1);
  const segments: string[] = [];
  let unsafe: string | undefined;
  for (const seg of rawSegments) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(seg);
    } catch {
      unsafe ??= 'bad percent-encoding';
      decoded = seg;
    }
    // The file server decodes the path again: an encoded separator would change what is deleted.
    if (decoded.includes('/') || decoded.includes('\\')) unsafe ??= 'encoded path separator';
    segments.push(decoded);
  }
  unsafe ??= segmentProblem(segments);
  return { backend: 'fileserver', url, origin, scope: `http:${origin}`, segments, unsafe };
}

function parseS3(url: string, authority: string, rest: string, hints?: ClassifyHints): StorageLocation {
  const netloc = authority.toLowerCase();
  const knownHosts = new Set([...(hints?.s3Hosts ?? [])].map((h) => h.toLowerCase()));
  let host: string | undefined;
  let bucket: string;
  let key: string;
  if (netloc.includes(':') || knownHosts.has(netloc)) {
    // s3://host:port/bucket/key (MinIO, Ceph, s3rver...)
    host = netloc;
    const path = rest.replace(/^\//, '');
    const slash = path.indexOf('/');
    bucket = slash < 0 ? path : path.slice(0, slash);
    key = slash < 0 ? '' : path.slice(slash + 1);
  } else {
    bucket = authority;
    key = rest.replace(/^\//, '');
  }
  if (!bucket) return unknown(url, 'no bucket');
  const segments = key === '' ? [] : key.split('/');
  return {
    backend: 's3',
    url,
    host,
    bucket,
    key,
    scope: `s3:${host ?? ''}/${bucket}`,
    segments,
    unsafe: segmentProblem(segments),
  };
}

function parseGs(url: string, authority: string, rest: string): StorageLocation {
  if (!authority) return unknown(url, 'no bucket');
  const key = rest.replace(/^\//, '');
  const segments = key === '' ? [] : key.split('/');
  return { backend: 'gs', url, bucket: authority, key, scope: `gs:${authority}`, segments, unsafe: segmentProblem(segments) };
}

function parseAzure(url: string, authority: string, rest: string): StorageLocation {
  // azure://<account>.blob.core.windows.net/<container>/<blob path>
  const account = authority.split('.')[0].toLowerCase();
  const path = rest.replace(/^\//, '');
  const slash = path.indexOf('/');
  const container = slash < 0 ? path : path.slice(0, slash);
  const blob = slash < 0 ? '' : path.slice(slash + 1);
  if (!account || !container) return unknown(url, 'no account or container');
  const segments = blob === '' ? [] : blob.split('/');
  return {
    backend: 'azure',
    url,
    account,
    container,
    blob,
    scope: `azure:${account}/${container}`,
    segments,
    unsafe: segmentProblem(segments),
  };
}

function parseLocalPath(url: string, path: string): StorageLocation {
  if (!path.startsWith('/')) return unknown(url, 'relative path');
  const segments = path.split('/').slice(1);
  let unsafe = segmentProblem(segments);
  // `a//b` is the same file as `a/b` on disk; keep matching simple and strict.
  if (!unsafe && segments.slice(0, -1).some((s) => s === '')) unsafe = 'empty path segment';
  return { backend: 'file', url, path, scope: 'file:', segments, unsafe };
}

/**
 * Classifies a storage URL into its backend and object coordinates. Pure: no configuration is
 * read beyond the hints, no I/O. An http(s) URL is always 'fileserver' here; whether it belongs to
 * a configured file server is the allow-list's decision.
 */
const HTTP_CACHE_MAX = 40_000;
const httpCache = new Map<string, StorageLocation>();

function deepFreeze<T extends StorageLocation>(loc: T): T {
  Object.freeze(loc.segments);
  return Object.freeze(loc);
}

export function classifyUrl(url: string, hints?: ClassifyHints): StorageLocation {
  if (typeof url !== 'string' || url.trim() === '') return unknown(String(url), 'empty URL');
  if (url.startsWith('/')) return parseLocalPath(url, url);
  const hit = httpCache.get(url);
  if (hit) return hit;
  const raw = splitRaw(url);
  if (!raw) return unknown(url, 'not a URL');
  switch (raw.scheme) {
    case 'http':
    case 'https': {
      // a pass classifies each file URL several times (ownership, references, storage): http(s)
      // parsing depends on the URL alone, so the last few thousand answers are kept (frozen: shared)
      if (httpCache.size >= HTTP_CACHE_MAX) httpCache.clear();
      const loc = deepFreeze(parseHttp(url, raw));
      httpCache.set(url, loc);
      return loc;
    }
    case 's3':
      return parseS3(url, raw.authority, raw.rest, hints);
    case 'gs':
      return parseGs(url, raw.authority, raw.rest);
    case 'azure':
      return parseAzure(url, raw.authority, raw.rest);
    case 'file': {
      const host = raw.authority.toLowerCase();
      if (host !== '' && host !== 'localhost') return unknown(url, 'file URL on another host');
      return parseLocalPath(url, raw.rest);
    }
    default:
      return unknown(url);
  }
}

/**
 * True when path segment i is the folder ClearML writes one owner's files below: a task's
 * `<task name>.<task id>` or a Report's `reports/<report id>`.
 */
export function isOwnerFolderSegment(segments: readonly string[], i: number): boolean {
  const s = segments[i] ?? '';
  if (s.length > 33 && /\.[0-9a-f]{32}$/i.test(s)) return true;
  return i > 0 && /^[0-9a-f]{32}$/i.test(s) && segments[i - 1].toLowerCase() === 'reports';
}

/** True when the URL names a folder rather than an object (trailing slash or nothing at all). */
export function looksLikeFolder(loc: StorageLocation): boolean {
  return loc.segments.length === 0 || loc.segments[loc.segments.length - 1] === '';
}
