/** The ClearML REST client: import from here. */
export { ClearMLClient, DEFAULT_API_VERSION } from './client.js';
export type { ClearMLClientOptions, ClientApiConfig, ApiLogger, ApiCaller } from './client.js';
export { ApiError } from './errors.js';
export { SERVER_DELETING_ENDPOINTS, withoutServerDeletes } from './server-deletes.js';
export type { ApiErrorKind, ApiErrorInit } from './errors.js';
export type { ApiStats } from './stats.js';
export { decodeTokenClaims, tokenExpiryMs } from './jwt.js';
export type { TokenClaims } from './jwt.js';
export {
  iterateSnapshotPages,
  iterateTaskPages,
  iterateTasks,
  iterateModelPages,
  iterateModels,
  MAX_PAGE_SIZE,
} from './paging.js';
export type { SnapshotPagingOptions } from './paging.js';
export { scrollAll, scrollTaskEvents } from './scroll.js';
export type { ScrollPage, ScrollOptions } from './scroll.js';
export * from './endpoints/common.js';
export * from './endpoints/tasks.js';
export * from './endpoints/models.js';
export * from './endpoints/events.js';
export * from './endpoints/projects.js';
export * from './endpoints/queues.js';
