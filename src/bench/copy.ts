/**
 * One copy of the benchmark data set: its own embedded server (API + file server, own data dir),
 * seeded at 0 ms latency, then measured: counters, tasks left, files left.
 *
 * Seeding through the API is slow (minutes at 2,000 tasks), and the bench needs a fresh copy for
 * each of its runs (two sides, three latencies). So the data set is seeded once into a template,
 * whose server is then closed, and each run gets a copy of the template's data directory, served on
 * the template's own ports: the seeded file URLs name the file server's port.
 */
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { ClearMLClient } from '../api/index.js';
import { seedServer, type SeedPhase, type SeedResult } from '../seed/index.js';
import { startServer, type RunningServer } from '../server/index.js';
import type { ServerCounters } from '../types/clearml.js';

export interface CopyParams {
  tasks: number;
  artifacts: number;
  models: number;
  debugImages: number;
  seed: number;
  thresholdDays: number;
}

export class BenchCopy {
  private constructor(
    readonly label: string,
    readonly server: RunningServer,
    readonly client: ClearMLClient,
    readonly dir: string,
    public seeded?: SeedResult,
  ) {}

  static async start(label: string, dir: string, ports: { api: number; files: number } = { api: 0, files: 0 }): Promise<BenchCopy> {
    await fsp.mkdir(dir, { recursive: true });
    // The server's own deleter stays off: the bench measures what each client deletes itself (the
    // official script asks the server to delete too, which on a stock server would race its requests).
    const server = await startServer({ port: ports.api, filesPort: ports.files, dataDir: path.join(dir, 'server'), latencyMs: 0, asyncDelete: { enabled: false } });
    const client = new ClearMLClient({ api: { apiServer: server.apiUrl, accessKey: server.accessKey, secretKey: server.secretKey } });
    return new BenchCopy(label, server, client, dir);
  }

  /** A copy of a closed template's data, on the template's ports (one copy runs at a time). */
  static async cloneOf(template: BenchCopy, label: string, dir: string): Promise<BenchCopy> {
    await fsp.mkdir(dir, { recursive: true });
    await fsp.cp(path.join(template.dir, 'server'), path.join(dir, 'server'), { recursive: true });
    const copy = await BenchCopy.start(label, dir, template.ports());
    copy.seeded = template.seeded;
    return copy;
  }

  ports(): { api: number; files: number } {
    return { api: Number(new URL(this.server.apiUrl).port), files: Number(new URL(this.server.filesUrl).port) };
  }

  /** The uniform data set: every task archived, completed (so status_changed is set) and old enough. */
  async seed(p: CopyParams, onProgress?: (phase: SeedPhase, done: number, total: number) => void): Promise<SeedResult> {
    this.seeded = await seedServer(
      this.client,
      { apiUrl: this.server.apiUrl, filesUrl: this.server.filesUrl },
      {
        tasks: p.tasks, seed: p.seed, thresholdDays: p.thresholdDays, allEligible: true, uniformStatus: 'completed',
        artifactsPerTask: p.artifacts, modelsPerTask: p.models, debugImagesPerTask: p.debugImages,
        plotsPerTask: 0, logLinesPerTask: 0, onProgress,
      },
    );
    return this.seeded;
  }

  /** Environment that points a ClearML client (ours, or the official model) at this copy. */
  clientEnv(): Record<string, string> {
    return {
      CLEARML_API_HOST: this.server.apiUrl,
      CLEARML_WEB_HOST: this.server.apiUrl,
      CLEARML_FILES_HOST: this.server.filesUrl,
      CLEARML_API_ACCESS_KEY: this.server.accessKey,
      CLEARML_API_SECRET_KEY: this.server.secretKey,
    };
  }

  async setLatency(ms: number): Promise<void> {
    await this.embedded('latency', { ms });
  }

  async resetCounters(): Promise<void> {
    await this.embedded('counters/reset', {});
  }

  async counters(): Promise<ServerCounters> {
    const res = await fetch(`${this.server.apiUrl}/_embedded/counters`);
    return (await res.json()) as ServerCounters;
  }

  /** How many of the given tasks still exist (hidden ones included). */
  async tasksLeft(ids: string[]): Promise<number> {
    let left = 0;
    for (let i = 0; i < ids.length; i += 500) {
      const res = await this.client.call<{ tasks?: unknown[] }>('tasks.get_all', {
        id: ids.slice(i, i + 500), only_fields: ['id'], page_size: 500, search_hidden: true,
      });
      left += res.tasks?.length ?? 0;
    }
    return left;
  }

  /** Seeded files of this copy still on the file server's disk. */
  filesLeft(): number {
    const root = path.join(this.server.dataDir, 'files');
    let left = 0;
    for (const f of this.seeded?.files ?? []) if (existsSync(path.join(root, f.path))) left++;
    return left;
  }

  async close(): Promise<void> {
    this.client.close();
    await this.server.close();
  }

  private async embedded(route: string, body: object): Promise<void> {
    const res = await fetch(`${this.server.apiUrl}/_embedded/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(`/_embedded/${route} answered ${res.status}: ${await res.text()}`);
  }
}
