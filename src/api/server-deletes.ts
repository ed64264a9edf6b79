/**
 * Calls after which a clearml-server deletes files by itself unless told not to.
 *
 * On a stock server `delete_external_artifacts` defaults to true on each of these (clearml-server
 * apiserver/apimodels/tasks.py, models.py, projects.py) and its async_delete job then removes the
 * deleted entities' artifacts, model files and event images from the file server, S3, GCS and
 * Azure, checking no other reference: a model file a kept model shares, or a file outside our allow
 * roots, would go. The cleanup deletes files only through its own storage code, after its checks;
 * so the client sends `delete_external_artifacts: false` on every one of these calls, whatever the
 * caller passed, unless it was built to model another tool (the benchmark's official script).
 */

/** Endpoints whose `delete_external_artifacts` defaults to true on the server. */
export const SERVER_DELETING_ENDPOINTS: ReadonlySet<string> = new Set([
  'tasks.delete',
  'tasks.delete_many',
  'tasks.reset',
  'tasks.reset_many',
  'models.delete',
  'models.delete_many',
  'projects.delete',
]);

/** The body to send: for a deleting endpoint, always with `delete_external_artifacts: false`. */
export function withoutServerDeletes<T extends object>(endpoint: string, body: T): T {
  if (!SERVER_DELETING_ENDPOINTS.has(endpoint)) return body;
  return { ...body, delete_external_artifacts: false };
}
