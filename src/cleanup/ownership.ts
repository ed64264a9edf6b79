/**
 * What a task (or a Report) owns in storage. The SDK writes every file of a task below one folder
 * named `<task name>.<task id>` (artifacts/, models/, metrics/); the web app writes a Report's
 * images below `reports/<report id>/`. A URL anywhere else was registered by a user (a link
 * artifact, a model registered by URL, raw data) and is never ours to delete, whatever points to it.
 */
import { classifyUrl, type ClassifyHints } from '../storage/url.js';

const ID = /^[0-9a-f]{32}$/i;

/** Path segments of a storage URL below its namespace (bucket, container, server), decoded. */
function segmentsOf(url: string, hints?: ClassifyHints): string[] | undefined {
  const loc = classifyUrl(url.trim(), hints);
  if (loc.unsafe || loc.backend === 'unknown') return undefined;
  return loc.segments.map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
}

/**
 * Index of the segment that is the owner's folder (`*.<task id>`, or `<report id>` right after
 * `reports`), when the URL names something strictly below it; -1 otherwise.
 */
export function ownerFolderDepth(url: string, ownerId: string, hints?: ClassifyHints): number {
  if (!ID.test(ownerId)) return -1;
  const segs = segmentsOf(url, hints);
  if (!segs) return -1;
  const id = ownerId.toLowerCase();
  const last = segs.length - 1;
  if (last < 1 || segs[last] === '') return -1; // a folder itself is never a file we delete
  for (let i = 0; i < last; i++) {
    const s = segs[i].toLowerCase();
    if (s.endsWith(`.${id}`) && s.length > id.length + 1) return i;
    if (s === id && i > 0 && segs[i - 1].toLowerCase() === 'reports') return i;
  }
  return -1;
}

/** True when the file lies in the owner's own folder (task folder or Report folder). */
export function isOwnedBy(url: string, ownerId: string, hints?: ClassifyHints): boolean {
  return ownerFolderDepth(url, ownerId, hints) >= 0;
}

/** The owner's folder of a file it owns (the URL cut after the folder segment), or undefined. */
export function ownerFolderOf(url: string, ownerId: string, hints?: ClassifyHints): string | undefined {
  const depth = ownerFolderDepth(url, ownerId, hints);
  if (depth < 0) return undefined;
  const loc = classifyUrl(url.trim(), hints);
  // cut the raw URL after the same number of segments below its namespace
  const raw = url.trim().replace(/[?#].*$/s, '');
  const keep = loc.segments.length - 1 - depth; // segments to drop from the end
  const parts = raw.split('/');
  return parts.slice(0, parts.length - keep).join('/') + '/';
}

/** Why a URL is not the task's to delete (for the report), or undefined when it is. */
export function notOwnedReason(url: string, ownerId: string, hints?: ClassifyHints): string | undefined {
  if (isOwnedBy(url, ownerId, hints)) return undefined;
  return `outside the folder of ${ownerId} (registered by URL): kept`;
}
