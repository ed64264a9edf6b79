/**
 * Plain shapes of ClearML entities as they travel on the wire (API 2.x).
 * The only code the embedded server and the client share: types, no logic.
 */

export type TaskStatus =
  | 'created'
  | 'queued'
  | 'in_progress'
  | 'stopped'
  | 'published'
  | 'publishing'
  | 'closed'
  | 'failed'
  | 'completed'
  | 'unknown';

export interface Artifact {
  key: string;
  type: string;
  mode?: 'input' | 'output';
  uri?: string;
  hash?: string;
  content_size?: number;
  timestamp?: number;
  type_data?: { preview?: string; content_type?: string; data_hash?: string };
  display_data?: Array<[string, string]>;
}

export interface ModelRef {
  name: string;
  model: string;
}

export interface HyperParam {
  section: string;
  name: string;
  value: string;
  type?: string;
  description?: string;
}

export interface TaskScript {
  repository?: string;
  branch?: string;
  version_num?: string;
  tag?: string;
  entry_point?: string;
  working_dir?: string;
  binary?: string;
  diff?: string;
  requirements?: Record<string, unknown>;
}

export interface TaskContainer {
  image?: string;
  arguments?: string;
  setup_shell_script?: string;
}

export interface Task {
  id: string;
  name: string;
  user?: string;
  company?: string;
  project?: string;
  type: string;
  status: TaskStatus;
  status_reason?: string;
  status_message?: string;
  status_changed?: string | null;
  created?: string;
  started?: string | null;
  completed?: string | null;
  last_update?: string;
  last_change?: string;
  last_changed_by?: string;
  last_iteration?: number;
  comment?: string;
  parent?: string | null;
  system_tags?: string[];
  tags?: string[];
  execution?: {
    queue?: string | null;
    artifacts?: Artifact[];
    parameters?: Record<string, string>;
    [k: string]: unknown;
  };
  models?: { input?: ModelRef[]; output?: ModelRef[] };
  hyperparams?: Record<string, Record<string, HyperParam>>;
  configuration?: Record<string, { name: string; value: string; type?: string; description?: string }>;
  script?: TaskScript;
  container?: TaskContainer;
  runtime?: Record<string, unknown>;
  output?: { destination?: string; error?: string; result?: string };
  [k: string]: unknown;
}

export interface Model {
  id: string;
  name: string;
  user?: string;
  company?: string;
  project?: string;
  task?: string | null;
  uri?: string;
  ready?: boolean;
  framework?: string;
  created?: string;
  last_update?: string;
  system_tags?: string[];
  tags?: string[];
  [k: string]: unknown;
}

export interface Project {
  id: string;
  name: string;
  basename?: string;
  description?: string;
  created?: string;
  last_update?: string;
  system_tags?: string[];
  tags?: string[];
  default_output_destination?: string;
  [k: string]: unknown;
}

export interface Queue {
  id: string;
  name: string;
  created?: string;
  system_tags?: string[];
  tags?: string[];
  entries: Array<{ task: string; added: string }>;
  [k: string]: unknown;
}

/** One event as stored by events.add_batch (debug image, plot, log, scalar...). */
export interface TaskEvent {
  type: string;
  task: string;
  timestamp?: number;
  iter?: number;
  metric?: string;
  variant?: string;
  value?: number;
  url?: string;
  key?: string;
  plot_str?: string;
  msg?: string;
  level?: string;
  worker?: string;
  [k: string]: unknown;
}

/** The response envelope of every API call. */
export interface ResponseMeta {
  id: string;
  trx: string;
  endpoint: { name: string; requested_version: string | number; actual_version: string | null };
  result_code: number;
  result_subcode: number;
  result_msg: string;
  error_stack: string | null;
  error_data: Record<string, unknown>;
}

export interface Envelope<T = unknown> {
  meta: ResponseMeta;
  data: T;
}

/** Counters the embedded server exposes under its test-support prefix (not ClearML API). */
export interface ServerCounters {
  api: Record<string, number>;
  apiTotal: number;
  files: Record<string, number>;
  filesTotal: number;
}
