/** What happened to one URL. Deleting storage never throws for a single file: it reports. */

export type FileStatus = 'deleted' | 'missing' | 'failed' | 'refused';

export interface FileOutcome {
  url: string;
  /** fileserver | s3 | gs | azure | file | unknown */
  backend: string;
  /** deleted and missing both mean "the file is gone"; failed may be retried; refused never will be */
  status: FileStatus;
  /** failed: the error; refused: one of REFUSAL */
  reason?: string;
  /** for refusals, what exactly was wrong (e.g. "path traversal", "outside every allowed root") */
  detail?: string;
  /** size of the deleted file, when the backend told us for free */
  bytes?: number;
}

export const REFUSAL = {
  /** not under an allowed root: a foreign host, another bucket, traversal, unknown scheme */
  notAllowed: 'not-allowed',
  /** the URL names a folder (trailing slash, bucket or root itself): folders are never deleted */
  folder: 'folder',
} as const;

/** "gone" means the cleanup may forget this file. */
export function isDone(o: FileOutcome): boolean {
  return o.status === 'deleted' || o.status === 'missing';
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown; name?: string }).code;
    const name = err.name && err.name !== 'Error' ? err.name : typeof code === 'string' ? code : '';
    return name && !err.message.startsWith(name) ? `${name}: ${err.message}` : err.message;
  }
  return String(err);
}
