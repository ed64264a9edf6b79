/**
 * A ClearML world for the cleanup integration tests: the embedded server (real HTTP + file server),
 * s3rver for s3:// URLs, the real API client and storage layer, and builders for tasks with files.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import pLimit from 'p-limit';
import { ClearMLClient } from '../../src/api/index.js';
import { startServer, type RunningServer, type StartServerOptions } from '../../src/server/index.js';
import { createStorage, type Storage as RealStorage, type StorageContext } from '../../src/storage/index.js';
import { BatchUploader, fileUrl } from '../../src/seed/files.js';
import type { Api, Storage } from '../../src/cleanup/index.js';

export const BUCKET = 'clearml-bkt';
export const FOREIGN_BUCKET = 'someone-elses';

export interface TaskSpec {
  name?: string;
  status?: 'created' | 'completed' | 'stopped' | 'published';
  archived?: boolean;
  ageDays?: number;
  /** files uploaded to the file server and registered as output artifacts */
  artifacts?: number;
  /** objects put in the S3 bucket and registered as output artifacts */
  s3Artifacts?: number;
  /** artifact URIs registered by URL, never uploaded (foreign data) */
  foreignArtifacts?: string[];
  debugImages?: number;
  plotImages?: number;
  /** debug images at given metric/variant/iteration (each its own file) */
  images?: Array<{ metric: string; variant: string; iter: number }>;
  /** plot events at given metric/variant/iteration, each with one image file */
  plots?: Array<{ metric: string; variant: string; iter: number }>;
  /** output models, each with its own uploaded file unless a uri is given */
  models?: Array<{ uri?: string; ready?: boolean }>;
  parent?: string;
}

export interface BuiltTask {
  id: string;
  name: string;
  /** every file URL of the task (artifacts, images, model files) */
  files: string[];
  models: Array<{ id: string; uri: string }>;
}

function storageContext(server: RunningServer, s3host: string, client: ClearMLClient): StorageContext {
  return {
    filesServer: server.filesUrl,
    storage: {
      s3: { credentials: [{ bucket: BUCKET, host: s3host, key: 'S3RVER', secret: 'S3RVER', secure: false }] },
      gcs: { credentials: [] },
      azure: { containers: [] },
    },
    getToken: () => client.getToken(),
  };
}

export class World {
  readonly limit = pLimit(8);
  private uploader?: BatchUploader;
  private seq = 0;
  private pendingEvents: object[] = [];

  private constructor(
    public server: RunningServer,
    public client: ClearMLClient,
    readonly s3rver: S3rver,
    readonly s3host: string,
    readonly s3: S3Client,
    public realStorage: RealStorage,
    readonly s3dir: string,
    readonly stateDir: string,
  ) {}

  static async start(opts: StartServerOptions = {}): Promise<World> {
    const server = await startServer({ port: 0, filesPort: 0, ...opts });
    const client = new ClearMLClient({
      api: { apiServer: server.apiUrl, accessKey: server.accessKey, secretKey: server.secretKey },
      retries: 2,
      backoffBaseMs: 50,
    });
    const s3dir = await mkdtemp(path.join(tmpdir(), 'cleanup-s3-'));
    const s3rver = new S3rver({ silent: true, directory: s3dir, port: 0, address: '127.0.0.1' });
    const addr = (await s3rver.run()) as { address: string; port: number } | [string, number];
    const port = Array.isArray(addr) ? addr[1] : addr.port;
    const s3host = `127.0.0.1:${port}`;
    const s3 = new S3Client({
      endpoint: `http://${s3host}`,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await s3.send(new CreateBucketCommand({ Bucket: FOREIGN_BUCKET }));
    const stateDir = await mkdtemp(path.join(tmpdir(), 'cleanup-state-'));
    return new World(server, client, s3rver, s3host, s3, createStorage(storageContext(server, s3host, client)), s3dir, stateDir);
  }

  /**
   * Restarts the API and file server on the same data and ports with other knobs (latency, faults),
   * so data can be built on a healthy server and cleaned on a sick one. Needs start({dataDir}).
   */
  async reopen(opts: StartServerOptions, clientRetries = 6): Promise<void> {
    const apiPort = Number(new URL(this.server.apiUrl).port);
    const filesPort = Number(new URL(this.server.filesUrl).port);
    const { dataDir, accessKey, secretKey } = this.server;
    this.realStorage.close();
    this.client.close();
    await this.server.close();
    this.server = await startServer({ port: apiPort, filesPort, dataDir, accessKey, secretKey, ...opts });
    this.client = new ClearMLClient({
      api: { apiServer: this.server.apiUrl, accessKey, secretKey },
      retries: clientRetries,
      backoffBaseMs: 20,
      backoffMaxMs: 200,
    });
    this.realStorage = createStorage(storageContext(this.server, this.s3host, this.client));
  }

  get api(): Api {
    return this.client;
  }

  get storage(): Storage {
    return {
      deleteFiles: (urls) => this.realStorage.deleteFiles(urls),
      deleteFolders: (urls) => this.realStorage.deleteFolders(urls),
      classify: (url) => {
        const c = this.realStorage.classify(url);
        return { backend: c.backend, allowed: c.allowed, reason: c.refusal?.reason };
      },
      readText: (url, maxBytes) => this.realStorage.readText(url, maxBytes),
    };
  }

  async close(): Promise<void> {
    this.realStorage.close();
    this.client.close();
    this.s3.destroy();
    await this.s3rver.close();
    await this.server.close();
    await rm(this.s3dir, { recursive: true, force: true });
    await rm(this.stateDir, { recursive: true, force: true });
  }

  call<T = any>(endpoint: string, body: object = {}): Promise<T> {
    return this.client.call<T>(endpoint, body);
  }

  s3url(bucket: string, key: string): string {
    return `s3://${this.s3host}/${bucket}/${key}`;
  }

  private upload(p: string, body: string): string {
    this.uploader ??= new BatchUploader({ filesUrl: this.server.filesUrl, getToken: () => this.client.getToken() });
    void this.uploader.add(p, Buffer.from(body), 'application/octet-stream');
    return fileUrl(this.server.filesUrl, p);
  }

  /** A file uploaded to the file server at `p` (sent by finalize()); its URL. */
  put(p: string, body = `content of ${p}`): string {
    return this.upload(p, body);
  }

  /** Debug-image events of a task pointing to the given URLs (sent by finalize()). */
  debugEvents(task: string, urls: string[]): void {
    urls.forEach((url, i) =>
      this.pendingEvents.push({ type: 'training_debug_image', task, timestamp: Date.now(), iter: i, metric: 'm', variant: 'v', key: `k${i}`, url }),
    );
  }

  /** Queues one file for the file server (stored by finalize()); returns its URL. */
  uploadFile(p: string, body: Buffer | string): string {
    return this.upload(p, typeof body === 'string' ? body : body.toString('latin1'));
  }

  /** Where the embedded file server keeps a URL's file. */
  localPath(url: string): string {
    const rel = decodeURIComponent(new URL(url).pathname).replace(/^\/+/, '');
    return path.join(this.server.dataDir, 'files', rel);
  }

  async exists(url: string): Promise<boolean> {
    if (url.startsWith('s3://')) {
      const [, , , bucket, ...key] = url.split('/');
      try {
        await this.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key.join('/') }));
        return true;
      } catch {
        return false;
      }
    }
    return existsSync(this.localPath(url));
  }

  async existing(urls: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const u of urls) if (await this.exists(u)) out.push(u);
    return out;
  }

  async putS3(bucket: string, key: string, body = 'data'): Promise<string> {
    await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    return this.s3url(bucket, key);
  }

  /** A model (not attached to a task's output list unless `task` is given). */
  async model(name: string, uri: string, task?: string, ready = false): Promise<string> {
    const { id } = await this.call<{ id: string }>('models.create', { name, uri, ready, ...(task ? { task } : {}) });
    if (task) await this.call('tasks.add_or_update_model', { task, name, model: id, type: 'output' });
    return id;
  }

  async useAsInput(task: string, model: string): Promise<void> {
    await this.call('tasks.add_or_update_model', { task, name: `input-${model.slice(0, 6)}`, model, type: 'input' });
  }

  /** Builds a task; files are uploaded and events sent by flush(); archive/backdate by finalize(). */
  async task(spec: TaskSpec = {}): Promise<BuiltTask> {
    const n = ++this.seq;
    const name = spec.name ?? `task ${n}`;
    const { id } = await this.call<{ id: string }>('tasks.create', { name, type: 'training', ...(spec.parent ? { parent: spec.parent } : {}) });
    const folder = `proj/${name}.${id}`;
    const files: string[] = [];
    const artifacts: object[] = [];
    for (let i = 0; i < (spec.artifacts ?? 0); i++) {
      const body = `artifact ${i} of ${id}`;
      const u = this.upload(`${folder}/artifacts/a${i}/data${i}.bin`, body);
      files.push(u);
      artifacts.push({ key: `a${i}`, type: 'custom', mode: 'output', uri: u, content_size: body.length });
    }
    for (let i = 0; i < (spec.s3Artifacts ?? 0); i++) {
      const u = await this.putS3(BUCKET, `${folder}/artifacts/s${i}/obj${i}.pkl`);
      files.push(u);
      artifacts.push({ key: `s${i}`, type: 'pickle', mode: 'output', uri: u });
    }
    for (const [i, u] of (spec.foreignArtifacts ?? []).entries()) artifacts.push({ key: `f${i}`, type: 'custom', mode: 'output', uri: u });
    if (artifacts.length) await this.call('tasks.add_or_update_artifacts', { task: id, artifacts });
    const models: BuiltTask['models'] = [];
    for (const [i, m] of (spec.models ?? []).entries()) {
      const uri = m.uri ?? this.upload(`${folder}/models/m${i}.pt`, `weights ${i} of ${id}`);
      if (!m.uri) files.push(uri);
      models.push({ id: await this.model(`model ${i} of ${name}`, uri, id, m.ready ?? false), uri });
    }
    for (let i = 0; i < (spec.debugImages ?? 0); i++) {
      const u = this.upload(`${folder}/metrics/loss/sample/img_${i}.png`, `png ${i}`);
      files.push(u);
      this.pendingEvents.push({ type: 'training_debug_image', task: id, timestamp: Date.now(), iter: i, metric: 'loss', variant: 'sample', key: `k${i}`, url: u });
    }
    for (let i = 0; i < (spec.plotImages ?? 0); i++) {
      const u = this.upload(`${folder}/metrics/plots/fig/plot_${i}.png`, `plot ${i}`);
      files.push(u);
      const fig = { data: [], layout: { images: [{ source: u }] } };
      this.pendingEvents.push({ type: 'plot', task: id, timestamp: Date.now(), iter: i, metric: 'plots', variant: 'fig', plot_str: JSON.stringify(fig) });
    }
    for (const [i, e] of (spec.images ?? []).entries()) {
      const u = this.upload(`${folder}/metrics/${e.metric}/${e.variant}/img_${e.iter}_${i}.png`, `png ${i}`);
      files.push(u);
      this.pendingEvents.push({ type: 'training_debug_image', task: id, timestamp: Date.now(), iter: e.iter, metric: e.metric, variant: e.variant, url: u });
    }
    for (const [i, e] of (spec.plots ?? []).entries()) {
      const u = this.upload(`${folder}/metrics/${e.metric}/${e.variant}/plot_${e.iter}_${i}.png`, `plot ${i}`);
      files.push(u);
      const fig = { data: [], layout: { images: [{ source: u }] } };
      this.pendingEvents.push({ type: 'plot', task: id, timestamp: Date.now(), iter: e.iter, metric: e.metric, variant: e.variant, plot_str: JSON.stringify(fig) });
    }
    const status = spec.status ?? 'created';
    if (status !== 'created') {
      await this.call('tasks.started', { task: id });
      await this.call(status === 'stopped' ? 'tasks.stopped' : 'tasks.completed', { task: id, force: true });
      if (status === 'published') await this.call('tasks.publish', { task: id, force: true });
    }
    this.pendingFinal.push({ id, archived: spec.archived ?? true, ageDays: spec.ageDays ?? 60 });
    return { id, name, files, models };
  }

  private pendingFinal: Array<{ id: string; archived: boolean; ageDays: number }> = [];

  /** Uploads, events, archiving and backdating of everything built so far. */
  async finalize(): Promise<void> {
    await this.uploader?.finish();
    this.uploader = undefined;
    for (let i = 0; i < this.pendingEvents.length; i += 5000) {
      await this.client.callJsonLines('events.add_batch', this.pendingEvents.slice(i, i + 5000));
    }
    this.pendingEvents = [];
    const toArchive = this.pendingFinal.filter((t) => t.archived).map((t) => t.id);
    for (let i = 0; i < toArchive.length; i += 500) await this.call('tasks.archive_many', { ids: toArchive.slice(i, i + 500) });
    const byAge = new Map<number, string[]>();
    for (const t of this.pendingFinal) if (t.ageDays > 0) byAge.set(t.ageDays, [...(byAge.get(t.ageDays) ?? []), t.id]);
    for (const [days, tasks] of byAge) await this.backdate(tasks, days);
    this.pendingFinal = [];
  }

  async backdate(tasks: string[], days: number, models: string[] = []): Promise<void> {
    const res = await fetch(`${this.server.apiUrl}/_embedded/backdate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await this.client.getToken()}` },
      body: JSON.stringify({ tasks, models, days }),
    });
    if (res.status !== 200) throw new Error(`backdate: ${res.status} ${await res.text()}`);
  }

  /** Turns tasks into built-in examples (public, no company): the server answers 403 to writes. */
  async makePublic(tasks: string[]): Promise<void> {
    const res = await fetch(`${this.server.apiUrl}/_embedded/make_public`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await this.client.getToken()}` },
      body: JSON.stringify({ tasks }),
    });
    if (res.status !== 200) throw new Error(`make_public: ${res.status} ${await res.text()}`);
  }

  async taskExists(id: string): Promise<boolean> {
    const r = await this.call<{ tasks: unknown[] }>('tasks.get_all', { id: [id], only_fields: ['id'], search_hidden: true });
    return r.tasks.length > 0;
  }

  async existingTasks(ids: string[]): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const r = await this.call<{ tasks: Array<{ id: string }> }>('tasks.get_all', {
        id: ids.slice(i, i + 500),
        only_fields: ['id'],
        search_hidden: true,
        page_size: 500,
      });
      out.push(...r.tasks.map((t) => t.id));
    }
    return out;
  }

  async modelExists(id: string): Promise<boolean> {
    const r = await this.call<{ models: unknown[] }>('models.get_all', { id: [id], only_fields: ['id'] });
    return r.models.length > 0;
  }

  async counters(): Promise<{ api: Record<string, number>; apiTotal: number; files: Record<string, number>; filesTotal: number }> {
    const res = await fetch(`${this.server.apiUrl}/_embedded/counters`);
    return (await res.json()) as never;
  }
}
