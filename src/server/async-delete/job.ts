/**
 * The embedded counterpart of clearml-server's async_delete job (apiserver/jobs/async_urls_delete.py):
 * drains the URL queue in the background, as the stock deployment does (`services.async_urls_delete.enabled`
 * is true by default).
 *
 * - file server: the URL is matched to a prefix, the path after it is sent in `POST /delete_many
 *   {files}` to our own file server with a token of the server's own (folders are removed whole there),
 *   up to 10 000 paths a request; a path in `errors` or absent from the answer is retried, a request
 *   that fails retries the whole chunk.
 * - s3 / gs / azure: this server holds no storage credentials, so, as a real server without them,
 *   each such URL fails for good ("missing configuration"); it stays in the history.
 * - retries: at most `maxRetries` (3) attempts, the next one `retryTimeoutMs` (60 s) after a failure.
 */
import http from 'node:http';
import type { QueuedUrl, UrlDeleteQueue } from './queue.js';

export interface AsyncDeleteOptions {
  /** default true, as services.async_urls_delete.enabled */
  enabled?: boolean;
  /** default 3 (max_retries) */
  maxRetries?: number;
  /** default 60 000 (retry_timeout_sec) */
  retryTimeoutMs?: number;
  /** file-server URL prefixes (url_prefixes); default: the embedded file server's URL */
  fileserverPrefixes?: string[];
}

const FILESERVER_CHUNK = 10_000;
const STORAGE_NAMES = { s3: 'AWS', gs: 'Google Storage', azure: 'Azure' } as const;

export class AsyncDeleteJob {
  readonly maxRetries: number;
  readonly retryTimeoutMs: number;
  private running?: Promise<void>;
  private again = false;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly queue: UrlDeleteQueue,
    private readonly fileserver: () => { url: string; token: () => string },
    private readonly prefixes: () => string[],
    opts: AsyncDeleteOptions,
  ) {
    this.maxRetries = opts.maxRetries ?? 3;
    this.retryTimeoutMs = opts.retryTimeoutMs ?? 60_000;
  }

  /** Runs soon (the real job polls every 10 s; we start at once, so tests need not wait). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
      if (this.again && !this.stopped) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Resolves once every entry that is due now has been tried (retries waiting for their timeout are not awaited). */
  async drain(): Promise<void> {
    this.wake();
    while (this.running) await this.running;
  }

  stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    return this.running ?? Promise.resolve();
  }

  private async loop(): Promise<void> {
    for (;;) {
      const due = this.queue.due(Date.now(), this.maxRetries, this.retryTimeoutMs);
      if (!due.length) break;
      const files = due.filter((e) => e.storage === 'fileserver');
      for (const e of due) {
        if (e.storage !== 'fileserver') {
          const name = STORAGE_NAMES[e.storage as keyof typeof STORAGE_NAMES] ?? String(e.storage);
          this.queue.markFailed(e, `Invalid ${name} url or missing ${name} configuration for account`, Date.now());
        }
      }
      if (files.length) await this.deleteFromFileserver(files);
      if (this.stopped) return;
    }
    const next = this.queue.nextRetryAt(this.maxRetries, this.retryTimeoutMs);
    if (next !== undefined && !this.stopped) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => this.wake(), Math.max(0, next - Date.now()) + 5);
      this.timer.unref();
    }
  }

  private pathOf(e: QueuedUrl): string | undefined {
    for (const prefix of this.prefixes()) {
      if (!prefix || !e.url.startsWith(prefix)) continue;
      let rest = e.url.slice(prefix.length);
      try {
        rest = decodeURIComponent(new URL(e.url).pathname).slice(decodeURIComponent(new URL(prefix).pathname).replace(/\/$/, '').length);
      } catch {
        /* a prefix that is not a URL: keep the plain remainder */
      }
      const p = rest.replace(/^\/+|\/+$/g, '');
      return p || undefined;
    }
    return undefined;
  }

  private async deleteFromFileserver(entries: QueuedUrl[]): Promise<void> {
    const now = () => Date.now();
    const withPath: Array<{ e: QueuedUrl; path: string }> = [];
    for (const e of entries) {
      const path = this.pathOf(e);
      if (!path) this.queue.markFailed(e, 'Empty path', now());
      else withPath.push({ e, path });
    }
    const { url, token } = this.fileserver();
    for (let i = 0; i < withPath.length; i += FILESERVER_CHUNK) {
      const chunk = withPath.slice(i, i + FILESERVER_CHUNK);
      let answer: { deleted?: Record<string, unknown>; errors?: Record<string, string[]> };
      try {
        answer = await postJson(`${url.replace(/\/$/, '')}/delete_many`, { files: chunk.map((c) => c.path) }, token());
      } catch (err) {
        for (const c of chunk) this.queue.markRetry(c.e, (err as Error).message, now(), this.maxRetries);
        continue;
      }
      const deleted = new Set(Object.keys(answer.deleted ?? {}));
      const failed = new Map<string, string>();
      for (const [reason, paths] of Object.entries(answer.errors ?? {})) for (const p of paths ?? []) failed.set(p, reason);
      for (const c of chunk) {
        if (failed.has(c.path)) this.queue.markRetry(c.e, failed.get(c.path)!, now(), this.maxRetries);
        else if (deleted.has(c.path)) this.queue.markDeleted(c.e);
        else this.queue.markRetry(c.e, 'Not succeeded', now(), this.maxRetries);
      }
    }
  }
}

function postJson(url: string, body: unknown, token: string): Promise<any> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), Authorization: `Bearer ${token}` },
        timeout: 300_000,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => {
          const raw = Buffer.concat(parts).toString('utf8');
          if ((res.statusCode ?? 0) >= 400) return reject(new Error(`file server answered ${res.statusCode}: ${raw.slice(0, 200)}`));
          try {
            resolve(JSON.parse(raw));
          } catch {
            reject(new Error('file server answer is not JSON'));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('file server timed out')));
    req.on('error', reject);
    req.end(text);
  });
}
