/**
 * What clearml-server accepts on every endpoint clearml-cleanup calls, by API version: our own
 * summary, read from the files named in `sources` (github.com/clearml/clearml-server; versions of a
 * field are those of the first server release whose request model has it, from the release history:
 * 1.0 = API 2.13, 1.1 = 2.14, 1.2 = 2.16, 1.4 = 2.17, 1.6 = 2.20, 1.7 = 2.21, 1.9 = 2.23, 1.11 = 2.25,
 * 1.12 = 2.26, 1.17 = 2.31, 2.3 = 2.34; the top of apiserver/service_repo/service_repo.py holds
 * each release's highest version).
 *
 * Which endpoints answer: a release has an endpoint from the first version its schema file lists
 * (`since`); it then answers requests of any version from its registration's `min_version`
 * (`minRequest`, "1.0" for most: apiserver/services/*.py), not only from `since`.
 *
 * What the server does with a field it does not know: the endpoints below read their body through
 * jsonmodels request classes (apiserver/apimodels/*.py) or as a plain dict; neither checks for
 * extra keys (only workers.status_report validates against the JSON schema), so an unknown field is
 * dropped without a word. That is why a field like delete_external_artifacts matters: sent to a
 * server that knows it, it decides what the server deletes; sent to an older one, it does nothing.
 */
import type { EndpointFact, FieldFact, WireTable } from './types.js';

const TASKS_PY = 'apiserver/apimodels/tasks.py';
const TASKS_CONF = 'apiserver/schema/services/tasks.conf';
const MODELS_PY = 'apiserver/apimodels/models.py';
const MODELS_CONF = 'apiserver/schema/services/models.conf';
const EVENTS_PY = 'apiserver/apimodels/events.py';
const EVENTS_CONF = 'apiserver/schema/services/events.conf';
const TASK_MODEL = 'apiserver/database/model/task/task.py';
const GET_MIXIN = 'apiserver/database/model/base.py';

const EVENT_TYPES = ['training_stats_scalar', 'training_stats_vector', 'training_debug_image', 'plot', 'log', '*'] as const;
const TASK_TYPES = [
  'training', 'testing', 'inference', 'data_processing', 'application', 'monitor', 'controller', 'report', 'optimizer', 'service', 'qc', 'custom',
] as const;

/** Keys every get_all takes besides filters (apiserver/database/model/base.py, GetMixin). */
const LIST_KEYS: Record<string, FieldFact> = {
  id: { type: 'string[]' },
  name: { type: 'string' },
  tags: { type: 'string[]' },
  system_tags: { type: 'string[]' },
  only_fields: { type: 'string[]' },
  order_by: { type: 'string[]' },
  page: { type: 'integer' },
  page_size: { type: 'integer' },
  scroll_id: { type: 'string', since: '2.15' },
  size: { type: 'integer', since: '2.15' },
  refresh_scroll: { type: 'boolean', since: '2.15' },
  // hidden projects and tasks are left out unless asked for, from server 1.4 on (the schema file says
  // 2.14, but no code reads the key before 1.4); before, nothing was hidden
  search_hidden: { type: 'boolean', since: '2.17' },
  project: { type: 'string[]' },
  user: { type: 'string[]' },
};

/** status-changing task calls share these (UpdateRequest in apiserver/apimodels/tasks.py) */
const UPDATE_FIELDS: Record<string, FieldFact> = {
  task: { type: 'string' },
  force: { type: 'boolean', default: false },
  status_reason: { type: 'string' },
  status_message: { type: 'string' },
};

const SERVER_DELETES_FILES = 'the server queues the URLs of what it deletes for its own file deleter, checking no other reference';
const SERVER_DELETES_MODELS = "the server deletes the task's draft output models itself, task by task";

const tasks: Record<string, EndpointFact> = {
  'tasks.get_all': {
    since: '2.1',
    sources: [TASKS_CONF, TASK_MODEL, GET_MIXIN],
    fields: {
      ...LIST_KEYS,
      status: { type: 'string[]' },
      type: { type: 'string[]' },
      parent: { type: 'string[]' },
      status_changed: { type: 'string[]' },
      last_update: { type: 'string[]' },
      last_change: { type: 'string[]' },
      'models.input.model': { type: 'string[]' },
      include_subprojects: { type: 'boolean', since: '2.26' },
    },
    // last_change became a date filter in server 1.17 (Task.get_all_query_options.datetime_fields);
    // before, the key is dropped and every task matches it
    openFilters: { filterSince: { last_change: '2.31', created: '2.31' } },
    unknownFields: 'ignored',
  },
  'tasks.get_by_id': { since: '2.1', sources: [TASKS_CONF, TASKS_PY], fields: { task: { type: 'string' } }, unknownFields: 'ignored' },
  'tasks.create': {
    since: '2.1',
    sources: [TASKS_CONF, TASKS_PY],
    fields: {
      name: { type: 'string' },
      type: { type: 'string', values: TASK_TYPES },
      project: { type: 'string' },
      comment: { type: 'string' },
      tags: { type: 'string[]' },
      system_tags: { type: 'string[]' },
      parent: { type: 'string' },
      script: { type: 'object' },
      hyperparams: { type: 'object' },
      configuration: { type: 'object' },
      models: { type: 'object' },
      container: { type: 'object', since: '2.13' },
      output_dest: { type: 'string' },
      execution: { type: 'object' },
    },
    unknownFields: 'ignored',
  },
  'tasks.edit': {
    since: '2.1',
    sources: [TASKS_CONF, 'apiserver/services/tasks.py'],
    fields: {
      task: { type: 'string' },
      force: { type: 'boolean', default: false },
      name: { type: 'string' },
      comment: { type: 'string' },
      tags: { type: 'string[]' },
      system_tags: { type: 'string[]' },
      script: { type: 'object' },
      container: { type: 'object', since: '2.13' },
      runtime: { type: 'object' },
      hyperparams: { type: 'object' },
      configuration: { type: 'object' },
      execution: { type: 'object' },
      models: { type: 'object' },
      output_dest: { type: 'string' },
    },
    unknownFields: 'ignored',
  },
  'tasks.edit_hyper_params': {
    since: '2.9',
    sources: [TASKS_CONF, TASKS_PY],
    fields: {
      task: { type: 'string' },
      force: { type: 'boolean', default: false },
      hyperparams: { type: 'object[]' },
      replace_hyperparams: { type: 'string', values: ['none', 'section', 'all'], default: 'none' },
    },
    unknownFields: 'ignored',
  },
  'tasks.get_configurations': {
    since: '2.9',
    sources: [TASKS_CONF, TASKS_PY],
    fields: { tasks: { type: 'string[]' }, names: { type: 'string[]' } },
    unknownFields: 'ignored',
  },
  'tasks.get_hyper_params': { since: '2.9', sources: [TASKS_CONF, TASKS_PY], fields: { tasks: { type: 'string[]' } }, unknownFields: 'ignored' },
  'tasks.add_or_update_artifacts': {
    since: '2.10',
    sources: [TASKS_CONF, TASKS_PY],
    fields: { task: { type: 'string' }, force: { type: 'boolean', default: false }, artifacts: { type: 'object[]' } },
    unknownFields: 'ignored',
  },
  'tasks.add_or_update_model': {
    since: '2.13',
    sources: [TASKS_CONF, 'apiserver/services/tasks.py'],
    fields: {
      task: { type: 'string' },
      name: { type: 'string' },
      model: { type: 'string' },
      type: { type: 'string', values: ['input', 'output'] },
      iteration: { type: 'integer' },
    },
    unknownFields: 'ignored',
  },
  'tasks.archive': { since: '2.12', sources: [TASKS_CONF, TASKS_PY], fields: { tasks: { type: 'string[]' }, status_reason: { type: 'string' }, status_message: { type: 'string' } }, unknownFields: 'ignored' },
  'tasks.archive_many': { since: '2.13', sources: [TASKS_CONF, TASKS_PY], fields: { ids: { type: 'string[]' }, status_reason: { type: 'string' }, status_message: { type: 'string' } }, unknownFields: 'ignored' },
  'tasks.enqueue': {
    since: '1.5',
    sources: [TASKS_CONF, TASKS_PY],
    fields: {
      ...UPDATE_FIELDS,
      queue: { type: 'string' },
      // the schema file says 2.19; the first release with it is server 1.6 (API 2.20)
      queue_name: { type: 'string', since: '2.20' },
      verify_watched_queue: { type: 'boolean', since: '2.22', default: false },
    },
    unknownFields: 'ignored',
  },
  'tasks.started': { since: '2.1', sources: [TASKS_CONF, TASKS_PY], fields: { ...UPDATE_FIELDS }, unknownFields: 'ignored' },
  'tasks.stopped': { since: '2.1', sources: [TASKS_CONF, TASKS_PY], fields: { ...UPDATE_FIELDS }, unknownFields: 'ignored' },
  'tasks.failed': { since: '2.1', sources: [TASKS_CONF, TASKS_PY], fields: { ...UPDATE_FIELDS }, unknownFields: 'ignored' },
  'tasks.completed': {
    since: '2.2',
    sources: [TASKS_CONF, TASKS_PY],
    fields: { ...UPDATE_FIELDS, publish: { type: 'boolean', since: '2.20', default: false } },
    unknownFields: 'ignored',
  },
  'tasks.publish': {
    since: '2.1',
    sources: [TASKS_CONF, TASKS_PY],
    fields: { ...UPDATE_FIELDS, publish_model: { type: 'boolean', default: true } },
    unknownFields: 'ignored',
  },
  'tasks.ping': { since: '2.1', sources: [TASKS_CONF, TASKS_PY], fields: { task: { type: 'string' } }, unknownFields: 'ignored' },
  'tasks.reset': {
    since: '2.1',
    sources: [TASKS_CONF, TASKS_PY],
    fields: {
      ...UPDATE_FIELDS,
      clear_all: { type: 'boolean', default: false },
      return_file_urls: { type: 'boolean', default: false },
      delete_output_models: { type: 'boolean', since: '2.13', default: true, deleting: { why: SERVER_DELETES_MODELS } },
      delete_external_artifacts: { type: 'boolean', since: '2.21', default: true, deleting: { mustBe: false, why: SERVER_DELETES_FILES } },
    },
    unknownFields: 'ignored',
  },
  'tasks.delete': {
    since: '2.1',
    sources: [TASKS_CONF, TASKS_PY],
    fields: {
      ...UPDATE_FIELDS,
      move_to_trash: { type: 'boolean' },
      return_file_urls: { type: 'boolean', since: '2.13', default: false },
      delete_output_models: { type: 'boolean', since: '2.13', default: true, deleting: { why: SERVER_DELETES_MODELS } },
      delete_external_artifacts: { type: 'boolean', since: '2.21', default: true, deleting: { mustBe: false, why: SERVER_DELETES_FILES } },
    },
    unknownFields: 'ignored',
  },
  'tasks.delete_many': {
    since: '2.13',
    sources: [TASKS_CONF, TASKS_PY],
    fields: {
      ids: { type: 'string[]' },
      force: { type: 'boolean', default: false },
      status_reason: { type: 'string' },
      status_message: { type: 'string' },
      // default true up to server 2.2 (API 2.33: the deleted task is copied to a trash collection),
      // false from 2.3 (API 2.34); either way no file is deleted, so not a deleting default
      move_to_trash: { type: 'boolean' },
      return_file_urls: { type: 'boolean', default: false },
      delete_output_models: { type: 'boolean', default: true, deleting: { mustBe: false, why: SERVER_DELETES_MODELS } },
      delete_external_artifacts: { type: 'boolean', since: '2.21', default: true, deleting: { mustBe: false, why: SERVER_DELETES_FILES } },
    },
    unknownFields: 'ignored',
  },
};

const models: Record<string, EndpointFact> = {
  'models.get_all': {
    since: '2.1',
    sources: [MODELS_CONF, 'apiserver/database/model/model.py', GET_MIXIN],
    fields: {
      ...LIST_KEYS,
      uri: { type: 'string[]' },
      task: { type: 'string[]' },
      ready: { type: 'boolean' },
      framework: { type: 'string[]' },
      parent: { type: 'string[]' },
    },
    openFilters: {},
    unknownFields: 'ignored',
  },
  'models.get_by_id': { since: '2.1', sources: [MODELS_CONF, MODELS_PY], fields: { model: { type: 'string' } }, unknownFields: 'ignored' },
  'models.create': {
    since: '2.1',
    sources: [MODELS_CONF, MODELS_PY],
    fields: {
      name: { type: 'string' },
      uri: { type: 'string' },
      ready: { type: 'boolean', default: true },
      task: { type: 'string' },
      project: { type: 'string' },
      comment: { type: 'string' },
      tags: { type: 'string[]' },
      system_tags: { type: 'string[]' },
      framework: { type: 'string' },
      design: { type: 'object' },
      labels: { type: 'object' },
      parent: { type: 'string' },
      public: { type: 'boolean', default: false },
    },
    unknownFields: 'ignored',
  },
  'models.delete': {
    since: '2.1',
    sources: [MODELS_CONF, MODELS_PY],
    fields: {
      model: { type: 'string' },
      force: { type: 'boolean', default: false },
      // in the request model from server 1.11 (API 2.25); models.conf never lists it
      delete_external_artifacts: { type: 'boolean', since: '2.25', default: true, deleting: { mustBe: false, why: SERVER_DELETES_FILES } },
    },
    unknownFields: 'ignored',
  },
  'models.delete_many': {
    since: '2.13',
    sources: [MODELS_CONF, MODELS_PY],
    fields: {
      ids: { type: 'string[]' },
      force: { type: 'boolean', default: false },
      delete_external_artifacts: { type: 'boolean', since: '2.25', default: true, deleting: { mustBe: false, why: SERVER_DELETES_FILES } },
    },
    unknownFields: 'ignored',
  },
};

const events: Record<string, EndpointFact> = {
  'events.get_task_events': {
    since: '2.1',
    sources: [EVENTS_CONF, EVENTS_PY, 'apiserver/services/events.py'],
    fields: {
      task: { type: 'string' },
      event_type: { type: 'string', values: EVENT_TYPES },
      batch_size: { type: 'integer', default: 500 },
      scroll_id: { type: 'string' },
      order: { type: 'string', values: ['asc', 'desc'], default: 'asc' },
      // in the request model from server 1.2 (API 2.16); the schema file lists them only at 2.22
      metrics: { type: 'object[]', since: '2.16' },
      count_total: { type: 'boolean', since: '2.16' },
      model_events: { type: 'boolean', since: '2.22', default: false },
    },
    unknownFields: 'ignored',
  },
  'events.get_task_metrics': {
    since: '2.7',
    sources: [EVENTS_CONF, EVENTS_PY],
    fields: { tasks: { type: 'string[]' }, event_type: { type: 'string', values: EVENT_TYPES }, model_events: { type: 'boolean', since: '2.22' } },
    unknownFields: 'ignored',
  },
  // the multi-task form (metrics: [{task, metric}]) answers requests from 2.7 (below, the legacy
  // single-task form of apiserver/services/events.py); 2.14 adds variants per metric
  'events.debug_images': {
    since: '2.7',
    minRequest: '2.7',
    sources: [EVENTS_CONF, EVENTS_PY],
    fields: {
      metrics: { type: 'object[]' },
      iters: { type: 'integer', default: 1 },
      navigate_earlier: { type: 'boolean', default: true },
      refresh: { type: 'boolean', default: false },
      scroll_id: { type: 'string' },
      model_events: { type: 'boolean', since: '2.22', default: false },
    },
    unknownFields: 'ignored',
  },
  'events.plots': {
    since: '2.20',
    sources: [EVENTS_CONF, EVENTS_PY],
    fields: {
      metrics: { type: 'object[]' },
      iters: { type: 'integer', default: 1 },
      navigate_earlier: { type: 'boolean', default: true },
      refresh: { type: 'boolean', default: false },
      scroll_id: { type: 'string' },
      model_events: { type: 'boolean', since: '2.22', default: false },
    },
    unknownFields: 'ignored',
  },
  'events.get_multi_task_metrics': {
    since: '2.28',
    sources: [EVENTS_CONF, EVENTS_PY],
    fields: { tasks: { type: 'string[]' }, event_type: { type: 'string', values: EVENT_TYPES }, model_events: { type: 'boolean' } },
    unknownFields: 'ignored',
  },
  'events.get_task_log': {
    since: '1.5',
    sources: [EVENTS_CONF, EVENTS_PY],
    fields: {
      task: { type: 'string' },
      batch_size: { type: 'integer' },
      navigate_earlier: { type: 'boolean', since: '2.9' },
      from_timestamp: { type: 'integer', since: '2.9' },
      order: { type: 'string', values: ['asc', 'desc'] },
    },
    unknownFields: 'ignored',
  },
  'events.add_batch': {
    since: '2.1',
    sources: [EVENTS_CONF, 'apiserver/services/events.py'],
    jsonLines: true,
    fields: {
      type: { type: 'string', values: EVENT_TYPES.filter((t) => t !== '*') },
      task: { type: 'string' },
      timestamp: { type: 'number' },
      iter: { type: 'integer' },
      metric: { type: 'string' },
      variant: { type: 'string' },
      value: { type: 'number' },
      level: { type: 'string', values: ['notset', 'debug', 'verbose', 'info', 'warn', 'warning', 'error', 'fatal', 'critical'] },
      worker: { type: 'string' },
      msg: { type: 'string' },
      url: { type: 'string' },
      key: { type: 'string' },
      plot_str: { type: 'string' },
    },
    unknownFields: 'ignored',
  },
  'events.delete_for_task': {
    since: '2.1',
    sources: [EVENTS_CONF, EVENTS_PY],
    fields: { task: { type: 'string' }, allow_locked: { type: 'boolean', default: false } },
    unknownFields: 'ignored',
  },
};

const other: Record<string, EndpointFact> = {
  'auth.login': {
    since: '2.1',
    sources: ['apiserver/schema/services/auth.conf', 'apiserver/services/auth.py'],
    fields: { expiration_sec: { type: 'integer' } },
    unknownFields: 'ignored',
  },
  'projects.get_all': {
    since: '2.1',
    sources: ['apiserver/schema/services/projects.conf', 'apiserver/database/model/project.py', GET_MIXIN],
    fields: { ...LIST_KEYS },
    openFilters: {},
    unknownFields: 'ignored',
  },
  'projects.create': {
    since: '2.1',
    sources: ['apiserver/schema/services/projects.conf', 'apiserver/apimodels/projects.py'],
    fields: {
      name: { type: 'string' },
      description: { type: 'string' },
      tags: { type: 'string[]' },
      system_tags: { type: 'string[]' },
      default_output_destination: { type: 'string' },
    },
    unknownFields: 'ignored',
  },
  'queues.get_all': {
    since: '2.4',
    minRequest: '2.4',
    sources: ['apiserver/schema/services/queues.conf', 'apiserver/database/model/queue.py', GET_MIXIN],
    fields: { ...LIST_KEYS },
    openFilters: {},
    unknownFields: 'ignored',
  },
  'queues.create': {
    since: '2.4',
    minRequest: '2.4',
    sources: ['apiserver/schema/services/queues.conf', 'apiserver/apimodels/queues.py'],
    fields: { name: { type: 'string' }, tags: { type: 'string[]' }, system_tags: { type: 'string[]' } },
    unknownFields: 'ignored',
  },
};

export const WIRE_TABLE: WireTable = { ...tasks, ...models, ...events, ...other };
