/**
 * Every storage URL the ClearML server still points to: task artifacts (any mode), models, debug
 * images and plot images, of every task (archived and hidden included) and every model. Read in
 * streaming pages of 500 tasks; only a compact index is kept: a 72-bit hash of each normalized URL
 * (-> the index of the task owning it) and one small row per task. A hash collision can only make
 * a file look referenced, i.e. kept: never the wrong way round. The hashes live in a SpillMap:
 * past a fixed number of keys they move to a temporary SQLite file, so memory stays bounded
 * whatever the server's size. Call close() when done with the index.
 */
import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import { iterateSnapshotPages } from '../api/paging.js';
import { classifyUrl, type StorageLocation } from '../storage/url.js';
import type { Api, Logger, ProgressEvent } from './ports.js';
import { silentLogger } from './ports.js';
import { collectEventUrls, newScanState } from './events.js';
import { SpillMap, type SpillMapOptions } from './spill-map.js';

/** Normalized key parts: where (head) and the path segments below it. Origins of file servers are
 * ignored on purpose: the same path under another host name is treated as the same file (kept). */
export function keyParts(loc: StorageLocation): { head: string; segments: string[] } | undefined {
  if (loc.unsafe) return undefined;
  const segs = [...loc.segments];
  while (segs.length && segs[segs.length - 1] === '') segs.pop();
  switch (loc.backend) {
    case 'fileserver':
      return { head: 'h', segments: segs };
    case 's3':
      return { head: `s3:${loc.host ?? ''}/${loc.bucket}`, segments: segs };
    case 'gs':
      return { head: `gs:${loc.bucket}`, segments: segs };
    case 'azure':
      return { head: `az:${loc.account}/${loc.container}`, segments: segs };
    case 'file':
      return { head: 'f', segments: segs };
    default:
      return undefined;
  }
}

function hashKey(head: string, segments: string[], n: number): string {
  return createHash('sha1')
    .update(head + '\0' + segments.slice(0, n).join('/'))
    .digest('base64')
    .slice(0, 12);
}

export interface TaskRowInfo {
  id: string;
  name: string;
  project: string;
  archived: boolean;
}

/** One row per task: what the report aggregates. */
export class TaskTable {
  readonly rows: TaskRowInfo[] = [];
  readonly indexOf = new Map<string, number>();
  /** bytes and files per task: listed sizes, or artifact content_size for files no root lists */
  bytes: number[] = [];
  files: number[] = [];
  /** tasks seen (also when rows are not kept) */
  count = 0;

  /** light: the orphan sweep only asks whether a file is referenced, not by whom */
  constructor(readonly light = false) {}

  add(info: TaskRowInfo): number {
    if (this.light) {
      this.count++;
      return NO_OWNER;
    }
    const known = this.indexOf.get(info.id);
    if (known !== undefined) return known;
    this.count++;
    const i = this.rows.push(info) - 1;
    this.indexOf.set(info.id, i);
    this.bytes.push(0);
    this.files.push(0);
    return i;
  }
}

/** No task owns it (a model whose task is gone, or a reference found in the recheck). */
export const NO_OWNER = -1;

export class ReferenceIndex {
  private readonly owners: SpillMap;
  readonly tasks: TaskTable;
  /** tasks whose debug or plot events could not be read: their files must not be judged */
  failedTasks: string[] = [];
  models = 0;

  constructor(readonly hints: { s3Hosts?: string[] } = {}, light = false, spill: SpillMapOptions = {}) {
    this.tasks = new TaskTable(light);
    this.owners = new SpillMap(spill);
  }

  get size(): number {
    return this.owners.size;
  }

  /** True when the URL hashes moved to disk (more than the in-memory budget). */
  get spilled(): boolean {
    return this.owners.spilled;
  }

  /** Frees the index (and deletes its temporary file, if it spilled). */
  close(): void {
    this.owners.close();
  }

  /** Adds a reference; false when the URL is not a storage URL we understand. */
  add(url: string, owner: number): boolean {
    const parts = keyParts(classifyUrl(url.trim(), this.hints));
    if (!parts || parts.segments.length === 0) return false;
    const k = hashKey(parts.head, parts.segments, parts.segments.length);
    this.owners.setIfAbsent(k, owner);
    return true;
  }

  /**
   * The owner of a listed file: the reference to the file itself, or to one of its folders (a model
   * or artifact pointing to a folder holds everything below it). undefined: nothing points to it.
   */
  ownerOf(url: string): number | undefined {
    const parts = keyParts(classifyUrl(url, this.hints));
    if (!parts) return NO_OWNER; // not understood: treat as referenced (never deleted)
    for (let n = parts.segments.length; n >= 1; n--) {
      const o = this.owners.get(hashKey(parts.head, parts.segments, n));
      if (o !== undefined) return o;
    }
    return undefined;
  }
}

export interface ReferenceOptions {
  /** S3-compatible hosts from the configuration (see classifyUrl) */
  s3Hosts?: string[];
  concurrency?: number;
  eventTasksPerCall?: number;
  /** keep no per-task rows (the orphan sweep): references only */
  light?: boolean;
  /** memory budget of the URL hashes (see SpillMap): keys in memory, temporary folder */
  spill?: SpillMapOptions;
  /** content_size of artifacts outside these roots counts towards the task's bytes (listed roots count their own sizes) */
  isListed?: (url: string) => boolean;
  log?: Logger;
  onProgress?: (e: ProgressEvent) => void;
  signal?: AbortSignal;
}

interface TaskDoc {
  id: string;
  name?: string;
  project?: string;
  system_tags?: string[];
  execution?: { artifacts?: Array<{ uri?: string; content_size?: number }> };
}

interface ModelDoc {
  id: string;
  uri?: string;
  task?: string | null;
}

const TASK_FIELDS = ['id', 'name', 'project', 'system_tags', 'execution.artifacts'];

/** Adds one page of tasks (their artifacts and events) to the index. */
export async function addTaskReferences(
  api: Api,
  index: ReferenceIndex,
  docs: TaskDoc[],
  opts: Pick<ReferenceOptions, 'eventTasksPerCall' | 'isListed'> & { limit: ReturnType<typeof pLimit> },
): Promise<void> {
  const ids: string[] = [];
  for (const d of docs) {
    const ti = index.tasks.add({
      id: d.id,
      name: d.name ?? '',
      project: d.project ?? '',
      archived: (d.system_tags ?? []).includes('archived'),
    });
    ids.push(d.id);
    for (const a of d.execution?.artifacts ?? []) {
      if (!a || typeof a.uri !== 'string' || !a.uri.trim()) continue;
      if (!index.add(a.uri, ti)) continue;
      if (opts.isListed && !opts.isListed(a.uri)) {
        index.tasks.files[ti]++;
        if (typeof a.content_size === 'number' && a.content_size > 0) index.tasks.bytes[ti] += a.content_size;
      }
    }
  }
  const state = newScanState();
  const tasksPerCall = opts.eventTasksPerCall ?? 100;
  const [debug, plots] = await Promise.all([
    collectEventUrls(api, ids, 'debug', { tasksPerCall, limit: opts.limit, state }),
    collectEventUrls(api, ids, 'plot', { tasksPerCall, limit: opts.limit, state }),
  ]);
  for (const r of [debug, plots]) {
    for (const [task, urls] of r.urls) {
      const ti = index.tasks.indexOf.get(task) ?? NO_OWNER;
      for (const u of urls) {
        if (index.add(u, ti) && ti !== NO_OWNER && opts.isListed && !opts.isListed(u)) index.tasks.files[ti]++;
      }
    }
    for (const t of r.failed.keys()) if (!index.failedTasks.includes(t)) index.failedTasks.push(t);
  }
}

/** Adds models (all of them, or those of the given filter) to the index. */
export function addModelReferences(index: ReferenceIndex, models: ModelDoc[], isListed?: (url: string) => boolean): void {
  for (const m of models) {
    index.models++;
    if (!m.uri) continue;
    const ti = m.task ? (index.tasks.indexOf.get(m.task) ?? NO_OWNER) : NO_OWNER;
    if (index.add(m.uri, ti) && ti !== NO_OWNER && isListed && !isListed(m.uri)) index.tasks.files[ti]++;
  }
}

export async function collectReferences(api: Api, opts: ReferenceOptions = {}): Promise<ReferenceIndex> {
  const index = new ReferenceIndex({ s3Hosts: opts.s3Hosts }, opts.light, opts.spill);
  const log = opts.log ?? silentLogger;
  try {
    return await fill(api, index, opts, log);
  } catch (e) {
    index.close();
    throw e;
  }
}

async function fill(api: Api, index: ReferenceIndex, opts: ReferenceOptions, log: Logger): Promise<ReferenceIndex> {
  const limit = pLimit(Math.max(1, opts.concurrency ?? 4));
  const list =
    <E>(endpoint: string, key: string) =>
    async (q: Record<string, unknown>) =>
      ((await api.call<Record<string, unknown>>(endpoint, q))?.[key] as E[] | undefined) ?? [];
  let total = 0;
  let done = 0;
  const started = Date.now();
  for await (const page of iterateSnapshotPages<TaskDoc>(
    list<TaskDoc>('tasks.get_all', 'tasks'),
    { only_fields: TASK_FIELDS, search_hidden: true, order_by: ['id'] },
    {
      onSnapshot: (n) => {
        total = n;
        opts.onProgress?.({ phase: 'references', done: 0, total: n, unit: 'tasks' });
      },
    },
  )) {
    if (opts.signal?.aborted) throw new Error('stopped while reading references');
    await addTaskReferences(api, index, page, { eventTasksPerCall: opts.eventTasksPerCall, isListed: opts.isListed, limit });
    done += page.length;
    opts.onProgress?.({ phase: 'references', done, total, unit: 'tasks' });
  }
  for await (const page of iterateSnapshotPages<ModelDoc>(list<ModelDoc>('models.get_all', 'models'), {
    only_fields: ['id', 'uri', 'task'],
    order_by: ['id'],
  })) {
    addModelReferences(index, page, opts.isListed);
  }
  log.info(
    `References: ${index.tasks.count} tasks, ${index.models} models, ${index.size} distinct storage URLs ` +
      `(${((Date.now() - started) / 1000).toFixed(1)} s)` +
      (index.failedTasks.length ? `; events of ${index.failedTasks.length} tasks could not be read` : '') +
      (index.spilled ? '; the index moved to a temporary file (memory budget)' : ''),
  );
  return index;
}
