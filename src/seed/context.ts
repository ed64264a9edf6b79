/** What every seeding step shares: the API, the uploaders, the records of what was made, and small helpers. */
import { contentKindOf, type ContentFactory } from './content.js';
import type { EventBatcher } from './events.js';
import { fileUrl, type BatchUploader } from './files.js';
import type { Prng } from './prng.js';
import type { S3Seeder } from './s3.js';
import type {
  SeedApi, SeededFile, SeededFileKind, SeededModel, SeededTask, SeedHosts, SeedOptions, SeedPhase,
} from './types.js';

export interface Ctx {
  api: SeedApi;
  hosts: SeedHosts;
  opts: SeedOptions;
  rng: Prng;
  content: ContentFactory;
  uploader: BatchUploader;
  events: EventBatcher;
  s3?: S3Seeder;
  projectIds: Map<string, string>;
  tasks: SeededTask[];
  models: SeededModel[];
  files: SeededFile[];
  counters: { artifacts: number; foreign: number; input: number; s3: number; debugImages: number; debugImageEvents: number; plots: number; logs: number };
  datasetUris: string[];
  progress(phase: SeedPhase, done: number, total: number): void;
  warn(msg: string): void;
  warnings: string[];
}

export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export async function ensureProject(api: SeedApi, name: string): Promise<string> {
  const found = await api.call<{ projects?: Array<{ id: string; name: string }> }>('projects.get_all', {
    name: `^${escapeRegex(name)}$`, only_fields: ['id', 'name'], search_hidden: true,
  });
  const hit = found.projects?.find((p) => p.name === name);
  if (hit) return hit.id;
  const created = await api.call<{ id: string }>('projects.create', { name, description: 'Seeded by clearml-cleanup seed' });
  return created.id;
}

export async function ensureQueue(api: SeedApi, name: string): Promise<string> {
  const found = await api.call<{ queues?: Array<{ id: string; name: string }> }>('queues.get_all', {
    name: `^${escapeRegex(name)}$`, only_fields: ['id', 'name'],
  });
  const hit = found.queues?.find((q) => q.name === name);
  if (hit) return hit.id;
  return (await api.call<{ id: string }>('queues.create', { name })).id;
}

export function record(ctx: Ctx, taskId: string, path: string, kind: SeededFileKind, bytes: number): string {
  const url = fileUrl(ctx.hosts.filesUrl, path);
  ctx.files.push({ url, path, bytes, kind, taskId });
  return url;
}

export async function upload(ctx: Ctx, taskId: string, path: string, kind: SeededFileKind, file: string, contentType: string) {
  const { body, hash } = ctx.content.make(kind === 'model' ? 'model' : contentKindOf(file), path);
  await ctx.uploader.add(path, body, contentType);
  return { url: record(ctx, taskId, path, kind, body.length), size: body.length, hash };
}

export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}
