/**
 * The allow-list: the only places files are ever deleted from. Artifacts registered by URL look
 * exactly like uploaded ones, so anything outside a root we were told about is left alone.
 */
import type { StorageConfig } from '../config/types.js';
import { classifyUrl, type ClassifyHints, type StorageLocation } from './url.js';

export interface AllowRoot {
  /** the root as written (config value or allowRoots entry) */
  source: string;
  backend: StorageLocation['backend'];
  scope: string;
  /** path segments a URL must start with, compared whole (never as a string prefix) */
  segments: string[];
  /** for file servers: the base URL requests go to (root with its path prefix, no trailing slash) */
  baseUrl?: string;
}

export interface AllowListInput {
  filesServer?: string;
  storage?: StorageConfig;
  allowRoots?: string[];
  /** false: only allowRoots count (to narrow deletion below what the configuration names) */
  useConfigRoots?: boolean;
}

/** S3-compatible hosts named in the configuration, for classifyUrl. */
export function s3HostsOf(storage?: StorageConfig): string[] {
  return (storage?.s3.credentials ?? []).filter((c) => c.host).map((c) => c.host!.toLowerCase());
}

function dropTrailingEmpty(segments: string[]): string[] {
  const out = [...segments];
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out;
}

/** Turns one root URL into an AllowRoot; throws on a root that could never be safe. */
export function parseRoot(source: string, hints?: ClassifyHints): AllowRoot {
  const loc = classifyUrl(source, hints);
  if (loc.backend === 'unknown') throw new Error(`allow root ${source}: not a storage URL${loc.unsafe ? ` (${loc.unsafe})` : ''}`);
  if (loc.unsafe) throw new Error(`allow root ${source}: ${loc.unsafe}`);
  const segments = dropTrailingEmpty(loc.segments);
  if (loc.backend === 'file' && segments.length === 0) throw new Error('allow root file:/// would allow the whole disk');
  const root: AllowRoot = { source, backend: loc.backend, scope: loc.scope, segments };
  if (loc.backend === 'fileserver') {
    root.baseUrl = loc.origin + segments.map((s) => '/' + encodeURIComponent(s)).join('');
  }
  return root;
}

function configRoots(input: AllowListInput): string[] {
  const out: string[] = [];
  if (input.filesServer) out.push(input.filesServer);
  const storage = input.storage;
  if (storage) {
    for (const c of storage.s3.credentials) {
      if (!c.bucket) continue;
      out.push(c.host ? `s3://${c.host}/${c.bucket}` : `s3://${c.bucket}`);
    }
    for (const c of storage.gcs.credentials) {
      if (c.bucket) out.push(`gs://${c.bucket}`);
    }
    // An account entry without a container name grants no root: that would be every container.
    for (const c of storage.azure.containers) {
      if (c.accountName && c.containerName) out.push(`azure://${c.accountName}.blob.core.windows.net/${c.containerName}`);
    }
  }
  return out;
}

export class AllowList {
  readonly roots: AllowRoot[];
  readonly hints: ClassifyHints;
  /** the configured files server, the only host that ever sees the bearer token */
  readonly filesServer?: AllowRoot;

  constructor(input: AllowListInput) {
    this.hints = { s3Hosts: s3HostsOf(input.storage) };
    if (input.filesServer) this.filesServer = parseRoot(input.filesServer, this.hints);
    const sources = [...(input.useConfigRoots === false ? [] : configRoots(input)), ...(input.allowRoots ?? [])];
    this.roots = sources.map((s) => parseRoot(s, this.hints));
  }

  /**
   * Where a file server URL's requests go: the configured files server when the URL is under it,
   * else the widest http root holding it (an allowRoots entry names a file server's base).
   */
  fileServerBase(loc: StorageLocation): AllowRoot | undefined {
    if (loc.backend !== 'fileserver') return undefined;
    if (this.filesServer && contains(this.filesServer, loc)) return this.filesServer;
    let widest: AllowRoot | undefined;
    for (const root of this.roots) {
      if (root.backend === 'fileserver' && contains(root, loc) && (!widest || root.segments.length < widest.segments.length)) widest = root;
    }
    return widest;
  }

  /** True when the bearer token may go with a request for this location. */
  isFilesServerHost(loc: StorageLocation): boolean {
    return loc.backend === 'fileserver' && !!this.filesServer && this.filesServer.scope === loc.scope;
  }

  /** The most specific root holding this location strictly below it, if any. */
  match(loc: StorageLocation): AllowRoot | undefined {
    if (loc.backend === 'unknown' || loc.unsafe) return undefined;
    let best: AllowRoot | undefined;
    for (const root of this.roots) {
      if (contains(root, loc) && (!best || root.segments.length > best.segments.length)) best = root;
    }
    return best;
  }
}

/** Strictly below the root, compared on whole path segments (bucket-a never holds bucket-ab). */
function contains(root: AllowRoot, loc: StorageLocation): boolean {
  if (loc.backend === 'unknown' || loc.unsafe || root.scope !== loc.scope) return false;
  if (loc.segments.length <= root.segments.length) return false;
  return root.segments.every((s, i) => loc.segments[i] === s);
}
