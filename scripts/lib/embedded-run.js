/**
 * What scripts/demo.js and scripts/chaos.js both do around a seeded embedded server: a scratch
 * directory, the CLEARML_* environment of a CLI run, and the checks of what is left afterwards.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh temp dir with the server's data, the cleanup's state dir and an empty HOME (no clearml.conf). */
export async function scratchDirs(prefix) {
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  const dirs = { tmp, dataDir: path.join(tmp, 'server'), stateDir: path.join(tmp, 'state'), home: path.join(tmp, 'home') };
  await fsp.mkdir(dirs.home, { recursive: true });
  return dirs;
}

/** The environment that points the CLI at the embedded server. */
export function clearmlEnv(server) {
  return {
    CLEARML_API_HOST: server.apiUrl,
    CLEARML_WEB_HOST: server.apiUrl,
    CLEARML_FILES_HOST: server.filesUrl,
    CLEARML_API_ACCESS_KEY: server.accessKey,
    CLEARML_API_SECRET_KEY: server.secretKey,
  };
}

/** id -> document, for those of `ids` still on the server (`key`: the list in the answer, e.g. 'tasks'). */
export async function remainingById(api, endpoint, key, ids, fields) {
  const out = new Map();
  for (let i = 0; i < ids.length; i += 500) {
    const res = await api.call(endpoint, { id: ids.slice(i, i + 500), only_fields: fields, page_size: 500, search_hidden: true });
    for (const r of res[key] ?? []) out.set(r.id, r);
  }
  return out;
}

/**
 * URIs of files of deleted tasks that must survive: a model used as input by a kept task, shared with a
 * kept model or published (with its task), or a file a kept task uses (input artifact).
 */
export function protectedModelUris(seeded) {
  const eligibleIds = new Set(seeded.tasks.filter((t) => t.eligible).map((t) => t.id));
  const publishedTasks = new Set(seeded.tasks.filter((t) => t.status === 'published').map((t) => t.id));
  const uris = new Set();
  for (const m of seeded.models) {
    if (!eligibleIds.has(m.taskId)) continue;
    const usedByKept = m.usedBy.some((id) => !eligibleIds.has(id));
    const sharedWithKept = seeded.models.some((o) => o.uri === m.uri && o.id !== m.id && !eligibleIds.has(o.taskId));
    // publishing a task publishes its output models: they stay (delete_published_models is off)
    const published = publishedTasks.has(m.taskId);
    if (usedByKept || sharedWithKept || published) uris.add(m.uri);
  }
  // a file of a deleted task that a kept task uses (an input artifact on a data set's file) stays too
  for (const t of seeded.tasks) if (!eligibleIds.has(t.id)) for (const u of t.externalUris ?? []) uris.add(u);
  return uris;
}

/** relative path -> size, for every file under the file server's storage root */
export async function filesOnDisk(dir) {
  const out = new Map();
  const walk = async (d) => {
    let entries;
    try {
      entries = await fsp.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.isFile()) out.set(path.relative(dir, full).split(path.sep).join('/'), (await fsp.stat(full)).size);
    }
  };
  await walk(dir);
  return out;
}
