/**
 * Deletes files by URL on every backend ClearML writes to, but only below an allowed root.
 * URLs are grouped per backend (and bucket, container, server) and sent in batches; one
 * file's failure is reported in its outcome, never thrown.
 */
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { got, type Got } from 'got';
import pLimit from 'p-limit';
import { AllowList, parseRoot, type AllowRoot } from './allow-list.js';
import { DEFAULTS, type StorageContext } from './context.js';
import { deleteOnFileServer, removeFoldersOnFileServer, TokenSource, type FileServerOptions } from './fileserver.js';
import type { AzureClients } from './azure.js';
import type { GcsClients } from './gcs.js';
import type { S3Clients } from './s3.js';
import { deleteLocalFiles } from './local.js';
import { errorText, REFUSAL, type FileOutcome } from './outcome.js';
import { outcomeOf, type Limit, type Target } from './target.js';
import { classifyUrl, isOwnerFolderSegment, looksLikeFolder, type FileServerLocation, type StorageLocation } from './url.js';
import { listAzure, listFileServerDir, listFileServerHttp, listGcs, listLocal, listS3, type ListedFile } from './list.js';

export interface ListOptions {
  /** a file server's data directory mounted locally: walked instead of asking the server */
  fileServerDir?: string;
}

export type ClassifiedUrl = StorageLocation & {
  /** true when deleteFiles would act on it */
  allowed: boolean;
  /** the allow root that holds it */
  root?: string;
  /** when not allowed: the outcome deleteFiles would report */
  refusal?: { reason: string; detail: string };
};

export interface Storage {
  classify(url: string): ClassifiedUrl;
  deleteFiles(urls: string[]): Promise<FileOutcome[]>;
  /**
   * Removes task folders (`<name>.<id>`, `reports/<id>`) whole, on a file server only, below an
   * allowed root; the caller must have checked that nothing inside is still referenced. Elsewhere
   * there is nothing to remove (object stores have no folders; file:// prunes empty ones itself):
   * refused.
   */
  deleteFolders(urls: string[]): Promise<FileOutcome[]>;
  /** the allow roots in force, as given */
  readonly roots: readonly string[];
  /** Every file under a root URL (streamed); throws ListingUnsupportedError where no listing exists. */
  list(root: string, opts?: ListOptions): AsyncGenerator<ListedFile>;
  /**
   * A small text file (a dataset's `state` artifact), from the file server or a local path below an
   * allowed root; throws for other backends, for a file larger than maxBytes, and on any error.
   */
  readText(url: string, maxBytes: number): Promise<string>;
  close(): void;
}

function httpClient(ctx: StorageContext): Got {
  const verify = ctx.verifyCertificate ?? true;
  return got.extend({
    throwHttpErrors: false,
    followRedirect: false,
    timeout: { request: ctx.timeoutMs ?? DEFAULTS.timeoutMs },
    retry: {
      limit: 4,
      methods: ['HEAD', 'DELETE', 'POST'],
      // every call here is idempotent: a repeated delete answers 404 / "Not found", i.e. missing
      statusCodes: [408, 429, 500, 502, 503, 504, 509],
    },
    https:
      verify === false
        ? { rejectUnauthorized: false }
        : typeof verify === 'string'
          ? { certificateAuthority: readFileSync(verify) }
          : {},
  });
}

type Group = { key: string; targets: Target[]; run: (targets: Target[]) => Promise<FileOutcome[]> };

class StorageImpl implements Storage {
  private readonly allow: AllowList;
  private readonly limit: Limit;
  // each cloud SDK is tens of MB of code: loaded on the first URL of its backend, never otherwise
  private s3?: Promise<{ mod: typeof import('./s3.js'); clients: S3Clients }>;
  private gcs?: Promise<{ mod: typeof import('./gcs.js'); clients: GcsClients }>;
  private azure?: Promise<{ mod: typeof import('./azure.js'); clients: AzureClients }>;
  private readonly token?: TokenSource;
  private http?: Got;

  constructor(private readonly ctx: StorageContext) {
    this.allow = new AllowList(ctx);
    this.limit = pLimit(ctx.concurrency ?? DEFAULTS.concurrency);
    if (ctx.getToken) this.token = new TokenSource(ctx.getToken);
  }

  private s3Backend() {
    return (this.s3 ??= import('./s3.js').then((mod) => ({ mod, clients: new mod.S3Clients(this.ctx.storage.s3) })));
  }

  private gcsBackend() {
    return (this.gcs ??= import('./gcs.js').then((mod) => ({ mod, clients: new mod.GcsClients(this.ctx.storage.gcs) })));
  }

  private azureBackend() {
    return (this.azure ??= import('./azure.js').then((mod) => ({ mod, clients: new mod.AzureClients(this.ctx.storage.azure.containers) })));
  }

  get roots(): readonly string[] {
    return this.allow.roots.map((r) => r.source);
  }

  classify(url: string): ClassifiedUrl {
    const loc = classifyUrl(url, this.allow.hints);
    const refuse = (reason: string, detail: string): ClassifiedUrl => ({ ...loc, allowed: false, refusal: { reason, detail } });
    if (loc.unsafe) return refuse(REFUSAL.notAllowed, loc.unsafe);
    if (loc.backend === 'unknown') return refuse(REFUSAL.notAllowed, 'not a storage URL this service deletes');
    if (looksLikeFolder(loc)) return refuse(REFUSAL.folder, 'names a folder, not a file');
    const root = this.allow.match(loc);
    if (!root) return refuse(REFUSAL.notAllowed, 'outside every allowed root');
    if (loc.backend === 'fileserver' && !this.allow.fileServerBase(loc)) return refuse(REFUSAL.notAllowed, 'no file server base');
    return { ...loc, allowed: true, root: root.source };
  }

  /** Where a file-server location's requests go (its base), and with which token. */
  private fileServerOptions(loc: FileServerLocation): FileServerOptions {
    return {
      base: this.allow.fileServerBase(loc) as AllowRoot,
      http: (this.http ??= httpClient(this.ctx)),
      limit: this.limit,
      batchSize: this.ctx.fileServerBatchSize ?? DEFAULTS.fileServerBatchSize,
      token: this.allow.isFilesServerHost(loc) ? this.token : undefined,
    };
  }

  private groupFor(t: Target): { key: string; run: Group['run'] } {
    const loc = t.loc;
    switch (loc.backend) {
      case 'fileserver': {
        const o = this.fileServerOptions(loc);
        return { key: `fileserver ${o.base.baseUrl}`, run: (ts) => deleteOnFileServer(ts as Target<typeof loc>[], o) };
      }
      case 's3':
        return {
          key: `s3 ${loc.scope}`,
          run: async (ts) => {
            const { mod, clients } = await this.s3Backend();
            return mod.deleteS3Objects(clients, ts as Target<typeof loc>[], this.limit, DEFAULTS.s3BatchSize);
          },
        };
      case 'gs':
        return {
          key: 'gs',
          run: async (ts) => {
            const { mod, clients } = await this.gcsBackend();
            return mod.deleteGcsObjects(clients, ts as Target<typeof loc>[], this.limit);
          },
        };
      case 'azure':
        return {
          key: `azure ${loc.scope}`,
          run: async (ts) => {
            const { mod, clients } = await this.azureBackend();
            return mod.deleteAzureBlobs(clients, ts as Target<typeof loc>[], this.limit, DEFAULTS.azureBatchSize);
          },
        };
      case 'file':
        return { key: 'file', run: (ts) => deleteLocalFiles(ts as Target<typeof loc>[], this.limit) };
      default:
        throw new Error(`no backend for ${loc.url}`);
    }
  }

  async deleteFiles(urls: string[]): Promise<FileOutcome[]> {
    const byUrl = new Map<string, FileOutcome>();
    const groups = new Map<string, Group>();
    for (const url of new Set(urls)) {
      const c = this.classify(url);
      if (!c.allowed) {
        byUrl.set(url, outcomeOf(c, 'refused', { reason: c.refusal!.reason, detail: c.refusal!.detail }));
        continue;
      }
      const t: Target = { loc: c, root: this.allow.match(c)! };
      try {
        const { key, run } = this.groupFor(t);
        const g = groups.get(key) ?? { key, targets: [], run };
        g.targets.push(t);
        groups.set(key, g);
      } catch (err) {
        byUrl.set(url, outcomeOf(c, 'failed', { reason: errorText(err) }));
      }
    }
    await Promise.all(
      [...groups.values()].map(async (g) => {
        let outcomes: FileOutcome[];
        try {
          outcomes = await g.run(g.targets);
        } catch (err) {
          const reason = errorText(err);
          outcomes = g.targets.map((t) => outcomeOf(t.loc, 'failed', { reason }));
        }
        g.targets.forEach((t, i) => byUrl.set(t.loc.url, outcomes[i] ?? outcomeOf(t.loc, 'failed', { reason: 'no outcome' })));
        this.ctx.log?.debug?.(`${g.key}: ${g.targets.length} file(s) processed`);
      }),
    );
    return urls.map((u) => ({ ...byUrl.get(u)! }));
  }

  async deleteFolders(urls: string[]): Promise<FileOutcome[]> {
    const result = new Map<string, FileOutcome>();
    const groups = new Map<string, { options: FileServerOptions; targets: Target<FileServerLocation>[] }>();
    for (const url of new Set(urls)) {
      const loc = classifyUrl(url.replace(/\/+$/, ''), this.allow.hints);
      const refuse = (reason: string, detail: string) => result.set(url, { ...outcomeOf(loc, 'refused', { reason, detail }), url });
      if (loc.unsafe || loc.backend === 'unknown') refuse(REFUSAL.notAllowed, loc.unsafe ?? 'not a storage URL this service deletes');
      else if (loc.backend !== 'fileserver') refuse(REFUSAL.folder, `no folders to remove on ${loc.backend}`);
      else if (!isOwnerFolderSegment(loc.segments, loc.segments.length - 1)) refuse(REFUSAL.folder, 'not a task or Report folder');
      else {
        const root = this.allow.match(loc);
        if (!root || !this.allow.fileServerBase(loc)) refuse(REFUSAL.notAllowed, 'outside every allowed root');
        else {
          const options = this.fileServerOptions(loc);
          const key = options.base.baseUrl ?? options.base.source;
          const g = groups.get(key) ?? { options, targets: [] };
          g.targets.push({ loc: { ...loc, url }, root });
          groups.set(key, g);
        }
      }
    }
    await Promise.all(
      [...groups.values()].map(async (g) => {
        let outcomes: FileOutcome[];
        try {
          outcomes = await removeFoldersOnFileServer(g.targets, g.options);
        } catch (err) {
          const reason = errorText(err);
          outcomes = g.targets.map((t) => outcomeOf(t.loc, 'failed', { reason }));
        }
        g.targets.forEach((t, i) => result.set(t.loc.url, outcomes[i] ?? outcomeOf(t.loc, 'failed', { reason: 'no outcome' })));
      }),
    );
    return urls.map((u) => ({ ...result.get(u)! }));
  }

  async *list(rootUrl: string, opts: ListOptions = {}): AsyncGenerator<ListedFile> {
    const root = parseRoot(rootUrl, this.allow.hints);
    const loc = classifyUrl(rootUrl, this.allow.hints);
    switch (loc.backend) {
      case 'file':
        yield* listLocal(root);
        return;
      case 's3':
        yield* listS3((await this.s3Backend()).clients, loc, root);
        return;
      case 'azure':
        yield* listAzure((await this.azureBackend()).clients, loc, root);
        return;
      case 'gs':
        yield* listGcs((await this.gcsBackend()).clients, loc, root);
        return;
      case 'fileserver': {
        const within = (r: AllowRoot) => r.scope === root.scope && r.segments.every((s, i) => root.segments[i] === s);
        const fs = this.allow.filesServer;
        const base =
          fs && within(fs)
            ? fs
            : this.allow.roots.filter((r) => r.backend === 'fileserver' && within(r)).sort((a, b) => a.segments.length - b.segments.length)[0] ?? root;
        if (opts.fileServerDir) yield* listFileServerDir(root, base, opts.fileServerDir);
        else yield* listFileServerHttp(root, base, (this.http ??= httpClient(this.ctx)), base === fs ? this.token : undefined);
        return;
      }
      default:
        throw new Error(`cannot list ${rootUrl}: not a storage root`);
    }
  }

  async readText(url: string, maxBytes: number): Promise<string> {
    const c = this.classify(url);
    if (!c.allowed) throw new Error(`${url}: ${c.refusal?.detail ?? 'not allowed'}`);
    if (c.backend === 'file') {
      const st = await stat(c.path);
      if (st.size > maxBytes) throw new Error(`${url}: ${st.size} bytes, more than ${maxBytes}`);
      return readFile(c.path, 'utf8');
    }
    if (c.backend !== 'fileserver') throw new Error(`${url}: reading from ${c.backend} is not supported`);
    const base = this.allow.fileServerBase(c) as AllowRoot;
    const token = this.allow.isFilesServerHost(c) ? this.token : undefined;
    const http = (this.http ??= httpClient(this.ctx));
    const rel = c.segments.slice(base.segments.length).map(encodeURIComponent).join('/');
    const get = async (t?: string) =>
      http(`${base.baseUrl}/${rel}`, { method: 'GET', headers: t ? { authorization: `Bearer ${t}` } : {}, responseType: 'buffer' });
    const t0 = token ? await token.get() : undefined;
    let res = await get(t0);
    if (res.statusCode === 401 && token && t0 !== undefined) res = await get(await token.refresh(t0));
    if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode}`);
    if (res.body.length > maxBytes) throw new Error(`${url}: ${res.body.length} bytes, more than ${maxBytes}`);
    return res.body.toString('utf8');
  }

  close(): void {
    void this.s3?.then(({ clients }) => clients.close(), () => undefined);
  }
}

/** Throws (one clear message) when an allow root is malformed or would allow a whole disk. */
export function createStorage(ctx: StorageContext): Storage {
  return new StorageImpl(ctx);
}

/** One-shot form of createStorage(ctx).deleteFiles(urls). */
export async function deleteFiles(urls: string[], ctx: StorageContext): Promise<FileOutcome[]> {
  const storage = createStorage(ctx);
  try {
    return await storage.deleteFiles(urls);
  } finally {
    storage.close();
  }
}
