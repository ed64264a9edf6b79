/**
 * The last look before anything of a journal entry is deleted, whether the entry was just planned
 * or left by a killed pass: the tasks and models are read again and everything that no longer
 * qualifies is dropped from the entry, with its files.
 *
 * - a task is judged by the same `judge` the selection uses (archived, age, status, the rules);
 * - a model stays when it was published meanwhile (unless delete_published_models), another task
 *   took it over, or a task that stays uses it as input;
 * - a file stays when it is outside its task's own folder (an entry written by an older version may
 *   hold such links), when something that stays points to it (the pass's reference index), or when a
 *   model outside the entry points into the task's folder now, however its URL is spelled.
 */
import type { Api, Logger } from './ports.js';
import type { JournalEntry, JournalModel, JournalTask } from './journal.js';
import { listAllChunked } from './listing.js';
import { isOwnedBy } from './ownership.js';
import { NO_OWNER, ReferenceIndex, type KeyHints } from './references.js';
import { judge, selectFields, type Candidate, type Rules, type TaskRow } from './select.js';
import { modelsPointingInto } from './shared-files.js';
import { addKeptFile, addKeptModel, addSkipped, type PassReport } from './report.js';

export interface RejudgeContext {
  api: Api;
  rules: Rules;
  report: PassReport;
  log: Logger;
  /** what stays, read at the start of the pass (absent: only the checks made here) */
  refs?: ReferenceIndex;
  hints?: KeyHints;
}

interface ModelRow {
  id: string;
  name?: string;
  task?: string | null;
  ready?: boolean;
  uri?: string;
}

interface UserRow {
  id: string;
  models?: { input?: Array<{ model?: string }> };
}

function isDeletedMarker(task: string | null | undefined): boolean {
  return !task || task.startsWith('__DELETED__');
}

export interface Rejudged extends JournalEntry {
  /** URIs of models outside what goes that point into the tasks' folders now (they hold those folders) */
  holders: string[];
  /** tasks or models dropped here: what holds them is not in the pass's reference index */
  dropped: number;
}

/** The entry without what no longer qualifies (the report says why for each). */
export async function rejudgeEntry(ctx: RejudgeContext, entry: JournalEntry): Promise<Rejudged> {
  const { api, rules, report, log } = ctx;
  let tasks: JournalTask[] = entry.tasks;
  let models: JournalModel[] = entry.models;
  const holders: string[] = [];
  let droppedCount = 0;

  // 1. Tasks, by the selection's own rules.
  if (tasks.length) {
    const rows = await listAllChunked<TaskRow>(api, 'tasks.get_all', { only_fields: selectFields(rules), search_hidden: true }, 'tasks', 'id', tasks.map((t) => t.id));
    const byId = new Map(rows.map((r) => [r.id, r]));
    const dropped = new Set<string>();
    for (const t of tasks) {
      const r = byId.get(t.id);
      if (!r) continue; // already gone: its remaining steps count as done
      const prior = t.rule ? ({ rule: t.rule, reason: t.reason } as Pick<Candidate, 'rule' | 'reason'>) : undefined;
      const v = judge(r, rules, prior);
      if (v.kind === 'delete') continue;
      dropped.add(t.id);
      log.warn(`Task ${t.id} no longer qualifies (${v.why}); left alone with its files and models`);
      addSkipped(report, { id: t.id, name: r.name ?? t.name, status: r.status, reason: `no longer qualifies: ${v.why}` });
    }
    droppedCount += dropped.size;
    tasks = tasks.filter((t) => !dropped.has(t.id));
    models = models.filter((m) => !m.owner || !dropped.has(m.owner));
  }

  // 2. Models: published, taken over, or used since the entry was written.
  const keepUris: string[] = [];
  if (models.length) {
    const ids = models.map((m) => m.id);
    const [rows, users] = await Promise.all([
      listAllChunked<ModelRow>(api, 'models.get_all', { only_fields: ['id', 'name', 'task', 'ready', 'uri'] }, 'models', 'id', ids),
      listAllChunked<UserRow>(api, 'tasks.get_all', { only_fields: ['id', 'models.input'], search_hidden: true }, 'tasks', 'models.input.model', ids),
    ]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const going = new Set(tasks.map((t) => t.id));
    const usersOf = new Map<string, string[]>();
    for (const u of users) {
      if (going.has(u.id)) continue;
      for (const ref of u.models?.input ?? []) if (ref?.model) usersOf.set(ref.model, [...(usersOf.get(ref.model) ?? []), u.id]);
    }
    const dropped = new Set<string>();
    for (const m of models) {
      const r = byId.get(m.id);
      if (!r) continue;
      let why: string | undefined;
      if (r.ready && !(rules.forceDelete && rules.deletePublishedModels)) why = 'published since it was planned';
      else if (!isDeletedMarker(r.task) && m.owner && r.task !== m.owner) why = `now belongs to task ${r.task}`;
      else if (usersOf.get(m.id)?.length) why = `used as input by task ${usersOf.get(m.id)!.join(', ')}`;
      if (!why) continue;
      dropped.add(m.id);
      if (r.uri) keepUris.push(r.uri);
      if (m.file) keepUris.push(m.file);
      addKeptModel(report, { id: m.id, name: r.name, owner: m.owner, reason: why });
    }
    droppedCount += dropped.size;
    models = models.filter((m) => !dropped.has(m.id));
  }

  // 3. Files: only the task's own, and none that anything staying points to.
  if (tasks.length) {
    const staying = new Set(models.map((m) => m.id));
    const local = new ReferenceIndex(ctx.hints ?? ctx.refs?.hints ?? {}, true);
    try {
      holders.push(...keepUris);
      for (const m of await modelsPointingInto(api, tasks.map((t) => t.id))) if (m.uri && !staying.has(m.id)) holders.push(m.uri);
      for (const u of holders) local.add(u, NO_OWNER);
      const hints = local.hints;
      // the entry's own models (and those deferred) are going: their references do not hold a file
      const going = new Set([...models.map((m) => m.id), ...entry.deferred.map((d) => d.id)]);
      const heldBy = (url: string): string | undefined => {
        if (local.ownerOf(url) !== undefined) return 'a model that stays points to it';
        const o = ctx.refs?.ownerOf(url, going);
        return o === undefined ? undefined : `still used by ${ctx.refs!.describe(o)}`;
      };
      const keptFiles = new Set<string>();
      tasks = tasks.map((t) => {
        const files = t.files.filter((f) => {
          const why = !isOwnedBy(f, t.id, hints) ? `outside the folder of task ${t.id}: not ours to delete` : heldBy(f);
          if (why && !keptFiles.has(f)) (keptFiles.add(f), addKeptFile(report, f, why));
          return !why;
        });
        return files.length === t.files.length ? t : { ...t, files };
      });
      models = models.map((m) => (m.file && keptFiles.has(m.file) ? { ...m, file: undefined } : m));
    } finally {
      local.close();
    }
  }
  return { ...entry, tasks, models, holders, dropped: droppedCount };
}
