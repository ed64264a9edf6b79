/**
 * A MODEL of the request pattern of ClearML's official `cleanup_service.py` (clearml 1.x / 2.x,
 * `Task.get_task(id).delete(delete_artifacts_and_models=True, skip_models_used_by_other_tasks=True,
 * raise_on_error=False)` per task), re-implemented from its documented behaviour for the benchmark.
 * It is not the script and shares no code with it; it only sends the same requests in the same order:
 *
 * - pages: `tasks.get_all {system_tags:[archived], only_fields:[id], order_by:[-last_update],
 *   page_size:100, page:N, status_changed:["<threshold"]}`, N incremented after each page while
 *   the previous pages' tasks are being deleted (so every other page of matches is skipped), until a
 *   page comes back short;
 * - per task, strictly one after another: `tasks.get_by_id` twice (Task.get_task, then _delete),
 *   `models.get_all {task:[id]}`, `events.get_task_events` for debug images and for plots (batches
 *   of 100, stopping once 100 unique URLs are known or the scroll is done), `tasks.delete {force:true,
 *   delete_external_artifacts:true}`, then one storage request per artifact file, `models.delete
 *   {force:false}` per output model (its file only if that deleted it or the model was already gone),
 *   one storage request per debug/plot image.
 */
export interface OfficialApi {
  call<T>(endpoint: string, body?: object): Promise<T>;
  getToken(): Promise<string>;
}

export interface OfficialModelOptions {
  deleteThresholdDays: number;
  /** file server base URL: DELETE requests to it carry the API token, as the SDK's do */
  filesHost: string;
  now?: () => Date;
  /** each page as it is fetched, for a progress line */
  onPage?: (page: number, tasks: number) => void;
  /** stop after this many tasks (the bench's latency sweep times a sample: the model's cost is per task) */
  maxTasks?: number;
}

export interface OfficialModelResult {
  pages: number;
  tasksListed: number;
  tasksDeleted: number;
  tasksFailed: number;
  fileRequests: number;
  filesDeleted: number;
  filesFailed: number;
  modelsDeleted: number;
  durationMs: number;
}

const PAGE_SIZE = 100;
const MAX_EVENTS = 100;

interface ApiErrorLike {
  code?: number;
  subcode?: number;
}

/** `datetime.utcfromtimestamp(ts)` as Python prints it: naive UTC, space separator, microseconds unless 0. */
export function pythonUtcString(d: Date): string {
  const iso = d.toISOString(); // 2024-05-01T12:34:56.123Z
  const base = iso.slice(0, 19).replace('T', ' ');
  const ms = d.getUTCMilliseconds();
  return ms ? `${base}.${String(ms * 1000).padStart(6, '0')}` : base;
}

export async function runOfficialModelPass(api: OfficialApi, opts: OfficialModelOptions): Promise<OfficialModelResult> {
  const started = Date.now();
  const now = opts.now ?? (() => new Date());
  const result: OfficialModelResult = {
    pages: 0, tasksListed: 0, tasksDeleted: 0, tasksFailed: 0, fileRequests: 0, filesDeleted: 0, filesFailed: 0,
    modelsDeleted: 0, durationMs: 0,
  };
  const threshold = pythonUtcString(new Date(now().getTime() - opts.deleteThresholdDays * 86_400_000));
  const files = new FileServerDeleter(api, opts.filesHost, result);

  let page = 0;
  let tasks: Array<{ id: string }> | undefined;
  const cap = opts.maxTasks ?? Infinity;
  const handled = () => result.tasksDeleted + result.tasksFailed;
  while ((tasks === undefined || tasks.length === PAGE_SIZE) && handled() < cap) {
    const res = await api.call<{ tasks?: Array<{ id: string }> }>('tasks.get_all', {
      system_tags: ['archived'],
      only_fields: ['id'],
      order_by: ['-last_update'],
      page_size: PAGE_SIZE,
      page,
      status_changed: [`<${threshold}`],
    });
    tasks = res.tasks ?? [];
    page += 1;
    result.pages++;
    result.tasksListed += tasks.length;
    opts.onPage?.(page, tasks.length);
    for (const t of tasks) {
      if (handled() >= cap) break;
      try {
        if (await deleteTask(api, t.id, files, result)) result.tasksDeleted++;
        else result.tasksFailed++;
      } catch {
        result.tasksFailed++;
      }
    }
  }
  result.durationMs = Date.now() - started;
  return result;
}

async function getTask(api: OfficialApi, id: string): Promise<Record<string, any>> {
  const res = await api.call<{ task: Record<string, any> }>('tasks.get_by_id', { task: id });
  return res.task;
}

/** Task.get_task(id).delete(...): false when the task entity could not be deleted. */
async function deleteTask(api: OfficialApi, id: string, files: FileServerDeleter, result: OfficialModelResult): Promise<boolean> {
  await getTask(api, id); // Task.get_task
  const task = await getTask(api, id); // _delete reloads it
  if (task.status === 'published') return false;

  const models = (await api.call<{ models?: Array<{ id: string; uri?: string }> }>('models.get_all', {
    task: [id], only_fields: ['id', 'uri'],
  })).models ?? [];
  const imageUrls = await eventUrls(api, id, 'training_debug_image', (e) => (typeof e.url === 'string' ? e.url : undefined));
  const plotUrls = await eventUrls(api, id, 'plot', plotImageUrl);
  const artifacts: string[] = [];
  for (const a of task.execution?.artifacts ?? []) if (a?.mode === 'output' && a.uri) artifacts.push(String(a.uri));

  try {
    await api.call('tasks.delete', { task: id, move_to_trash: false, force: true, delete_external_artifacts: true });
  } catch {
    return false;
  }
  for (const uri of artifacts) await files.delete(uri);
  for (const m of models) {
    let deleted = false;
    try {
      const res = await api.call<{ deleted?: boolean }>('models.delete', { model: m.id, force: false });
      deleted = !!res.deleted;
    } catch (e) {
      const err = e as ApiErrorLike;
      deleted = err.code === 400 && err.subcode === 201; // already removed by tasks.delete
    }
    if (deleted) {
      result.modelsDeleted++;
      if (m.uri) await files.delete(m.uri);
    }
  }
  for (const url of [...imageUrls, ...plotUrls]) await files.delete(url);
  return true;
}

/** Unique URLs of one event type, 100 events per request, stopping at 100 unique URLs or the end of the scroll. */
async function eventUrls(
  api: OfficialApi,
  task: string,
  eventType: string,
  urlOf: (e: Record<string, any>) => string | undefined,
): Promise<string[]> {
  const urls = new Set<string>();
  let scrollId: string | undefined;
  let returned = 0;
  for (;;) {
    const res = await api.call<{ events?: Array<Record<string, any>>; returned?: number; total?: number; scroll_id?: string }>(
      'events.get_task_events',
      { task, order: 'asc', batch_size: MAX_EVENTS, event_type: eventType, model_events: false, ...(scrollId ? { scroll_id: scrollId } : {}) },
    );
    const events = res.events ?? [];
    returned += events.length;
    for (const e of events) {
      const u = urlOf(e);
      if (u) urls.add(u);
    }
    scrollId = res.scroll_id;
    if (!events.length || urls.size >= MAX_EVENTS || returned >= (res.total ?? 0) || !scrollId) break;
  }
  return [...urls];
}

function plotImageUrl(e: Record<string, any>): string | undefined {
  if (typeof e.plot_str !== 'string') return undefined;
  try {
    const plot = JSON.parse(e.plot_str);
    for (const img of plot?.layout?.images ?? []) if (img?.source) return String(img.source);
  } catch {
    // an unparsable plot has no image for the SDK either
  }
  return undefined;
}

/** One DELETE per file, sequential, success only on 200; the API token only to the file server. */
class FileServerDeleter {
  private readonly host: string;

  constructor(
    private readonly api: OfficialApi,
    filesHost: string,
    private readonly result: OfficialModelResult,
  ) {
    this.host = filesHost.replace(/\/+$/, '');
  }

  async delete(url: string): Promise<void> {
    if (!/^https?:\/\//i.test(url)) {
      this.result.filesFailed++; // object stores are out of this model's scope
      return;
    }
    const headers: Record<string, string> = {};
    if (url.startsWith(`${this.host}/`)) headers.authorization = `Bearer ${await this.api.getToken()}`;
    this.result.fileRequests++;
    try {
      const res = await fetch(url, { method: 'DELETE', headers });
      await res.arrayBuffer();
      if (res.status === 200) this.result.filesDeleted++;
      else this.result.filesFailed++;
    } catch {
      this.result.filesFailed++;
    }
  }
}
