/** Everything the storage layer needs, resolved by the caller from the configuration. */
import type { ClearMLConfig, StorageConfig } from '../config/types.js';

export interface StorageLog {
  debug?(msg: string): void;
  warn?(msg: string): void;
}

export interface StorageContext {
  /** api.files_server, e.g. http://localhost:8081 (the only host that gets the bearer token) */
  filesServer?: string;
  storage: StorageConfig;
  /** extra roots: s3://bucket/prefix, gs://..., azure://..., file:///data/clearml, https://files.example.com */
  allowRoots?: string[];
  /** false: the configuration names no roots, only allowRoots do (default true) */
  useConfigRoots?: boolean;
  /** bearer token for the files server; called again once after a 401 */
  getToken?: (stale?: string) => Promise<string>;
  /** TLS for the files server: false skips verification, a string is a CA bundle path */
  verifyCertificate?: boolean | string;
  /** requests in flight at once, across all backends (default 16) */
  concurrency?: number;
  /** paths per files server delete_many call (default 500) */
  fileServerBatchSize?: number;
  /** per request, ms (default 60000) */
  timeoutMs?: number;
  log?: StorageLog;
}

export interface StorageContextOptions {
  allowRoots?: string[];
  useConfigRoots?: boolean;
  getToken?: (stale?: string) => Promise<string>;
  concurrency?: number;
  fileServerBatchSize?: number;
  timeoutMs?: number;
  log?: StorageLog;
}

export function storageContextFromConfig(config: ClearMLConfig, opts: StorageContextOptions = {}): StorageContext {
  return {
    filesServer: config.api.filesServer,
    storage: config.storage,
    verifyCertificate: config.api.verifyCertificate,
    ...opts,
  };
}

export const DEFAULTS = {
  concurrency: 16,
  fileServerBatchSize: 500,
  timeoutMs: 60_000,
  s3BatchSize: 1000,
  azureBatchSize: 256,
} as const;
