/**
 * Dataset lineage. A ClearML Dataset version is a task (system tag `dataset`) whose files are zip
 * chunks uploaded as its own artifacts; a child version stores only what it adds and reads the rest
 * from its parents' chunks. Deleting a parent therefore breaks every child that stays. This module
 * reads the graph of every dataset version on the server, then takes out of a pass's selection each
 * version that a version which stays still needs, directly or through other versions, and orders the
 * rest so that children are deleted before their parents.
 *
 * Where the graph comes from, per version (SDK clearml/datasets/dataset.py writes both when a version
 * is created and again when it is finalized):
 * - the configuration object `Dataset Struct`: JSON `{ "<index>": { job_id, parents: [<index>...],
 *   name, version, ... } }`, one entry per version of the graph, parents given by index;
 * - else the `state` artifact (a JSON file): `dependency_graph` `{ <id>: [<parent id>...] }` and
 *   `dependency_chunk_lookup` `{ <id>: <chunk count> }`.
 * A version with neither is "broken": it is kept, and so is every dataset version created before it
 * (any of them may be one of its parents, and nothing tells us which).
 */
import type { LimitFunction } from 'p-limit';
import type { Api, Logger } from './ports.js';
import { errorMessage } from './ports.js';
import { chunks, forEachPage } from './listing.js';
import type { Candidate, SkippedTask } from './select.js';

export const DATASET_TAG = 'dataset';
export const DATASET_STRUCT = 'Dataset Struct';
export const STATE_ARTIFACT = 'state';
/** `tasks.get_configurations` ids per call: each answer carries whole JSON graphs. */
const CONFIG_IDS_PER_CALL = 100;
/** A `state` artifact larger than this is not read (it would hold millions of file entries). */
export const MAX_STATE_BYTES = 256 * 1024 * 1024;

export interface DatasetVersion {
  id: string;
  /** the dataset's name (the task name) */
  name: string;
  version: string;
  project?: string;
  created?: number;
  archived: boolean;
  /** direct parents, when known */
  parents: string[];
  /** every other version this one reads files from (its whole graph), when known */
  needs: string[];
  /** the graph came from: 'struct' | 'state'; undefined = unreadable (broken) */
  source?: 'struct' | 'state';
  /** why the graph could not be read */
  brokenWhy?: string;
  /** files registered by link (add_external_files) that this version added, when its state was read */
  links?: string[];
  /** how many link entries the version records (runtime ds_link_count), when known */
  linkCount?: number;
}

interface DatasetRow {
  id: string;
  name?: string;
  project?: string;
  created?: string;
  system_tags?: string[];
  runtime?: Record<string, unknown>;
  hyperparams?: { properties?: { version?: { value?: string } } };
  execution?: { artifacts?: Array<{ key?: string; uri?: string; mode?: string; content_size?: number }> };
}

interface ConfigAnswer {
  configurations?: Array<{ task?: string; configuration?: Array<{ name?: string; value?: string }> }>;
}

export interface LineageDeps {
  api: Api;
  log: Logger;
  limit: LimitFunction;
  /** reads a small text file (the `state` artifact); absent = state fallback unavailable */
  readText?: (url: string, maxBytes: number) => Promise<string>;
}

export interface LineageGraph {
  versions: Map<string, DatasetVersion>;
}

export function label(v: DatasetVersion): string {
  return `${v.name} ${v.version} ${v.id}`;
}

/** Parses a `Dataset Struct` value: direct parents of `self`, and every job id in the graph. */
export function parseStruct(text: string, self: string): { parents: string[]; ids: string[]; hasSelf: boolean } {
  const doc: unknown = JSON.parse(text);
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('Dataset Struct is not a JSON object');
  const entries = doc as Record<string, { job_id?: unknown; parents?: unknown }>;
  const idOf = new Map<string, string>();
  for (const [k, e] of Object.entries(entries)) {
    if (!e || typeof e !== 'object' || typeof e.job_id !== 'string' || !e.job_id) throw new Error(`Dataset Struct entry ${k} has no job_id`);
    idOf.set(k, e.job_id);
  }
  let parents: string[] = [];
  let hasSelf = false;
  for (const e of Object.values(entries)) {
    if (e.job_id !== self) continue;
    hasSelf = true;
    if (e.parents !== undefined && !Array.isArray(e.parents)) throw new Error('Dataset Struct parents is not a list');
    parents = ((e.parents as unknown[]) ?? []).map((p) => {
      const id = idOf.get(String(p));
      if (!id) throw new Error(`Dataset Struct names parent ${String(p)} that it does not hold`);
      return id;
    });
  }
  return { parents, ids: [...new Set(idOf.values())], hasSelf };
}

/** Parses a `state` artifact: direct parents, every version it reads from, and its own link entries. */
export function parseState(text: string, self: string): { parents: string[]; ids: string[]; links: string[] } {
  const doc = JSON.parse(text) as {
    dependency_graph?: Record<string, unknown>;
    dependency_chunk_lookup?: Record<string, unknown>;
    dataset_link_entries?: Array<{ link?: string; parent_dataset_id?: string }>;
  };
  if (!doc || typeof doc !== 'object' || !doc.dependency_graph || typeof doc.dependency_graph !== 'object') {
    throw new Error('state has no dependency_graph');
  }
  const ids = new Set<string>();
  for (const [k, ps] of Object.entries(doc.dependency_graph)) {
    ids.add(k);
    if (!Array.isArray(ps)) throw new Error(`state dependency_graph[${k}] is not a list`);
    for (const p of ps) ids.add(String(p));
  }
  for (const k of Object.keys(doc.dependency_chunk_lookup ?? {})) ids.add(k);
  const own = doc.dependency_graph[self];
  const parents = Array.isArray(own) ? own.map(String) : [];
  const links = (Array.isArray(doc.dataset_link_entries) ? doc.dataset_link_entries : [])
    .filter((l) => l && typeof l.link === 'string' && (l.parent_dataset_id === undefined || l.parent_dataset_id === self))
    .map((l) => l.link!);
  return { parents, ids: [...ids], links };
}

function versionOf(r: DatasetRow): string {
  const rt = r.runtime?.version;
  if (typeof rt === 'string' && rt) return rt;
  const hp = r.hyperparams?.properties?.version?.value;
  return typeof hp === 'string' && hp ? hp : '?';
}

function stateUrl(r: DatasetRow): string | undefined {
  const a = (r.execution?.artifacts ?? []).find((x) => x?.key === STATE_ARTIFACT && typeof x.uri === 'string' && x.uri);
  return a?.uri;
}

/**
 * Every dataset version on the server (archived or not, hidden included) with its graph: one paged
 * listing, `tasks.get_configurations` per 100 versions, and a `state` download only for versions
 * without a readable `Dataset Struct` (or, when `wantLinks` holds the id, to name its link entries).
 */
export async function loadLineage(deps: LineageDeps, wantLinks: ReadonlySet<string> = new Set()): Promise<LineageGraph> {
  const { api, limit } = deps;
  const rows: DatasetRow[] = [];
  await forEachPage<DatasetRow>(
    api,
    'tasks.get_all',
    {
      system_tags: [DATASET_TAG],
      search_hidden: true,
      order_by: ['id'],
      only_fields: ['id', 'name', 'project', 'created', 'system_tags', 'runtime', 'hyperparams.properties', 'execution.artifacts'],
    },
    'tasks',
    (page) => {
      // the listing's filter is the server's: the tag is checked again here
      for (const r of page) if ((r.system_tags ?? []).includes(DATASET_TAG)) rows.push(r);
    },
  );
  const structOf = new Map<string, string>();
  await Promise.all(
    chunks(
      rows.map((r) => r.id),
      CONFIG_IDS_PER_CALL,
    ).map((ids) =>
      limit(async () => {
        const res = await api.call<ConfigAnswer>('tasks.get_configurations', { tasks: ids, names: [DATASET_STRUCT] });
        for (const c of res?.configurations ?? []) {
          const item = (c.configuration ?? []).find((x) => x?.name === DATASET_STRUCT);
          if (c.task && typeof item?.value === 'string' && item.value.trim()) structOf.set(c.task, item.value);
        }
      }),
    ),
  );

  const versions = new Map<string, DatasetVersion>();
  await Promise.all(
    rows.map(async (r) => {
      const created = r.created ? Date.parse(r.created) : NaN;
      const linkCount = Number(r.runtime?.ds_link_count);
      const v: DatasetVersion = {
        id: r.id,
        name: r.name ?? '?',
        version: versionOf(r),
        project: r.project,
        ...(Number.isFinite(created) ? { created } : {}),
        archived: (r.system_tags ?? []).includes('archived'),
        parents: [],
        needs: [],
        ...(Number.isFinite(linkCount) ? { linkCount } : {}),
      };
      versions.set(r.id, v);
      const problems: string[] = [];
      const struct = structOf.get(r.id);
      if (struct !== undefined) {
        try {
          const s = parseStruct(struct, r.id);
          v.parents = s.parents;
          v.needs = s.ids.filter((id) => id !== r.id);
          v.source = 'struct';
        } catch (err) {
          problems.push(`its ${DATASET_STRUCT} cannot be read (${errorMessage(err)})`);
        }
      } else problems.push(`no ${DATASET_STRUCT} configuration`);

      const needState = !v.source || (wantLinks.has(r.id) && (v.linkCount ?? 1) > 0);
      const url = needState ? stateUrl(r) : undefined;
      if (!needState) {
        // the graph is known
      } else if (!url) problems.push('no state artifact');
      else if (!deps.readText) problems.push('its state artifact cannot be read here');
      else {
        try {
          const st = parseState(await limit(() => deps.readText!(url, MAX_STATE_BYTES)), r.id);
          v.links = st.links;
          if (!v.source) {
            v.parents = st.parents;
            v.needs = st.ids.filter((id) => id !== r.id);
            v.source = 'state';
          }
        } catch (err) {
          problems.push(`its state artifact cannot be read (${errorMessage(err)})`);
        }
      }
      if (!v.source) v.brokenWhy = problems.join(', ');
    }),
  );
  for (const v of versions.values()) if (!v.source && !v.brokenWhy) v.brokenWhy = 'its graph cannot be read';
  return { versions };
}

export interface LineageDecision {
  /** dataset versions taken out of the deletion, with the reason */
  kept: SkippedTask[];
  /** deletable dataset versions in deletion order: layer 0 has no deletable dependant, layer 1 only dependants in layer 0... */
  layers: string[][];
  /** for a deletable version: the deletable versions that need it (deleted in an earlier layer) */
  dependants: Map<string, string[]>;
  /** link entries of deletable versions: they stay */
  keptLinks: Array<{ id: string; url?: string; count?: number }>;
  broken: number;
}

/**
 * Which deletable dataset versions must stay. Every version that is not deleted (not selected, kept
 * by another rule, not archived) keeps all it needs, and what that needs, and so on; a broken version
 * keeps every version created before it.
 */
export function decideLineage(graph: LineageGraph, deletable: ReadonlySet<string>): LineageDecision {
  const { versions } = graph;
  const kept = new Map<string, string>();
  const queue: string[] = [];
  for (const v of versions.values()) if (!deletable.has(v.id)) queue.push(v.id);

  const keep = (id: string, why: string) => {
    if (!deletable.has(id) || kept.has(id)) return;
    kept.set(id, why);
    queue.push(id);
  };

  // Direct parents first, so the reason names the nearest kept version; then the rest of each graph.
  let from = 0;
  const propagate = () => {
    for (let pass = 0; pass < 2; pass++) {
      for (let i = from; i < queue.length; i++) {
        const k = versions.get(queue[i]);
        if (!k) continue;
        for (const p of k.parents) keep(p, `parent of kept dataset version ${label(k)}`);
        if (pass === 1) for (const n of k.needs) keep(n, `in the lineage of kept dataset version ${label(k)}`);
      }
    }
    from = queue.length;
  };
  propagate();

  // A broken version stays, and so does every version created before it: any may be its parent.
  const brokenOnes = [...versions.values()].filter((b) => !b.source);
  const broken = brokenOnes.length;
  for (const b of brokenOnes) keep(b.id, `dataset version whose lineage cannot be read: ${b.brokenWhy}; kept, with every older dataset version`);
  for (const b of brokenOnes) {
    for (const v of versions.values()) {
      if (v.id === b.id || (b.created !== undefined && v.created !== undefined && v.created >= b.created)) continue;
      keep(v.id, `may be a parent of dataset version ${label(b)}, whose lineage cannot be read`);
    }
  }
  from = 0;
  propagate();

  // What is left is deleted; a version goes only after every deletable version that needs it.
  const left = [...deletable].filter((id) => versions.has(id) && !kept.has(id));
  const leftSet = new Set(left);
  const dependants = new Map<string, string[]>();
  for (const id of left) {
    const v = versions.get(id)!;
    for (const n of new Set([...v.parents, ...v.needs])) {
      if (!leftSet.has(n) || n === id) continue;
      dependants.set(n, [...(dependants.get(n) ?? []), id]);
    }
  }
  const layerOf = new Map<string, number>();
  const depth = (id: string, stack: Set<string>): number => {
    const known = layerOf.get(id);
    if (known !== undefined) return known;
    if (stack.has(id)) return 0; // a cycle (not made by the SDK): its members share a layer
    stack.add(id);
    let d = 0;
    for (const c of dependants.get(id) ?? []) d = Math.max(d, depth(c, stack) + 1);
    stack.delete(id);
    layerOf.set(id, d);
    return d;
  };
  const layers: string[][] = [];
  for (const id of left.sort()) (layers[depth(id, new Set())] ??= []).push(id);

  const keptLinks: LineageDecision['keptLinks'] = [];
  for (const id of left) {
    const v = versions.get(id)!;
    if (v.links?.length) for (const url of v.links) keptLinks.push({ id, url });
    else if (!v.links && v.linkCount) keptLinks.push({ id, count: v.linkCount });
  }

  const keptList: SkippedTask[] = [...kept].map(([id, reason]) => ({ id, name: versions.get(id)?.name, reason }));
  return { kept: keptList, layers: layers.filter(Boolean), dependants, keptLinks, broken };
}

/** The deletable candidates split into plain tasks and dataset layers, each in its own order. */
export function orderCandidates(deletable: Candidate[], decision: LineageDecision): { plain: Candidate[]; layers: Candidate[][] } {
  const byId = new Map(deletable.map((c) => [c.id, c]));
  const inLayers = new Set(decision.layers.flat());
  const keptIds = new Set(decision.kept.map((k) => k.id));
  const plain = deletable.filter((c) => !inLayers.has(c.id) && !keptIds.has(c.id));
  const layers = decision.layers.map((ids) => ids.map((id) => byId.get(id)!).filter(Boolean));
  return { plain, layers };
}

/** Files registered by link in dataset versions, for the orphan sweep: no task artifact names them. */
export interface DatasetLinks {
  has(url: string): boolean;
  /** versions whose links may exist but whose state could not be read */
  unreadable: string[];
  count: number;
}

function linkKey(url: string): string {
  try {
    return decodeURIComponent(url).replace(/\/+$/, '');
  } catch {
    return url.replace(/\/+$/, '');
  }
}

/**
 * Every link entry of every dataset version (read from `state`; only versions whose runtime does not
 * say `ds_link_count: 0` are read). A link ending in `/` covers everything below it.
 */
export async function datasetLinkUrls(deps: LineageDeps): Promise<DatasetLinks> {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  const unreadable: string[] = [];
  const rows: DatasetRow[] = [];
  await forEachPage<DatasetRow>(
    deps.api,
    'tasks.get_all',
    { system_tags: [DATASET_TAG], search_hidden: true, order_by: ['id'], only_fields: ['id', 'system_tags', 'runtime', 'execution.artifacts'] },
    'tasks',
    (page) => {
      for (const r of page) if ((r.system_tags ?? []).includes(DATASET_TAG) && Number(r.runtime?.ds_link_count ?? 1) !== 0) rows.push(r);
    },
  );
  await Promise.all(
    rows.map(async (r) => {
      const url = stateUrl(r);
      if (!url || !deps.readText) return void unreadable.push(r.id);
      try {
        const doc = JSON.parse(await deps.limit(() => deps.readText!(url, MAX_STATE_BYTES))) as { dataset_link_entries?: Array<{ link?: unknown }> };
        for (const l of Array.isArray(doc.dataset_link_entries) ? doc.dataset_link_entries : []) {
          if (typeof l?.link !== 'string' || !l.link) continue;
          if (l.link.endsWith('/')) prefixes.push(`${linkKey(l.link)}/`);
          else exact.add(linkKey(l.link));
        }
      } catch {
        unreadable.push(r.id);
      }
    }),
  );
  return {
    has: (u) => {
      const k = linkKey(u);
      return exact.has(k) || prefixes.some((p) => k.startsWith(p));
    },
    unreadable,
    count: exact.size + prefixes.length,
  };
}
