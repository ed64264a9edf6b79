/**
 * Dataset families in the seeded mix: versions built on parents, some archived and old, some with
 * files registered by link. Four shapes in turn, so even a small seed has the one that matters most
 * (an archived parent whose child is in use: a correct cleanup keeps the parent):
 *   0. archived parent, live child (with a link entry)     -> the parent is kept for the child
 *   1. archived grandparent, parent and child              -> the whole family goes
 *   2. archived grandparent and parent, live grandchild    -> both kept
 *   3. live parent, archived child (with a link entry)     -> the child goes alone
 * Every version is finalized (status completed): a cleanup deletes them only with force_delete.
 */
import type { Ctx } from './context.js';
import { createDatasetVersion, type BuiltDataset, type DatasetSink } from './datasets.js';
import type { SeededDataset } from './types.js';

const PROJECT = 'Data Platform';
const NAMES = ['street-scenes', 'support-tickets', 'sensor-logs', 'product-photos', 'speech-clips', 'clinical-notes'];
const LINK_HOST = 'https://datasets.example.com/raw';

interface Member {
  built: BuiltDataset;
  archived: boolean;
  ageDays: number;
}

/** Builds `families` dataset families; returns them with what a correct pass (force_delete) does to each. */
export async function seedDatasetFamilies(ctx: Ctx, families: number, thresholdDays: number): Promise<{ versions: SeededDataset[]; members: Member[] }> {
  const bytesOf = new Map<string, number>();
  const sink: DatasetSink = {
    api: ctx.api,
    filesUrl: ctx.hosts.filesUrl,
    upload: async (path, body) => {
      bytesOf.set(path, body.length);
      await ctx.uploader.add(path, body, path.endsWith('.json') ? 'application/json' : 'application/zip');
    },
  };
  const members: Member[] = [];
  const old = () => thresholdDays + 10 + ctx.rng.int(0, 300);
  for (let k = 0; k < families; k++) {
    const name = `${NAMES[k % NAMES.length]}${k >= NAMES.length ? `-${Math.floor(k / NAMES.length) + 1}` : ''}`;
    const chunks = () => ctx.rng.int(1, 3);
    const v = (version: string, parents: BuiltDataset[], links: string[] = []) =>
      createDatasetVersion(sink, { project: PROJECT, name, version, parents, chunks: chunks(), links });
    const link = `${LINK_HOST}/${name}/extra-${k}.tar`;
    const shape = k % 4;
    if (shape === 0) {
      const p = await v('1.0.0', []);
      const c = await v('1.1.0', [p], [link]);
      members.push({ built: p, archived: true, ageDays: old() }, { built: c, archived: false, ageDays: old() });
    } else if (shape === 1) {
      const g = await v('1.0.0', []);
      const p = await v('1.1.0', [g]);
      const c = await v('1.2.0', [p]);
      for (const b of [g, p, c]) members.push({ built: b, archived: true, ageDays: old() });
    } else if (shape === 2) {
      const g = await v('1.0.0', []);
      const p = await v('2.0.0', [g]);
      const c = await v('2.1.0', [p], [link]);
      members.push({ built: g, archived: true, ageDays: old() }, { built: p, archived: true, ageDays: old() }, { built: c, archived: false, ageDays: 3 });
    } else {
      const p = await v('1.0.0', []);
      const c = await v('1.0.1', [p], [link]);
      members.push({ built: p, archived: false, ageDays: old() }, { built: c, archived: true, ageDays: old() });
    }
    ctx.progress('datasets', k + 1, families);
  }

  // What a correct pass does: a version goes when it is archived and old and no version that stays reads from it.
  const eligible = new Set(members.filter((m) => m.archived && m.ageDays > thresholdDays).map((m) => m.built.id));
  const keptFor = new Map<string, BuiltDataset>();
  let changed = true;
  while (changed) {
    changed = false;
    for (const m of members) {
      if (eligible.has(m.built.id) && !keptFor.has(m.built.id)) continue;
      for (const parent of m.built.graph[m.built.id] ?? []) {
        if (!eligible.has(parent) || keptFor.has(parent)) continue;
        keptFor.set(parent, m.built);
        changed = true;
      }
    }
  }
  const versions: SeededDataset[] = members.map((m) => {
    const b = m.built;
    for (const url of b.files) {
      const path = decodeURIComponent(new URL(url).pathname).replace(/^\/+/, '');
      ctx.files.push({ url, path, bytes: bytesOf.get(path) ?? 0, kind: 'dataset', taskId: b.id });
    }
    const child = keptFor.get(b.id);
    return {
      id: b.id, name: b.name, version: b.version, parents: b.graph[b.id] ?? [], archived: m.archived, ageDays: m.ageDays,
      eligible: eligible.has(b.id), deletable: eligible.has(b.id) && !child,
      ...(child ? { keptFor: `${child.name} ${child.version} ${child.id}` } : {}),
      files: b.files, links: b.links,
    };
  });
  return { versions, members };
}
