/**
 * The ClearML file server. `POST /delete_many` removes whole folders (rmtree) when a path names
 * one, so every path is first checked with HEAD: only what answers as a file goes into a batch
 * (HEAD also tells the size freed). A server without delete_many (404/405) gets one
 * `DELETE /<path>` per file, which the server refuses for folders by itself.
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

  constructor(private readonly getToken: () => Promise<string>) {}

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
      this.refreshing = this.getToken().finally(() => (this.refreshing = undefined));
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

type Probe = { kind: 'file'; bytes?: number } | { kind: 'unknown' } | { kind: 'done'; outcome: FileOutcome };

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

  private async probe(t: Target<FileServerLocation>): Promise<Probe> {
    try {
      const res = await this.send('HEAD', relativePath(this.o.base, t.loc));
      if (res.statusCode === 200) {
        const len = Number(res.headers['content-length']);
        return { kind: 'file', bytes: Number.isFinite(len) ? len : undefined };
      }
      // The real server answers 404 for a folder as well; either way nothing is to be deleted.
      if (res.statusCode === 404) return { kind: 'done', outcome: outcomeOf(t.loc, 'missing', { detail: 'not found, or not a file' }) };
      if (res.statusCode === 405 || res.statusCode === 501) return { kind: 'unknown' };
      return { kind: 'done', outcome: outcomeOf(t.loc, 'failed', { reason: httpReason(res) }) };
    } catch (err) {
      return { kind: 'done', outcome: outcomeOf(t.loc, 'failed', { reason: errorText(err) }) };
    }
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

  async run(targets: Target<FileServerLocation>[]): Promise<FileOutcome[]> {
    const { limit } = this.o;
    const probes = await Promise.all(targets.map((t) => limit(() => this.probe(t))));
    const result = new Array<FileOutcome>(targets.length);
    const batchable: Array<{ t: Target<FileServerLocation>; bytes?: number; i: number }> = [];
    const singles: number[] = [];
    probes.forEach((p, i) => {
      if (p.kind === 'done') result[i] = p.outcome;
      else if (p.kind === 'file') batchable.push({ t: targets[i], bytes: p.bytes, i });
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

/** All targets must share one server base. */
export async function deleteOnFileServer(targets: Target<FileServerLocation>[], o: FileServerOptions): Promise<FileOutcome[]> {
  if (targets.length === 0) return [];
  return new FileServer(o).run(targets);
}
