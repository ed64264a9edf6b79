/**
 * Every storage URL the ClearML server still points to: task artifacts (any mode), models, debug
 * images and plot images, a Report's `report_assets` and the file URLs in its markdown, and URLs
 * held in hyperparameters and configuration objects, of every task (archived and hidden included)
 * and every model. Read in streaming pages of 500 tasks; only a compact index is kept: a 64-bit
 * hash of each normalized URL (-> the index of the task owning it) and one small row per task. A
 * hash collision can only make a file look referenced, i.e. kept: never the wrong way round.
 *
 * One index serves the orphan sweep (is anything pointing to this file?) and a pass (does anything
 * outside the deletion still point to this file of a deleted task?). Normalisation only ever merges
 * spellings, so a mistake keeps a file rather than deleting it:
 * - file servers: origin ignored (host, port, http/https), percent-encoding decoded, a leading
 *   `files` segment (the web server's `/files` proxy) or a configured base path taken off;
 * - S3: the endpoint host is ignored (`s3://minio:9000/b/k`, `s3://127.0.0.1:9000/b/k` and
 *   `s3://b/k` are one key), so aliases of one endpoint never make a bucket look orphaned;
 * - empty path segments (`a//b`, trailing `/`) dropped everywhere.
 *
 * The hashes live in a SpillMap: past a fixed number of keys they move to a temporary SQLite file,
 * so memory stays bounded whatever the server's size. Call close() when done with the index.
 */
import pLimit from 'p-limit';
import { iterateSnapshotPages } from '../api/paging.js';
import { classifyUrl, isOwnerFolderSegment, type ClassifyHints, type StorageLocation } from '../storage/url.js';
import type { Api, Logger, ProgressEvent } from './ports.js';
import { silentLogger } from './ports.js';
import { collectEventUrls, newScanState } from './events.js';
import { SpillMap, type SpillMapOptions } from './spill-map.js';

export interface KeyHints {
  /** S3-compatible hosts from the configuration (see classifyUrl) */
  s3Hosts?: string[];
  /** path prefixes a file server is also reached under (e.g. `/files` behind the web server) */
  fileServerPaths?: string[];
}

function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const prefixCache = new WeakMap<KeyHints, string[][]>();
const NO_HINTS: KeyHints = {};

/** The file-server path prefixes (as segments) taken off before keying (computed once per hints object). */
function fileServerPrefixes(hints: KeyHints = NO_HINTS): string[][] {
  let known = prefixCache.get(hints);
  if (!known) prefixCache.set(hints, (known = computePrefixes(hints)));
  return known;
}

function computePrefixes(hints: KeyHints): string[][] {
  const out: string[][] = [['files']];
  for (const p of hints?.fileServerPaths ?? []) {
    let path = p;
    if (/^[a-z]+:\/\//i.test(p)) {
      try {
        path = new URL(p).pathname;
      } catch {
        continue;
      }
    }
    const segs = path.split('/').filter((x) => x !== '').map(decoded);
    if (segs.length && !out.some((o) => o.join('/') === segs.join('/'))) out.push(segs);
  }
  return out;
}

/** Normalized key parts: where (head) and the path segments below it. */
export function keyParts(loc: StorageLocation): { head: string; segments: string[] } | undefined {
  if (loc.unsafe) return undefined;
  const segs = loc.segments.filter((s) => s !== '').map((s) => (loc.backend === 'fileserver' ? s : decoded(s)));
  switch (loc.backend) {
    case 'fileserver':
      return { head: 'h', segments: segs };
    case 's3':
      return { head: `s3:${loc.bucket}`, segments: segs };
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

/**
 * Every key a URL may be known under: its own, and for a file server the same path without a
 * proxy prefix. A reference is stored under all of them, a lookup tries all of them.
 */
export function keyVariants(url: string, hints?: KeyHints): Array<{ head: string; segments: string[] }> | undefined {
  const parts = keyParts(classifyUrl(url.trim(), hints));
  if (!parts) return undefined;
  const out = [parts];
  if (parts.head === 'h') {
    for (const pre of fileServerPrefixes(hints)) {
      if (parts.segments.length > pre.length && pre.every((s, i) => parts.segments[i] === s)) {
        out.push({ head: parts.head, segments: parts.segments.slice(pre.length) });
      }
    }
  }
  return out;
}

/** URLs written inside free text (hyperparameters, configuration, Report markdown). */
const URL_IN_TEXT = /\b(?:https?|s3|gs|azure|file):\/\/[^\s"'<>()\[\]{}`\\,]+/gi;

export function urlsInText(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(URL_IN_TEXT)) out.add(m[0].replace(/[.;:!?]+$/, ''));
  return [...out];
}

/** Lengths of the path prefixes that end in a task folder (`*.<id>`) or a Report folder (`reports/<id>`). */
function ownerFolderLengths(segments: string[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < segments.length; i++) if (isOwnerFolderSegment(segments, i)) out.push(i + 1);
  return out;
}

/**
 * The keys of every path prefix of a location: keys[n - 1] is the key of its first n segments.
 * Two 32-bit multiplicative hashes fed incrementally (so all prefixes cost one walk over the URL,
 * not one digest each: the reference index keys every file of a pass several times), finished with
 * murmur3's mixer. 64 bits: a collision can only make a file look referenced, i.e. kept.
 */
function prefixKeys(head: string, segments: string[]): string[] {
  let h1 = 0x811c9dc5;
  let h2 = 0x9e3779b9;
  const feed = (s: string) => {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 13;
    }
  };
  feed(head);
  feed('\0');
  const out = new Array<string>(segments.length);
  for (let i = 0; i < segments.length; i++) {
    if (i > 0) feed('/');
    feed(segments[i]);
    out[i] = fmix(h1 ^ Math.imul(h2, 0x85ebca6b)).toString(36) + ':' + fmix(h2 ^ Math.imul(h1, 0xc2b2ae35)).toString(36);
  }
  return out;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
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
  /** key -> model id, when one model is the key's only holder (so that model's own deletion can look past it) */
  private readonly soleModel = new Map<string, string>();
  readonly tasks: TaskTable;
  /** tasks whose debug or plot events could not be read: their files must not be judged */
  failedTasks: string[] = [];
  models = 0;

  /**
   * `folders`: also record, for every reference, each task or Report folder it lies in, so that
   * holdsBelow() can tell whether anything inside a folder is still referenced (a pass needs it
   * before removing a deleted task's folder; the sweep and the report do not).
   */
  constructor(
    readonly hints: KeyHints = {},
    light = false,
    spill: SpillMapOptions = {},
    private readonly folders = false,
  ) {
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

  /**
   * Adds a reference; false when the URL is not a storage URL we understand. `exact`: the URL was
   * found in free text (a hyperparameter, markdown), where a folder such as an output_uri must not
   * hold everything below it; only the very file is held.
   */
  add(url: string, owner: number, exact = false, model?: string): boolean {
    const variants = keyVariants(url, this.hints);
    if (!variants || variants[0].segments.length === 0) return false;
    for (const parts of variants) {
      const keys = prefixKeys(parts.head, parts.segments);
      this.put((exact ? '=' : '') + keys[keys.length - 1], owner, model);
      if (!this.folders) continue;
      for (const n of ownerFolderLengths(parts.segments)) this.put('D' + keys[n - 1], owner, model);
    }
    return true;
  }

  private put(k: string, owner: number, model?: string): void {
    if (this.owners.setIfAbsent(k, owner)) {
      if (model) this.soleModel.set(k, model);
    } else if (this.soleModel.has(k) && this.soleModel.get(k) !== model) this.soleModel.delete(k);
  }

  private held(k: string, ignoreModels?: ReadonlySet<string>): number | undefined {
    const o = this.owners.get(k);
    if (o === undefined || !ignoreModels) return o;
    const m = this.soleModel.get(k);
    return m !== undefined && ignoreModels.has(m) ? undefined : o;
  }

  /**
   * True when a reference points to the folder, above it, or to anything inside it (the index must
   * have been made with `folders`; a URL it cannot key counts as held). Models in `ignoreModels`
   * hold nothing (they are gone), as in ownerOf.
   */
  holdsBelow(folderUrl: string, ignoreModels?: ReadonlySet<string>): boolean {
    if (!this.folders) throw new Error('holdsBelow needs an index made with folder keys');
    const variants = keyVariants(folderUrl, this.hints);
    if (!variants) return true;
    return variants.some((p) => {
      if (p.segments.length === 0) return true;
      const keys = prefixKeys(p.head, p.segments);
      return this.ownerIn(keys, ignoreModels) !== undefined || this.held('D' + keys[keys.length - 1], ignoreModels) !== undefined;
    });
  }

  /** The holder of a location given its prefix keys: a reference to it exactly, or to it or a folder above it. */
  private ownerIn(keys: string[], ignoreModels?: ReadonlySet<string>): number | undefined {
    const exact = this.held('=' + keys[keys.length - 1], ignoreModels);
    if (exact !== undefined) return exact;
    for (let n = keys.length; n >= 1; n--) {
      const o = this.held(keys[n - 1], ignoreModels);
      if (o !== undefined) return o;
    }
    return undefined;
  }

  /**
   * The owner of a listed file: the reference to the file itself, or to one of its folders (a model
   * or artifact pointing to a folder holds everything below it). undefined: nothing points to it.
   */
  ownerOf(url: string, ignoreModels?: ReadonlySet<string>): number | undefined {
    const variants = keyVariants(url, this.hints);
    if (!variants) return NO_OWNER; // not understood: treat as referenced (never deleted)
    for (const parts of variants) {
      const o = parts.segments.length ? this.ownerIn(prefixKeys(parts.head, parts.segments), ignoreModels) : undefined;
      if (o !== undefined) return o;
    }
    return undefined;
  }

  /** Who holds a URL, in words (for reports): "task <id> (<name>)" or "a model". */
  describe(owner: number): string {
    const row = owner >= 0 ? this.tasks.rows[owner] : undefined;
    return row ? `task ${row.id}${row.name ? ` (${row.name})` : ''}` : 'a model or another task';
  }
}

export interface ReferenceOptions {
  /** S3-compatible hosts from the configuration (see classifyUrl) */
  s3Hosts?: string[];
  /** other paths the file server is reached under (see KeyHints) */
  fileServerPaths?: string[];
  /**
   * Tasks left out, with the models whose `task` is one of them: a pass indexes what stays, so
   * that any hit means a file of a deleted task is still needed. Their kept models are added later.
   */
  exclude?: ReadonlySet<string>;
  concurrency?: number;
  eventTasksPerCall?: number;
  /** keep no per-task rows (the orphan sweep): references only */
  light?: boolean;
  /** memory budget of the URL hashes (see SpillMap): keys in memory, temporary folder */
  spill?: SpillMapOptions;
  /** record the task folders of every reference (see ReferenceIndex.holdsBelow) */
  folderKeys?: boolean;
  /** content_size of artifacts outside these roots counts towards the task's bytes (listed roots count their own sizes) */
  isListed?: (url: string) => boolean;
  log?: Logger;
  onProgress?: (e: ProgressEvent) => void;
  signal?: AbortSignal;
}

export interface RefTaskDoc {
  id: string;
  name?: string;
  project?: string;
  system_tags?: string[];
  execution?: { artifacts?: Array<{ uri?: string; content_size?: number }> };
  /** a Report's images (web app uploads) */
  report_assets?: string[];
  /** a Report's markdown */
  report?: string;
  hyperparams?: Record<string, Record<string, { value?: unknown }>>;
  configuration?: Record<string, { value?: unknown }>;
}
type TaskDoc = RefTaskDoc;

interface ModelDoc {
  id: string;
  uri?: string;
  task?: string | null;
}

export const REF_TASK_FIELDS = ['id', 'name', 'project', 'system_tags', 'execution.artifacts', 'report_assets', 'report', 'hyperparams', 'configuration'];
const TASK_FIELDS = REF_TASK_FIELDS;

/** A `<name>.<task id>` or `reports/<id>` segment: a URL into what ClearML wrote for one task. */
const INTO_TASK_FOLDER = /(?:\.[0-9a-f]{32}|\/reports\/[0-9a-f]{32})(?:\/|%2F|$)/i;

/**
 * URLs a task holds outside its artifacts and events: Report assets and markdown, parameters,
 * configuration. A URL in free text into a task's folder holds everything below it (a data folder
 * passed as a parameter); any other one only the very file (an `output_uri` such as
 * `s3://bucket/clearml` must not hold a whole bucket).
 */
export function textReferences(d: RefTaskDoc): { held: string[]; exact: string[] } {
  const held = (d.report_assets ?? []).filter((u): u is string => typeof u === 'string' && u.trim() !== '');
  const exact = new Set<string>();
  const scan = (v: unknown) => {
    if (typeof v !== 'string' || !v.includes('://')) return;
    for (const u of urlsInText(v)) {
      if (INTO_TASK_FOLDER.test(u)) held.push(u);
      else exact.add(u);
    }
  };
  if (typeof d.report === 'string') scan(d.report);
  for (const section of Object.values(d.hyperparams ?? {})) for (const p of Object.values(section ?? {})) scan(p?.value);
  for (const c of Object.values(d.configuration ?? {})) scan(c?.value);
  return { held, exact: [...exact] };
}

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
    const text = textReferences(d);
    for (const u of text.held) index.add(u, ti);
    for (const u of text.exact) index.add(u, ti, true);
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
export function addModelReferences(
  index: ReferenceIndex,
  models: ModelDoc[],
  isListed?: (url: string) => boolean,
  exclude?: ReadonlySet<string>,
): void {
  for (const m of models) {
    if (exclude && m.task && exclude.has(m.task)) continue;
    index.models++;
    if (!m.uri) continue;
    const ti = m.task ? (index.tasks.indexOf.get(m.task) ?? NO_OWNER) : NO_OWNER;
    if (index.add(m.uri, ti, false, m.id) && ti !== NO_OWNER && isListed && !isListed(m.uri)) index.tasks.files[ti]++;
  }
}

export async function collectReferences(api: Api, opts: ReferenceOptions = {}): Promise<ReferenceIndex> {
  const index = new ReferenceIndex({ s3Hosts: opts.s3Hosts, fileServerPaths: opts.fileServerPaths }, opts.light, opts.spill, opts.folderKeys);
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
  for await (const all of iterateSnapshotPages<TaskDoc>(
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
    const page = opts.exclude ? all.filter((d) => !opts.exclude!.has(d.id)) : all;
    await addTaskReferences(api, index, page, { eventTasksPerCall: opts.eventTasksPerCall, isListed: opts.isListed, limit });
    done += all.length;
    opts.onProgress?.({ phase: 'references', done, total, unit: 'tasks' });
  }
  for await (const page of iterateSnapshotPages<ModelDoc>(list<ModelDoc>('models.get_all', 'models'), {
    only_fields: ['id', 'uri', 'task'],
    order_by: ['id'],
  })) {
    addModelReferences(index, page, opts.isListed, opts.exclude);
  }
  log.info(
    `References: ${index.tasks.count} tasks, ${index.models} models, ${index.size} distinct storage URLs ` +
      `(${((Date.now() - started) / 1000).toFixed(1)} s)` +
      (index.failedTasks.length ? `; events of ${index.failedTasks.length} tasks could not be read` : '') +
      (index.spilled ? '; the index moved to a temporary file (memory budget)' : ''),
  );
  return index;
}
