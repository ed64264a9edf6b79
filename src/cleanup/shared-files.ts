/**
 * Models whose file lies in the folder of one of the given tasks, however the URL is spelled (host
 * alias, `/files` proxy, https, percent-encoding): the server's `_any_` pattern filter on `uri`
 * matches the task id anywhere in it (apiserver/database/model/base.py GetMixin, `_any_`), where
 * the `uri` filter itself only matches the exact string. Used when a batch is planned and again
 * just before its files are deleted.
 */
import type { Api } from './ports.js';
import { chunks, listAll } from './listing.js';

export interface PointingModel {
  id: string;
  name?: string;
  uri?: string;
  task?: string | null;
  ready?: boolean;
}

const HEX_ID = /^[0-9a-f]{32}$/i;
/** ids per call: a regex alternation of 100 ids stays small */
const IDS_PER_CALL = 100;

export async function modelsPointingInto(api: Api, taskIds: string[]): Promise<PointingModel[]> {
  const ids = [...new Set(taskIds.filter((id) => HEX_ID.test(id)).map((id) => id.toLowerCase()))];
  const out = new Map<string, PointingModel>();
  for (const slice of chunks(ids, IDS_PER_CALL)) {
    const rows = await listAll<PointingModel>(
      api,
      'models.get_all',
      { _any_: { pattern: slice.join('|'), fields: ['uri'] }, only_fields: ['id', 'name', 'uri', 'task', 'ready'] },
      'models',
    );
    for (const m of rows) out.set(m.id, m);
  }
  return [...out.values()];
}
