/** What the retention rules read once per pass, never per task: project paths, and bytes from a listing row. */
import type { Api } from '../ports.js';
import { forEachPage } from '../listing.js';

/** Every project's id -> full path (a ClearML project's name is its path, "Team/Sandbox"). One paged listing. */
export async function loadProjectPaths(api: Api): Promise<Map<string, string>> {
  const paths = new Map<string, string>();
  await forEachPage<{ id: string; name?: string }>(
    api,
    'projects.get_all',
    { only_fields: ['id', 'name'], search_hidden: true, order_by: ['id'] },
    'projects',
    (rows) => {
      for (const p of rows) paths.set(p.id, p.name ?? '');
    },
  );
  return paths;
}

/** Bytes a task records for its own output artifacts (content_size), each URI counted once. */
export function artifactBytes(doc: { execution?: { artifacts?: Array<{ mode?: string; uri?: string; content_size?: number } | null> } }): number {
  const seen = new Set<string>();
  let n = 0;
  for (const a of doc.execution?.artifacts ?? []) {
    if (!a || a.mode === 'input' || typeof a.content_size !== 'number' || !(a.content_size > 0)) continue;
    const key = a.uri?.trim() ?? '';
    if (key && seen.has(key)) continue;
    if (key) seen.add(key);
    n += a.content_size;
  }
  return n;
}
