/**
 * What a clearml-server of a given API version offers that we use, and the request fields its
 * release does not know yet. The version comes from the auth.login token's `api_version` claim, as
 * the SDK reads it. Facts (read in github.com/clearml/clearml-server; API 2.13 = server 1.0,
 * 2.17 = 1.4, 2.20 = 1.6, 2.21 = 1.7, 2.25 = 1.11, 2.31 = 1.17, 2.34 = 2.3):
 * - events.plots (multi-task plot listing): API 2.20 (apiserver/schema/services/events.conf);
 *   events.debug_images takes the multi-task form from 2.7; events.get_multi_task_metrics from 2.28.
 * - delete_external_artifacts: tasks.delete/delete_many/reset from 2.21 (apiserver/apimodels/tasks.py),
 *   models.delete/delete_many from 2.25 (apiserver/apimodels/models.py). Default true: the server then
 *   deletes files itself. Before those versions the field does not exist and the server deletes no file.
 * - tasks.get_all `last_change` date filter: 2.31 (datetime_fields of apiserver/database/model/task/task.py);
 *   before, the key is ignored and the listing is not narrowed by it.
 * - `search_hidden` on get_all: 2.17; before, nothing is hidden.
 * A field a server does not know is dropped by it without an error (its request models ignore extra
 * keys), so leaving such a field out changes nothing on that server; we leave it out to say on the
 * wire only what that server understands.
 */

/** The oldest API we support: clearml-server 1.0, the first with tasks.delete_many. */
export const MIN_SUPPORTED_API = '2.13';
/** The newest we know: clearml-server 2.3. */
export const MAX_KNOWN_API = '2.34';

export function parseApiVersion(v: unknown): [number, number] | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^v?(\d+)\.(\d+)$/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** a >= b; an unknown a counts as new enough (we then send what a new server needs). */
export function apiAtLeast(a: string | undefined, b: string): boolean {
  const x = parseApiVersion(a);
  const y = parseApiVersion(b)!;
  if (!x) return true;
  return x[0] !== y[0] ? x[0] > y[0] : x[1] >= y[1];
}

export function lowerApi(a: string, b: string): string {
  return apiAtLeast(a, b) ? b : a;
}

/** What the cleanup may rely on, for a server version (undefined: not known, assume the newest). */
export interface ServerFeatures {
  apiVersion?: string;
  multiTaskPlots: boolean;
  multiTaskDebugImages: boolean;
  /** events.get_multi_task_metrics (metrics with their variants over many tasks): API 2.28 */
  multiTaskMetrics: boolean;
  lastChangeFilter: boolean;
}

export function featuresOf(apiVersion: string | undefined): ServerFeatures {
  return {
    apiVersion,
    multiTaskPlots: apiAtLeast(apiVersion, '2.20'),
    multiTaskDebugImages: apiAtLeast(apiVersion, '2.7'),
    multiTaskMetrics: apiAtLeast(apiVersion, '2.28'),
    lastChangeFilter: apiAtLeast(apiVersion, '2.31'),
  };
}

/** endpoint -> field -> first API version that knows it (only fields we may send to older servers) */
const FIELD_SINCE: Record<string, Record<string, string>> = {
  'tasks.delete': { delete_external_artifacts: '2.21' },
  'tasks.delete_many': { delete_external_artifacts: '2.21' },
  'tasks.reset': { delete_external_artifacts: '2.21' },
  'tasks.reset_many': { delete_external_artifacts: '2.21' },
  'models.delete': { delete_external_artifacts: '2.25' },
  'models.delete_many': { delete_external_artifacts: '2.25' },
  'projects.delete': { delete_external_artifacts: '2.26' },
  'tasks.get_all': { search_hidden: '2.17' },
  'models.get_all': { search_hidden: '2.17' },
  'projects.get_all': { search_hidden: '2.17' },
  'tasks.enqueue': { verify_watched_queue: '2.22' },
  // server 1.0 and 1.1 always count the total and have no per-metric selection here
  'events.get_task_events': { count_total: '2.16', metrics: '2.16', model_events: '2.22' },
  'tasks.completed': { publish: '2.20' },
};

/** The body without the fields this server's release does not know (the same body when it knows them all). */
export function bodyForServer(endpoint: string, body: object, apiVersion: string | undefined): object {
  const since = FIELD_SINCE[endpoint];
  if (!since || !apiVersion) return body;
  let out: Record<string, unknown> | undefined;
  for (const [field, v] of Object.entries(since)) {
    if (field in body && !apiAtLeast(apiVersion, v)) {
      out ??= { ...(body as Record<string, unknown>) };
      delete out[field];
    }
  }
  return out ?? body;
}

/** Why a server is too old to delete on (one line), or undefined when it is supported or not known. */
export function unsupportedServer(apiVersion: string | undefined): string | undefined {
  if (!apiVersion || apiAtLeast(apiVersion, MIN_SUPPORTED_API)) return undefined;
  return (
    `the ClearML server's API is ${apiVersion}, older than ${MIN_SUPPORTED_API} (clearml-server 1.0, the first with ` +
    'tasks.delete_many): not supported, nothing was deleted'
  );
}
