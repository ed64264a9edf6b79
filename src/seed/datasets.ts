/**
 * Dataset versions made through the public API the way the SDK's Dataset.create / add_files /
 * add_external_files / upload / finalize leave them (clearml/datasets/dataset.py): a task with system
 * tag `dataset` and type data_processing in the hidden project `<project>/.datasets/<name>`, zip chunks
 * as artifacts `data`, `data_001`..., the `state` artifact (file entries, link entries,
 * dependency_graph, dependency_chunk_lookup), the `Dataset Struct` configuration object, and the
 * version in runtime and in the `properties` hyper-parameter section. Used by `seed` and the tests.
 */
import { escapeRegex } from './context.js';
import { fileUrl, taskFolder } from './files.js';

export interface DatasetApi {
  call<T>(endpoint: string, body?: object): Promise<T>;
}

export interface DatasetSink {
  api: DatasetApi;
  filesUrl: string;
  /** uploads one file to the file server at this path (resolved once it is stored or queued) */
  upload(path: string, body: Buffer): Promise<void>;
}

export interface DatasetVersionSpec {
  /** the user's project; the version lives in `<project>/.datasets/<name>` */
  project: string;
  name: string;
  version: string;
  parents?: BuiltDataset[];
  /** zip chunks this version uploads (0 = it only removes or links files) */
  chunks?: number;
  /** files registered by link (add_external_files): recorded in the state, never uploaded */
  links?: string[];
  /** 'completed' = finalized (default); 'in_progress' = uploaded, not finalized; 'created' = a Draft (never started) */
  status?: 'completed' | 'in_progress' | 'created';
  /** a broken graph: no Dataset Struct, and the state artifact missing ('missing') or not JSON ('garbled') */
  broken?: 'missing' | 'garbled';
}

export interface BuiltDataset {
  id: string;
  name: string;
  version: string;
  projectId: string;
  /** this version's chunk files */
  chunks: string[];
  /** its state artifact (absent when built broken with 'missing') */
  state?: string;
  /** every file it uploaded: chunks and state */
  files: string[];
  links: string[];
  /** dependency_graph as the SDK stores it: this version and every version it reads from */
  graph: Record<string, string[]>;
  /** chunk count per version of the graph */
  chunkLookup: Record<string, number>;
  /** name and version of every version in the graph, for Dataset Struct */
  meta: Record<string, { name: string; version: string }>;
  /** the state's file and link entries (inherited ones included), for children */
  fileEntries: object[];
  linkEntries: object[];
}

async function ensureProject(api: DatasetApi, name: string, systemTags: string[]): Promise<string> {
  const found = await api.call<{ projects?: Array<{ id: string; name: string }> }>('projects.get_all', {
    name: `^${escapeRegex(name)}$`,
    only_fields: ['id', 'name'],
    search_hidden: true,
  });
  const hit = found.projects?.find((p) => p.name === name);
  if (hit) return hit.id;
  try {
    return (await api.call<{ id: string }>('projects.create', { name, system_tags: systemTags, description: '' })).id;
  } catch (err) {
    // another version of the same dataset created it meanwhile (400/801)
    const again = await api.call<{ projects?: Array<{ id: string; name: string }> }>('projects.get_all', {
      name: `^${escapeRegex(name)}$`,
      only_fields: ['id', 'name'],
      search_hidden: true,
    });
    const id = again.projects?.find((p) => p.name === name)?.id;
    if (!id) throw err;
    return id;
  }
}

/** A fake zip chunk: a real zip header and the names of the files it stands for. */
function chunkBody(id: string, n: number, files: string[]): Buffer {
  return Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.from(`chunk ${n} of dataset ${id}: ${files.join(', ')}\n`)]);
}

function chunkName(i: number): string {
  return i === 0 ? 'data' : `data_${String(i).padStart(3, '0')}`;
}

/** Creates one dataset version; parents must exist (and be finalized, as the SDK requires). */
export async function createDatasetVersion(sink: DatasetSink, spec: DatasetVersionSpec): Promise<BuiltDataset> {
  const { api } = sink;
  const parents = spec.parents ?? [];
  const hidden = `${spec.project}/.datasets/${spec.name}`;
  await ensureProject(api, spec.project, []);
  await ensureProject(api, `${spec.project}/.datasets`, ['hidden']);
  const projectId = await ensureProject(api, hidden, ['hidden', 'dataset']);
  const { id } = await api.call<{ id: string }>('tasks.create', {
    name: spec.name,
    project: projectId,
    type: 'data_processing',
    system_tags: ['dataset'],
    comment: `Dataset ${spec.name} ${spec.version}`,
  });
  const status = spec.status ?? 'completed';
  // the SDK marks the task started at once; a Draft version is one never started (or reset)
  if (status !== 'created') await api.call('tasks.started', { task: id });

  const folder = taskFolder(hidden, spec.name, id);
  const nChunks = spec.chunks ?? 1;
  const artifacts: object[] = [];
  const chunks: string[] = [];
  const entries: object[] = []; // this version's own files
  const ts = Math.floor(Date.now() / 1000);
  for (let i = 0; i < nChunks; i++) {
    const names = [`part${i}/a.csv`, `part${i}/b.csv`];
    const body = chunkBody(id, i, names);
    const path = `${folder}/artifacts/${chunkName(i)}/dataset.${id}.${i}.zip`;
    await sink.upload(path, body);
    const uri = fileUrl(sink.filesUrl, path);
    chunks.push(uri);
    artifacts.push({
      key: chunkName(i), type: 'custom', mode: 'output', uri, content_size: body.length, timestamp: ts,
      type_data: { preview: names.join('\n'), content_type: 'application/zip' },
    });
    for (const n of names) entries.push({ relative_path: `${spec.version}/${n}`, hash: `${id}${i}`, parent_dataset_id: id, size: 40, artifact_name: chunkName(i) });
  }

  // The graph: every parent's graph, plus this version -> its parents (SDK Dataset.create).
  const graph: Record<string, string[]> = {};
  const chunkLookup: Record<string, number> = {};
  const meta: Record<string, { name: string; version: string }> = {};
  for (const p of parents) {
    Object.assign(graph, structuredClone(p.graph));
    Object.assign(chunkLookup, p.chunkLookup);
    Object.assign(meta, p.meta);
  }
  graph[id] = parents.map((p) => p.id);
  chunkLookup[id] = nChunks;
  meta[id] = { name: spec.name, version: spec.version };
  const links = spec.links ?? [];
  // a child's state lists its parents' entries too, each with the version that holds it
  const fileEntries = [...parents.flatMap((p) => p.fileEntries), ...entries];
  const linkEntries = [
    ...parents.flatMap((p) => p.linkEntries),
    ...links.map((link, i) => ({ relative_path: `links/${spec.version}/${i}/${link.split('/').pop()}`, link, parent_dataset_id: id, size: 100 })),
  ];
  const state = {
    file_count: fileEntries.length + linkEntries.length,
    total_size: (fileEntries.length + linkEntries.length) * 40,
    dataset_file_entries: fileEntries,
    dataset_link_entries: linkEntries,
    dependency_graph: graph,
    id,
    dirty: false,
    dependency_chunk_lookup: chunkLookup,
  };
  let stateUrl: string | undefined;
  if (spec.broken !== 'missing') {
    const body = Buffer.from(spec.broken === 'garbled' ? '{"dependency_graph": {' : JSON.stringify(state, null, 2));
    const path = `${folder}/artifacts/state/state.json`;
    await sink.upload(path, body);
    stateUrl = fileUrl(sink.filesUrl, path);
    artifacts.push({
      key: 'state', type: 'dict', mode: 'output', uri: stateUrl, content_size: body.length, timestamp: ts,
      type_data: { preview: `Dataset state\nCurrent dependency graph: ${JSON.stringify(graph)}\n`, content_type: 'application/json' },
    });
  }
  if (artifacts.length) await api.call('tasks.add_or_update_artifacts', { task: id, artifacts });

  if (!spec.broken) {
    // Dataset Struct: one entry per version of the graph, parents by index (SDK _report_dataset_struct).
    const ids = Object.keys(graph);
    const index = new Map(ids.map((v, i) => [v, String(i)]));
    const struct: Record<string, object> = {};
    for (const v of ids) {
      struct[index.get(v)!] = {
        job_id: v, status: v === id ? 'in_progress' : 'completed', last_update: ts,
        parents: graph[v].filter((p) => index.has(p)).map((p) => index.get(p)!),
        job_size: 40 * 2 * (chunkLookup[v] ?? 0), name: meta[v]?.name ?? spec.name, version: meta[v]?.version ?? null,
      };
    }
    await api.call('tasks.edit_configuration', {
      task: id,
      force: true,
      configuration: [{ name: 'Dataset Struct', value: JSON.stringify(struct, null, 2), type: 'json', description: 'Structure of the dataset' }],
    });
  }
  await api.call('tasks.edit', {
    task: id,
    force: true,
    runtime: {
      orig_dataset_name: spec.name, orig_dataset_id: id, version: spec.version,
      ds_file_count: entries.length, ds_link_count: links.length, ds_total_size: entries.length * 40,
    },
  });
  await api.call('tasks.edit_hyper_params', {
    task: id,
    force: true,
    hyperparams: [{ section: 'properties', name: 'version', value: spec.version, type: '', description: '' }],
    replace_hyperparams: 'none',
  });

  if (status === 'completed') await api.call('tasks.completed', { task: id, force: true, status_reason: 'finalized' });
  return {
    id, name: spec.name, version: spec.version, projectId, chunks, ...(stateUrl ? { state: stateUrl } : {}),
    files: [...chunks, ...(stateUrl ? [stateUrl] : [])], links, graph, chunkLookup, meta, fileEntries, linkEntries,
  };
}

/**
 * The chunk files a version needs to be rebuilt (Dataset.get_local_copy): its own and those of every
 * version in its graph.
 */
export function chunksNeeded(v: BuiltDataset, all: Map<string, BuiltDataset>): string[] {
  return Object.keys(v.graph).flatMap((id) => all.get(id)?.chunks ?? []);
}
