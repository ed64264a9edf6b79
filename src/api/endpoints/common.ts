/** Shapes shared by several services' requests and answers. */

/** A date filter as the server wants it: ISO strings with `<`, `<=`, `>`, `>=` prefixes, e.g. ["<2024-05-01T00:00:00"]. */
export type DateFilter = string[];

/** Entity lists: `page`/`page_size` (max 500) or `scroll_id` + `size`; both offset based on the server. */
export interface ListQuery {
  id?: string[];
  name?: string;
  system_tags?: string[];
  tags?: string[];
  only_fields?: string[];
  order_by?: string[];
  page?: number;
  page_size?: number;
  scroll_id?: string | null;
  size?: number;
  refresh_scroll?: boolean;
  search_hidden?: boolean;
  /** any other server filter (e.g. "models.input.model") */
  [filter: string]: unknown;
}

/** Per-entity error of a *_many call. */
export interface ManyFailure {
  id: string;
  error: { codes: number[]; msg: string; data?: Record<string, unknown> };
}

export interface ManyResult<S> {
  succeeded: Array<S & { id: string }>;
  failed: ManyFailure[];
}

/** Status-changing calls (started, stopped, completed, failed...). */
export interface StatusChangeRequest {
  task: string;
  force?: boolean;
  status_reason?: string;
  status_message?: string;
}

export interface UpdatedResult {
  updated: number;
  fields?: Record<string, unknown>;
}
