import type { Service } from '../api/service.js';
import type { EmbeddedState } from '../state.js';
import { bool, stringList } from './common.js';

/**
 * organization.get_tags: every tag used on the company's tasks and models (the web app's tag
 * filters and tag pickers), optionally with system tags, limited to entities that match `filter`
 * ({tags: [...], system_tags: [...]}, "-x" meaning "not x"). From apiserver/bll/organization.
 */
export function createOrganizationService(state: EmbeddedState): Service {
  return {
    get_tags: (req) => {
      const filter = (req.body.filter ?? {}) as Record<string, unknown>;
      const tags = new Set<string>();
      const systemTags = new Set<string>();
      const docs = [...state.stores.tasks.values(), ...state.stores.models.values()] as Array<{ tags?: string[]; system_tags?: string[] }>;
      for (const d of docs) {
        if (!passes(d, filter)) continue;
        for (const t of d.tags ?? []) tags.add(t);
        if (bool(req.body.include_system)) for (const t of d.system_tags ?? []) systemTags.add(t);
      }
      return { tags: [...tags].sort(), system_tags: [...systemTags].sort() };
    },
  };
}

function passes(doc: { tags?: string[]; system_tags?: string[] }, filter: Record<string, unknown>): boolean {
  for (const field of ['tags', 'system_tags'] as const) {
    const want = stringList(filter[field]).filter((v) => !v.startsWith('__$'));
    if (!want.length) continue;
    const have = new Set(doc[field] ?? []);
    if (want.some((v) => v.startsWith('-') && have.has(v.slice(1)))) return false;
    const plain = want.filter((v) => !v.startsWith('-'));
    if (plain.length && !plain.some((v) => have.has(v))) return false;
  }
  return true;
}
