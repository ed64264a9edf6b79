/**
 * Paths and URLs the way the SDK lays them out on the ClearML file server, and an uploader that
 * packs many files into each multipart `POST /` (the file server stores every part under its field
 * name), so seeding tens of thousands of files takes a few hundred requests, not tens of thousands.
 */
import { randomBytes } from 'node:crypto';
import { RequestQueue } from './request-queue.js';

/** `<project>/<task name>.<task id>` : the folder of one task's files */
export function taskFolder(projectName: string, taskName: string, taskId: string): string {
  return `${projectName}/${taskName}.${taskId}`;
}

/** the registered URI: files host plus the percent-encoded path */
export function fileUrl(filesUrl: string, path: string): string {
  return `${filesUrl.replace(/\/+$/, '')}/${path.split('/').map(encodeURIComponent).join('/')}`;
}

export interface UploaderOptions {
  filesUrl: string;
  getToken(): Promise<string>;
  filesPerRequest?: number;
  /** flush a request once its parts reach this many bytes, default 8 MiB */
  bytesPerRequest?: number;
  concurrency?: number;
  onFlush?: (files: number) => void;
}

interface Part {
  path: string;
  body: Buffer;
  contentType: string;
}

export class BatchUploader {
  files = 0;
  bytes = 0;
  requests = 0;
  private batch: Part[] = [];
  private batchBytes = 0;
  private readonly queue: RequestQueue;
  private readonly filesPerRequest: number;
  private readonly bytesPerRequest: number;
  private readonly url: string;

  constructor(private readonly opts: UploaderOptions) {
    this.queue = new RequestQueue(opts.concurrency ?? 4);
    this.filesPerRequest = opts.filesPerRequest ?? 250;
    this.bytesPerRequest = opts.bytesPerRequest ?? 8 * 1024 * 1024;
    this.url = `${opts.filesUrl.replace(/\/+$/, '')}/`;
  }

  /** Queues one file; resolves once there is room for more (back-pressure on large seeds). */
  async add(path: string, body: Buffer, contentType: string): Promise<void> {
    this.queue.check();
    this.batch.push({ path, body, contentType });
    this.batchBytes += body.length;
    if (this.batch.length >= this.filesPerRequest || this.batchBytes >= this.bytesPerRequest) this.flush();
    await this.queue.waitForRoom();
    this.queue.check();
  }

  /** Sends what is queued and waits for every request; throws the first upload error. */
  async finish(): Promise<void> {
    this.flush();
    await this.queue.drain();
  }

  private flush(): void {
    if (!this.batch.length) return;
    const parts = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    this.queue.push(() => this.send(parts));
  }

  private async send(parts: Part[]): Promise<void> {
    const boundary = `----clearml-seed-${randomBytes(12).toString('hex')}`;
    const chunks: Buffer[] = [];
    for (const part of parts) {
      // Like the SDK: field name and file name are the object path with a leading "/".
      const name = `/${part.path}`.replace(/"/g, '%22');
      chunks.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${name}"\r\n` +
            `Content-Type: ${part.contentType}\r\n\r\n`,
        ),
        part.body,
        Buffer.from('\r\n'),
      );
    }
    chunks.push(Buffer.from(`--${boundary}--\r\n`));
    const body = Buffer.concat(chunks);
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const res = await fetch(this.url, {
          method: 'POST',
          body,
          headers: {
            authorization: `Bearer ${await this.opts.getToken()}`,
            'content-type': `multipart/form-data; boundary=${boundary}`,
          },
        });
        const text = await res.text();
        if (res.status === 200) {
          this.requests++;
          this.files += parts.length;
          this.bytes += parts.reduce((s, p) => s + p.body.length, 0);
          this.opts.onFlush?.(parts.length);
          return;
        }
        lastError = new Error(`file server upload to ${this.url} answered HTTP ${res.status}: ${text.slice(0, 200)}`);
        if (res.status < 500) break;
      } catch (e) {
        lastError = new Error(`file server upload to ${this.url} failed: ${(e as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
    throw lastError!;
  }
}
