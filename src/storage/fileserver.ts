/**
 * The ClearML file server. `POST /delete_many` removes whole folders (rmtree) when a path names
 * one, so only paths whose last segment is a file name (`name.ext`, never a `<task name>.<task id>`
 * folder) go into a batch. Anything else gets one `DELETE /<path>`, which the server refuses for a
 * folder by itself. No per-file probe: one request per 500 files is the point of batching.
 * A server without delete_many (404/405) gets one `DELETE /<path>` per file.
 */
import type { Got, Response } from 'got';
import type { AllowRoot } from './allow-list.js';
import { errorText, type FileOutcome } from './outcome.js';
import type { FileServerLocation } from './url.js';
import { chunks, outcomeOf, type Limit, type Target } from './target.js';

export interface FileServerOptions {
  /** the server's base URL root (files server or an allowRoots http entry) */
  base: AllowRoot;
  http: Got;
  limit: Limit;
  batchSize: number;
  /** present only when the base is the configured files server */
  token?: TokenSource;
}

/** Caches the bearer token; a 401 asks the caller's getToken once more. */
export class TokenSource {
  private current?: Promise<string>;

  constructor(private readonly getToken: (stale?: string) => Promise<string>) {}

  get(): Promise<string> {
    // a failed fetch must not stick: a long-lived storage asks again next time
    this.current ??= this.getToken().catch((err: unknown) => {
      this.current = undefined;
      throw err;
    });
    return this.current;
  }

  /** Many requests may see the same 401 at once: only the first one asks for a new token. */
  async refresh(rejected: string): Promise<string> {
    const now = await this.get();
    if (now !== rejected) return now;
    if (!this.refreshing) {
      this.refreshing = this.getToken(rejected).finally(() => (this.refreshing = undefined));
      this.current = this.refreshing;
    }
    return this.refreshing;
  }

  private refreshing?: Promise<string>;
}

/** Path below the server base, each segment encoded ('+' too: delete_many decodes it as a space). */
export function relativePath(base: AllowRoot, loc: FileServerLocation): string {
  return loc.segments.slice(base.segments.length).map(encodeURIComponent).join('/');
}

/** ClearML ids are 32 hex characters; `<task name>.<task id>` is a task's folder, not a file. */
const TASK_FOLDER_SUFFIX = /\.[0-9a-f]{32}$/i;
const FILE_EXTENSION = /\.[A-Za-z0-9]{1,12}$/;

/** True when the last path segment looks like a file the SDK uploaded, so delete_many is safe. */
export function looksLikeFileName(segment: string): boolean {
  return FILE_EXTENSION.test(segment) && !TASK_FOLDER_SUFFIX.test(segment);
}

class FileServer {
  private batchUnsupported = false;

  constructor(private readonly o: FileServerOptions) {}

  private async send(method: 'HEAD' | 'DELETE' | 'POST', path: string, json?: unknown): Promise<Response<string>> {
    const attempt = async (token?: string) =>
      this.o.http(`${this.o.base.baseUrl}/${path}`, {
        method,
        json,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
    const token = this.o.token ? await this.o.token.get() : undefined;
    let res = await attempt(token);
    if (res.statusCode === 401 && this.o.token && token !== undefined) res = await attempt(await this.o.token.refresh(token));
    return res;
  }


  private async deleteSingle(t: Target<FileServerLocation>, bytes?: number): Promise<FileOutcome> {
    try {
      const res = await this.send('DELETE', relativePath(this.o.base, t.loc));
      if (res.statusCode === 200) return outcomeOf(t.loc, 'deleted', bytes === undefined ? {} : { bytes });
      if (res.statusCode === 404) return outcomeOf(t.loc, 'missing');
      return outcomeOf(t.loc, 'failed', { reason: httpReason(res) });
    } catch (err) {
      return outcomeOf(t.loc, 'failed', { reason: errorText(err) });
    }
  }

  /** undefined: delete_many is not there, use single deletes. */
  private async deleteMany(batch: Array<{ t: Target<FileServerLocation>; bytes?: number }>): Promise<FileOutcome[] | undefined> {
    if (this.batchUnsupported) return undefined;
    const files = batch.map(({ t }) => relativePath(this.o.base, t.loc));
    let res: Response<string>;
    try {
      res = await this.send('POST', 'delete_many', { files });
    } catch (err) {
      const reason = errorText(err);
      return batch.map(({ t }) => outcomeOf(t.loc, 'failed', { reason }));
    }
    if (res.statusCode === 404 || res.statusCode === 405) {
      this.batchUnsupported = true;
      return undefined;
    }
    if (res.statusCode !== 200) {
      const reason = httpReason(res);
      return batch.map(({ t }) => outcomeOf(t.loc, 'failed', { reason }));
    }
    let body: { deleted?: Record<string, unknown>; errors?: Record<string, unknown> };
    try {
      body = JSON.parse(res.body) as typeof body;
    } catch {
      return batch.map(({ t }) => outcomeOf(t.loc, 'failed', { reason: 'delete_many answered no JSON' }));
    }
    const deleted = new Set(Object.keys(body.deleted ?? {}));
    const errorOf = new Map<string, string>();
    for (const [msg, list] of Object.entries(body.errors ?? {})) {
      if (Array.isArray(list)) for (const f of list) errorOf.set(String(f), msg);
    }
    return batch.map(({ t, bytes }, i) => {
      const f = files[i];
      if (deleted.has(f)) return outcomeOf(t.loc, 'deleted', bytes === undefined ? {} : { bytes });
      const msg = errorOf.get(f);
      if (msg && /not found/i.test(msg)) return outcomeOf(t.loc, 'missing');
      return outcomeOf(t.loc, 'failed', { reason: msg ?? 'not in the delete_many answer' });
    });
  }

  /**
   * Task folders, each whole (the server rmtrees them): the caller has checked that nothing inside
   * is referenced. A server without delete_many cannot remove a folder: refused, it stays.
   */
  async removeFolders(targets: Target<FileServerLocation>[]): Promise<FileOutcome[]> {
    const out: FileOutcome[] = [];
    for (const batch of chunks(targets, this.o.batchSize)) {
      const outcomes = await this.o.limit(() => this.deleteMany(batch.map((t) => ({ t }))));
      out.push(...(outcomes ?? batch.map((t) => outcomeOf(t.loc, 'refused', { reason: 'folder', detail: 'the file server has no delete_many' }))));
    }
    return out;
  }

  async run(targets: Target<FileServerLocation>[]): Promise<FileOutcome[]> {
    const { limit } = this.o;
    const result = new Array<FileOutcome>(targets.length);
    const batchable: Array<{ t: Target<FileServerLocation>; bytes?: number; i: number }> = [];
    const singles: number[] = [];
    targets.forEach((t, i) => {
      const last = t.loc.segments[t.loc.segments.length - 1] ?? '';
      if (looksLikeFileName(last)) batchable.push({ t, i });
      else singles.push(i);
    });
    await Promise.all(
      chunks(batchable, this.o.batchSize).map(async (batch) => {
        const outcomes = await limit(() => this.deleteMany(batch));
        if (outcomes) {
          batch.forEach((b, k) => (result[b.i] = outcomes[k]));
          return;
        }
        await Promise.all(batch.map((b) => limit(async () => (result[b.i] = await this.deleteSingle(b.t, b.bytes)))));
      }),
    );
    await Promise.all(singles.map((i) => limit(async () => (result[i] = await this.deleteSingle(targets[i])))));
    return result;
  }
}

function httpReason(res: Response<string>): string {
  const body = typeof res.body === 'string' ? res.body.trim().slice(0, 200) : '';
  return `HTTP ${res.statusCode}${body ? `: ${body}` : ''}`;
}

/** Removes whole task folders (see FileServer.removeFolders); all targets share one server base. */
export async function removeFoldersOnFileServer(targets: Target<FileServerLocation>[], o: FileServerOptions): Promise<FileOutcome[]> {
  if (targets.length === 0) return [];
  return new FileServer(o).removeFolders(targets);
}

/** All targets must share one server base. */
export async function deleteOnFileServer(targets: Target<FileServerLocation>[], o: FileServerOptions): Promise<FileOutcome[]> {
  if (targets.length === 0) return [];
  return new FileServer(o).run(targets);
}
