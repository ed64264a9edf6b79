/**
 * The small interfaces the cleanup engine needs from the outside world. The real ClearMLClient
 * (src/api) and storage layer (src/storage) fit them structurally; tests may pass fakes for pure
 * logic, but the integration tests use the real ones against real servers.
 */
import type { FileOutcome } from '../storage/outcome.js';

/** The ClearML REST client: `call` returns the envelope's data or throws an ApiError-like error. */
export interface Api {
  call<T>(endpoint: string, body?: object): Promise<T>;
  /**
   * The server's API version (the real client reads it from its login token); absent or undefined:
   * not known, and the engine then assumes a current server.
   */
  serverApiVersion?(): Promise<string | undefined>;
}

/** The fields of src/api ApiError the engine looks at (duck-typed so fakes need not import it). */
export interface ApiErrorLike {
  endpoint?: string;
  code?: number;
  subcode?: number;
  resultMsg?: string;
  kind?: string;
}

/** What happened to one URL: the storage layer's own type (cleanup sits downstream of storage). */
export type { FileOutcome, FileStatus } from '../storage/outcome.js';

/** Where a URL would go, and whether the allow-list lets us touch it (for plans and dry runs). */
export interface FileVerdict {
  backend: string;
  allowed: boolean;
  reason?: string;
}

export interface Storage {
  /** Deletes the given files (batched per backend inside); never throws for a single file. */
  deleteFiles(urls: string[]): Promise<FileOutcome[]>;
  /**
   * Removes deleted tasks' own folders whole (file server only; elsewhere refused): called only for
   * folders nothing still references. Absent: folders stay.
   */
  deleteFolders?(urls: string[]): Promise<FileOutcome[]>;
  /** Classification without touching anything: used by plan/--dry-run. */
  classify?(url: string): FileVerdict;
  /** Every file under a root URL, streamed (orphans, report); absent where storage cannot list. */
  list?(root: string, opts?: { fileServerDir?: string }): AsyncIterable<{ url: string; size: number; mtime: number }>;
  /** a small text file (a dataset's `state` artifact); absent where storage cannot read */
  readText?(url: string, maxBytes: number): Promise<string>;
  /** the allow roots in force (the default roots of the orphan sweep) */
  roots?: readonly string[];
  /** other spellings of the same places (S3 endpoint hosts, file-server base paths), for the references */
  referenceHints?: { s3Hosts?: string[]; fileServerPaths?: string[] };
}

/** Progress of long work, for a bar or periodic lines (the engine never knows which). */
export interface ProgressEvent {
  /** e.g. 'tasks' (a pass), 'references', 'listing', 'deleting' */
  phase: string;
  done: number;
  /** unknown while a listing streams */
  total?: number;
  /** what is counted: tasks, files */
  unit: string;
}

/** winston-like; the engine never knows how it was started. */
export interface Logger {
  debug(msg: string, meta?: Record<string, unknown>): void;
  info(msg: string, meta?: Record<string, unknown>): void;
  warn(msg: string, meta?: Record<string, unknown>): void;
  error(msg: string, meta?: Record<string, unknown>): void;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

export function apiErrorOf(err: unknown): ApiErrorLike | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as ApiErrorLike).code === 'number') {
    return err as ApiErrorLike;
  }
  return undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
