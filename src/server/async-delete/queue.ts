/**
 * The real server's queue of URLs to delete (the `url_to_delete` collection), as filled by
 * schedule_for_delete in apiserver/bll/task/task_cleanup.py and drained by the async_delete job.
 *
 * Rules copied in behaviour (our own code):
 * - a URL is queued only for a known storage: `s3://`, `gs://`, `azure://`, or a file-server URL
 *   prefix (the stock docker-compose sets `services.async_urls_delete.fileserver.url_prefixes` to
 *   the files host; here: our own file server's URL). Anything else (file://, a foreign http host)
 *   is dropped silently by the real server; we keep it in the history as `not_queued` so a test can
 *   see that a deleting call collected it at all.
 * - with `canDeleteFolders` (projects.delete) a file-server URL is replaced by its parent folder,
 *   which the file server then removes whole.
 * - a URL queued again resets its retries (the real one updates the existing document).
 *
 * `history` keeps every URL ever scheduled, in order, whatever became of it, so a test can assert
 * that a pass queued nothing (the real queue forgets deleted entries).
 */

export type StorageType = 'fileserver' | 's3' | 'gs' | 'azure';
export type DeletionStatus = 'created' | 'deleted' | 'failed' | 'not_queued';

export interface QueuedUrl {
  /** what is deleted: the URL, or its folder for projects.delete on the file server */
  url: string;
  /** the URL the deleting call collected */
  source: string;
  /** the entity the call deleted (task, model or project id) */
  entity: string;
  /** e.g. "models.delete_many" */
  endpoint: string;
  storage: StorageType | null;
  type: 'file' | 'folder';
  status: DeletionStatus;
  retryCount: number;
  lastFailureReason?: string;
  /** ms since epoch of the last failure (retries wait `retryTimeoutMs` after it) */
  lastFailureAt?: number;
  queuedAt: string;
}

export interface ScheduleRequest {
  urls: Iterable<string>;
  entity: string;
  endpoint: string;
  canDeleteFolders: boolean;
}

export class UrlDeleteQueue {
  /** every scheduled URL, in order (history; entries are shared with `pending`) */
  readonly history: QueuedUrl[] = [];
  /** url -> live queue entry (created or failed; deleted entries leave) */
  private readonly live = new Map<string, QueuedUrl>();
  private listener?: () => void;

  constructor(private readonly fileserverPrefixes: () => string[]) {}

  /** Called after each schedule that queued something (the job wakes up). */
  onQueued(fn: () => void): void {
    this.listener = fn;
  }

  storageOf(url: string): StorageType | null {
    if (url.startsWith('s3://')) return 's3';
    if (url.startsWith('azure://')) return 'azure';
    if (url.startsWith('gs://')) return 'gs';
    if (this.fileserverPrefixes().some((p) => p && url.startsWith(p))) return 'fileserver';
    return null;
  }

  schedule(req: ScheduleRequest): number {
    const now = new Date().toISOString();
    const done = new Set<string>();
    let queued = 0;
    for (const source of new Set(req.urls)) {
      if (!source) continue;
      const storage = this.storageOf(source);
      if (!storage) {
        this.history.push({ url: source, source, entity: req.entity, endpoint: req.endpoint, storage: null, type: 'file', status: 'not_queued', retryCount: 0, queuedAt: now });
        continue;
      }
      const folder = storage === 'fileserver' && req.canDeleteFolders ? parentFolder(source) : undefined;
      const target = folder ?? source;
      if (done.has(target)) continue;
      done.add(target);
      const entry: QueuedUrl = {
        url: target,
        source,
        entity: req.entity,
        endpoint: req.endpoint,
        storage,
        type: folder ? 'folder' : 'file',
        status: 'created',
        retryCount: 0,
        queuedAt: now,
      };
      this.history.push(entry);
      // queued again: the existing document starts over (fresh retries, no failure)
      this.live.set(target, entry);
      queued++;
    }
    if (queued) this.listener?.();
    return queued;
  }

  /** Entries the job may try now: not failed for good, under the retry limit, past the retry wait. */
  due(nowMs: number, maxRetries: number, retryTimeoutMs: number): QueuedUrl[] {
    const out: QueuedUrl[] = [];
    for (const e of this.live.values()) {
      if (e.status !== 'created' || e.retryCount >= maxRetries) continue;
      if (e.lastFailureAt !== undefined && e.lastFailureAt > nowMs - retryTimeoutMs) continue;
      out.push(e);
    }
    return out.sort((a, b) => a.retryCount - b.retryCount || (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
  }

  /** The earliest time a failed-but-retriable entry becomes due, if any. */
  nextRetryAt(maxRetries: number, retryTimeoutMs: number): number | undefined {
    let next: number | undefined;
    for (const e of this.live.values()) {
      if (e.status !== 'created' || e.retryCount >= maxRetries || e.lastFailureAt === undefined) continue;
      const at = e.lastFailureAt + retryTimeoutMs;
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  markDeleted(e: QueuedUrl): void {
    e.status = 'deleted';
    if (this.live.get(e.url) === e) this.live.delete(e.url);
  }

  /** A failure that may be retried (the real mark_retry_failed): failed for good at maxRetries. */
  markRetry(e: QueuedUrl, reason: string, nowMs: number, maxRetries: number): void {
    e.retryCount++;
    e.lastFailureReason = reason;
    e.lastFailureAt = nowMs;
    if (e.retryCount >= maxRetries) e.status = 'failed';
  }

  /** A failure that is not retried (the real mark_failed: no storage configuration, bad path). */
  markFailed(e: QueuedUrl, reason: string, nowMs: number): void {
    e.status = 'failed';
    e.lastFailureReason = reason;
    e.lastFailureAt = nowMs;
  }
}

/** The URL without query and fragment and without its last path segment, when the path has 2+ segments. */
function parentFolder(url: string): string | undefined {
  try {
    const u = new URL(url);
    const segments = u.pathname.split('/').filter((s, i, all) => !(s === '' && (i === 0 || i === all.length - 1)));
    if (segments.length <= 1) return undefined;
    u.search = '';
    u.hash = '';
    u.pathname = '/' + segments.slice(0, -1).join('/');
    return u.toString().replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}
