import { ApiFault } from '../api/fault.js';
import type { CallRequest, Service } from '../api/service.js';
import type { Artifact, HyperParam, Task } from '../../types/clearml.js';
import type { EmbeddedState } from '../state.js';
import { bool, stringList } from './common.js';
import { assertWritable, loadTask } from './task-docs.js';

type ConfigItem = { name: string; value: string; type?: string; description?: string };

/** Hyperparameters, configuration, artifacts and model references of a task. */
export function tasksParams(state: EmbeddedState): Service {
  const store = state.stores.tasks;

  /** Loads a task that may be edited: Draft, or any status with force. */
  const editable = (body: Record<string, any>, allowed: string[] = ['created']): Task => {
    const t = loadTask(state, body.task);
    assertWritable(t);
    if (!allowed.includes(t.status) && !bool(body.force)) {
      throw new ApiFault(400, 110, `Invalid task status (${t.status}; use force)`, { task: t.id, status: t.status });
    }
    return t;
  };

  const save = (req: CallRequest, t: Task) => {
    const now = state.isoNow();
    t.last_update = now;
    t.last_change = now;
    t.last_changed_by = req.identity.user;
    store.put(t);
  };

  const hyperList = (t: Task): HyperParam[] =>
    Object.entries(t.hyperparams ?? {}).flatMap(([section, params]) =>
      Object.values(params).map((p) => ({ ...p, section })),
    );

  const configList = (t: Task, names?: string[]): ConfigItem[] =>
    Object.entries(t.configuration ?? {})
      .filter(([name]) => !names || names.length === 0 || names.includes(name))
      .map(([name, c]) => ({ ...c, name }));

  return {
    get_hyper_params: (req) => {
      const ids = stringList(req.body.tasks);
      return { params: ids.map((id) => ({ task: id, hyperparams: hyperList(loadTask(state, id)) })) };
    },
    edit_hyper_params: (req) => {
      const t = editable(req.body);
      const items: HyperParam[] = Array.isArray(req.body.hyperparams) ? req.body.hyperparams : [];
      const mode = req.body.replace_hyperparams ?? 'none';
      const hp: Record<string, Record<string, HyperParam>> = mode === 'all' ? {} : structuredClone(t.hyperparams ?? {});
      if (mode === 'section') for (const s of new Set(items.map((i) => i.section))) hp[s] = {};
      for (const item of items) {
        if (!item || typeof item.section !== 'string' || typeof item.name !== 'string') {
          throw new ApiFault(400, 12, 'Validation error (hyperparameter needs section and name)', { item });
        }
        hp[item.section] ??= {};
        hp[item.section][item.name] = {
          section: item.section,
          name: item.name,
          value: item.value === undefined || item.value === null ? '' : String(item.value),
          type: item.type ?? '',
          description: item.description ?? '',
        };
      }
      t.hyperparams = hp;
      save(req, t);
      return { updated: 1 };
    },
    delete_hyper_params: (req) => {
      const t = editable(req.body);
      const items: Array<{ section: string; name?: string }> = Array.isArray(req.body.hyperparams) ? req.body.hyperparams : [];
      const hp = structuredClone(t.hyperparams ?? {});
      let deleted = 0;
      for (const { section, name } of items) {
        if (!hp[section]) continue;
        if (name === undefined) {
          deleted += Object.keys(hp[section]).length;
          delete hp[section];
        } else if (hp[section][name]) {
          delete hp[section][name];
          deleted++;
        }
      }
      t.hyperparams = hp;
      save(req, t);
      return { deleted };
    },
    get_configurations: (req) => {
      const ids = stringList(req.body.tasks);
      const names = req.body.names ? stringList(req.body.names) : undefined;
      return { configurations: ids.map((id) => ({ task: id, configuration: configList(loadTask(state, id), names) })) };
    },
    get_configuration_names: (req) => {
      const ids = stringList(req.body.tasks);
      return { configurations: ids.map((id) => ({ task: id, names: Object.keys(loadTask(state, id).configuration ?? {}) })) };
    },
    edit_configuration: (req) => {
      const t = editable(req.body);
      const items: ConfigItem[] = Array.isArray(req.body.configuration) ? req.body.configuration : [];
      const cfg = bool(req.body.replace_configuration) ? {} : structuredClone(t.configuration ?? {});
      for (const item of items) {
        if (!item || typeof item.name !== 'string') throw new ApiFault(400, 12, 'Validation error (configuration item needs a name)');
        cfg[item.name] = {
          name: item.name,
          value: item.value === undefined || item.value === null ? '' : String(item.value),
          type: item.type ?? '',
          description: item.description ?? '',
        };
      }
      t.configuration = cfg;
      save(req, t);
      return { updated: 1 };
    },
    delete_configuration: (req) => {
      const t = editable(req.body);
      const cfg = structuredClone(t.configuration ?? {});
      let deleted = 0;
      for (const name of stringList(req.body.configuration)) if (cfg[name]) { delete cfg[name]; deleted++; }
      t.configuration = cfg;
      save(req, t);
      return { deleted };
    },
    add_or_update_artifacts: (req) => {
      // forced server-side while the task runs; other statuses need force
      const t = editable(req.body, ['created', 'queued', 'in_progress']);
      const items: Artifact[] = Array.isArray(req.body.artifacts) ? req.body.artifacts : [];
      const list = [...(t.execution?.artifacts ?? [])];
      for (const raw of items) {
        if (!raw || typeof raw.key !== 'string' || typeof raw.type !== 'string') {
          throw new ApiFault(400, 12, 'Validation error (artifact needs key and type)', { artifact: raw });
        }
        const a: Artifact = { ...raw, mode: raw.mode ?? 'output' };
        const i = list.findIndex((x) => x.key === a.key && (x.mode ?? 'output') === a.mode);
        if (i >= 0) list[i] = a;
        else list.push(a);
      }
      list.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
      t.execution = { ...(t.execution ?? {}), artifacts: list };
      save(req, t);
      return { updated: items.length ? 1 : 0 };
    },
    delete_artifacts: (req) => {
      const t = editable(req.body, ['created', 'queued', 'in_progress']);
      const items: Array<{ key: string; mode?: string }> = Array.isArray(req.body.artifacts) ? req.body.artifacts : [];
      const before = t.execution?.artifacts ?? [];
      const after = before.filter((a) => !items.some((d) => d.key === a.key && (d.mode ?? 'output') === (a.mode ?? 'output')));
      t.execution = { ...(t.execution ?? {}), artifacts: after };
      save(req, t);
      return { deleted: before.length - after.length };
    },
    add_or_update_model: (req) => {
      const b = req.body;
      const t = editable(b, ['created', 'queued', 'in_progress']);
      const type = b.type === 'input' ? 'input' : 'output';
      if (typeof b.name !== 'string' || typeof b.model !== 'string') {
        throw new ApiFault(400, 11, 'Missing required fields: name, model', { fields: ['name', 'model'] });
      }
      const models = { input: [...(t.models?.input ?? [])], output: [...(t.models?.output ?? [])] };
      const list = models[type];
      const i = list.findIndex((m) => m.name === b.name);
      const ref = { name: b.name, model: b.model };
      if (i >= 0) list[i] = ref;
      else list.push(ref);
      t.models = models;
      save(req, t);
      return { updated: 1 };
    },
    delete_models: (req) => {
      const t = editable(req.body, ['created', 'queued', 'in_progress']);
      const items: Array<{ name: string; type: string }> = Array.isArray(req.body.models) ? req.body.models : [];
      const models = { input: [...(t.models?.input ?? [])], output: [...(t.models?.output ?? [])] };
      let updated = 0;
      for (const { name, type } of items) {
        const key = type === 'input' ? 'input' : 'output';
        const n = models[key].length;
        models[key] = models[key].filter((m) => m.name !== name);
        updated += n - models[key].length;
      }
      t.models = models;
      save(req, t);
      return { updated };
    },
  };
}
