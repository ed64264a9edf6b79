/**
 * Carrying out one journal entry: files first, then the tasks, then their models.
 *
 * Order and its reasons:
 * - A task's own folder on the file server is removed whole, in place of its files, when nothing
 *   inside is still needed (folders.ts): one request per batch of folders, and no empty folder tree
 *   left behind. Its outcome stands for every listed file inside it.
 * - Files before entities, so no file is ever left that nothing points to. A task whose files could
 *   not all be deleted (failed, not missing) is not deleted this pass; it stays archived and the next
 *   pass plans it again (its already-deleted files then count as missing = done).
 * - tasks.delete_many with delete_output_models=false: we delete exactly the models we planned,
 *   after their files, with models.delete_many. The server's own choice would be made task by task
 *   (a model used by another task of the same batch survives or not depending on order) and would
 *   also delete draft models listed in models.output that another task created.
 *   delete_external_artifacts=false: the server's asynchronous deleter checks no other reference
 *   (it would delete a file a kept model shares); we have deleted the files already.
 * - models.delete_many with force=false after their tasks are gone: the server then refuses a model
 *   that some task started to use meanwhile (400/205) instead of cutting it out from under it; and
 *   delete_external_artifacts=false, since it too defaults to true there: a model file shared with a
 *   kept model would go (the API client adds it to every deleting call anyway, src/api/server-deletes.ts,
 *   and leaves it out for a server before API 2.25, which has no such field and deletes no file).
 * Every step counts "already gone" (missing file, invalid task id 400/101, invalid model id 400/201)
 * as done, which is what makes replaying an entry after a kill safe.
 */
import type { LimitFunction } from 'p-limit';
import type { Api, FileOutcome, Logger, Storage } from './ports.js';
import { apiErrorOf, errorMessage } from './ports.js';
import type { Journal, JournalDeferred, JournalEntry, JournalModel, JournalTask } from './journal.js';
import { chunks, listAllChunked } from './listing.js';
import { addFailed, addFileOutcome, addKeptFile, addKeptModel, type PassReport } from './report.js';
import { isOwnedBy } from './ownership.js';
import { NO_OWNER, ReferenceIndex, type KeyHints } from './references.js';
import { rejudgeEntry } from './rejudge.js';
import { removableFolders, type FolderInput } from './folders.js';
import type { Rules } from './select.js';
import { modelsPointingInto } from './shared-files.js';

export interface ExecContext {
  api: Api;
  storage: Storage;
  journal: Journal;
  report: PassReport;
  log: Logger;
  limit: LimitFunction;
  /** the rules of this pass: every deletion is judged by them again just before it happens */
  rules: Rules;
  /** what stays, read at the start of the pass */
  refs?: ReferenceIndex;
  hints?: KeyHints;
}

interface BatchItemError {
  id: string;
  error?: { codes?: number[]; msg?: string };
}

interface BatchResult {
  succeeded?: Array<{ id: string }>;
  failed?: BatchItemError[];
}

function codesOf(f: BatchItemError): [number, number] {
  const c = f.error?.codes ?? [];
  return [c[0] ?? 0, c[1] ?? 0];
}

/** Deletes through a *_many endpoint; returns ids done (deleted or already gone) and failures. */
async function deleteMany(
  ctx: ExecContext,
  endpoint: 'tasks.delete_many' | 'models.delete_many',
  ids: string[],
  extra: Record<string, unknown>,
  goneSubcode: number,
): Promise<{ deleted: string[]; gone: string[]; failed: Map<string, string> }> {
  const deleted: string[] = [];
  const gone: string[] = [];
  const failed = new Map<string, string>();
  for (const slice of chunks(ids, 500)) {
    try {
      const res = await ctx.api.call<BatchResult>(endpoint, { ids: slice, ...extra });
      const ok = new Set((res?.succeeded ?? []).map((s) => s.id));
      for (const id of ok) deleted.push(id);
      for (const f of res?.failed ?? []) {
        const [code, sub] = codesOf(f);
        if (code === 400 && sub === goneSubcode) gone.push(f.id);
        else failed.set(f.id, `${code}/${sub} ${f.error?.msg ?? 'refused'}`.trim());
      }
      for (const id of slice) if (!ok.has(id) && !failed.has(id) && !gone.includes(id)) failed.set(id, 'not in the server answer');
    } catch (err) {
      const e = apiErrorOf(err);
      // a batch call answers "invalid id" for the whole call when every id is unknown
      if (e?.code === 400 && e.subcode === goneSubcode) gone.push(...slice);
      else for (const id of slice) failed.set(id, errorMessage(err));
    }
  }
  return { deleted, gone, failed };
}

interface UserRow {
  id: string;
  system_tags?: string[];
  models?: { input?: Array<{ model?: string }> };
}

/** Deferred models whose other users are all gone become ordinary deletions; the others wait or stay. */
async function resolveDeferred(
  ctx: ExecContext,
  deferred: JournalDeferred[],
): Promise<{ ready: JournalModel[]; waiting: JournalDeferred[] }> {
  if (deferred.length === 0) return { ready: [], waiting: [] };
  const ids = deferred.map((d) => d.id);
  const users = await ctx.limit(() =>
    listAllChunked<UserRow>(ctx.api, 'tasks.get_all', { only_fields: ['id', 'system_tags', 'models.input'], search_hidden: true }, 'tasks', 'models.input.model', ids),
  );
  const usersOf = new Map<string, UserRow[]>();
  for (const u of users) for (const ref of u.models?.input ?? []) if (ref?.model) usersOf.set(ref.model, [...(usersOf.get(ref.model) ?? []), u]);

  const free: JournalDeferred[] = [];
  const waiting: JournalDeferred[] = [];
  for (const d of deferred) {
    const us = usersOf.get(d.id) ?? [];
    if (us.length === 0) free.push(d);
    else if (us.some((u) => !(u.system_tags ?? []).includes('archived'))) {
      addKeptModel(ctx.report, { id: d.id, owner: d.owner, reason: `used as input by task ${us.map((u) => u.id).join(', ')}` });
    } else waiting.push({ ...d, waitingFor: us.map((u) => u.id) });
  }
  if (free.length === 0) return { ready: [], waiting };

  // Published since planned: stays. A file is deleted only from the owner's folder and when no
  // model outside these ones points there (any spelling), nor anything the pass keeps.
  const freeIds = new Set(free.map((d) => d.id));
  const [rows, pointing] = await Promise.all([
    ctx.limit(() =>
      listAllChunked<{ id: string; ready?: boolean }>(ctx.api, 'models.get_all', { only_fields: ['id', 'ready'] }, 'models', 'id', [...freeIds]),
    ),
    ctx.limit(() => modelsPointingInto(ctx.api, free.map((d) => d.owner).filter((o): o is string => !!o))),
  ]);
  const published = new Set(rows.filter((r) => r.ready).map((r) => r.id));
  const held = new ReferenceIndex(ctx.hints ?? ctx.refs?.hints ?? {}, true);
  const ready: JournalModel[] = [];
  try {
    for (const m of pointing) if (m.uri && !freeIds.has(m.id)) held.add(m.uri, NO_OWNER);
    for (const d of free) {
      if (published.has(d.id) && !(ctx.rules.forceDelete && ctx.rules.deletePublishedModels)) {
        addKeptModel(ctx.report, { id: d.id, owner: d.owner, reason: 'published since it was planned' });
        continue;
      }
      let why: string | undefined;
      if (d.uri) {
        if (!d.owner || !isOwnedBy(d.uri, d.owner, held.hints)) why = `outside the folder of task ${d.owner ?? '?'}: not ours to delete`;
        else if (held.ownerOf(d.uri) !== undefined) why = 'another model points to it';
        else if (ctx.refs?.ownerOf(d.uri, freeIds) !== undefined) why = `still used by ${ctx.refs.describe(ctx.refs.ownerOf(d.uri, freeIds)!)}`;
        if (why) addKeptFile(ctx.report, d.uri, why);
      }
      ready.push({ id: d.id, owner: d.owner, file: d.uri && !why ? d.uri : undefined });
    }
  } finally {
    held.close();
  }
  return { ready, waiting };
}

/**
 * Removes the task folders that may go whole; returns the outcome of each listed file inside them
 * (deleted or missing with its folder, failed when the folder could not be removed). Files of a
 * folder the storage refused (a file server without delete_many, another backend) are not in it:
 * they go file by file.
 */
async function removeFolders(ctx: ExecContext, input: FolderInput): Promise<Map<string, FileOutcome>> {
  const out = new Map<string, FileOutcome>();
  if (!ctx.refs || !ctx.storage.deleteFolders || input.judged.length === 0) return out;
  const plan = removableFolders(input);
  ctx.report.files.folders.held += plan.held;
  if (plan.remove.length === 0) return out;
  let outcomes: FileOutcome[];
  try {
    outcomes = await ctx.storage.deleteFolders(plan.remove);
  } catch (err) {
    ctx.log.debug(`Task folders left to file-by-file deletion: ${errorMessage(err)}`);
    return out;
  }
  outcomes.forEach((o, i) => {
    const folder = plan.remove[i];
    const files = plan.filesOf.get(folder) ?? [];
    if (o.status === 'refused') return;
    if (o.status === 'deleted') ctx.report.files.folders.removed++;
    if (o.status === 'failed') {
      ctx.report.files.folders.failed++;
      ctx.log.warn(`Task folder ${folder} could not be removed: ${o.reason ?? 'failed'}`);
    }
    for (const f of files) {
      out.set(f, {
        url: f,
        backend: o.backend,
        status: o.status,
        ...(o.status === 'failed' ? { reason: `its task folder could not be removed: ${o.reason ?? 'failed'}` } : {}),
      });
    }
  });
  return out;
}

export interface ExecOptions {
  /** an entry left by an earlier pass: check its tasks are still archived first */
  replay: boolean;
  /** decide deferred models now (end of pass, or replay) */
  finishDeferred: boolean;
  /** receives the ids of the tasks deleted (or found gone) */
  deleted?: Set<string>;
}

/** Runs one entry as far as it goes; rewrites or removes it; returns what is left (empty = done). */
export async function executeEntry(ctx: ExecContext, entry: JournalEntry, opts: ExecOptions): Promise<JournalEntry> {
  const { report, log } = ctx;
  let tasks: JournalTask[] = entry.tasks;
  let models: JournalModel[] = entry.models;

  // Judged again just before anything is deleted: a replayed entry may be days old, and even
  // within a pass a task can be un-archived or a model published between planning and now.
  const judged = await ctx.limit(() =>
    rejudgeEntry({ api: ctx.api, rules: ctx.rules, report, log, refs: ctx.refs, hints: ctx.hints }, entry),
  );
  ({ tasks, models } = judged);

  let deferredReady: JournalModel[] = [];
  let waiting: JournalDeferred[] = entry.deferred;
  if (opts.finishDeferred && entry.deferred.length) {
    try {
      ({ ready: deferredReady, waiting } = await resolveDeferred(ctx, entry.deferred));
    } catch (err) {
      log.warn(`Could not check the users of ${entry.deferred.length} deferred models: ${errorMessage(err)}`);
    }
  }

  // 1. Files. A task's own folder on the file server goes whole when nothing inside is needed
  // (folders.ts), its listed files with it; everything else file by file.
  const urls = new Set<string>();
  for (const t of tasks) for (const f of t.files) urls.add(f);
  for (const m of deferredReady) if (m.file) urls.add(m.file);
  const failedFiles = new Map<string, string>();
  // Something dropped at the last look is held by what the pass's index may not know (its own
  // references were left out as going): this entry's folders then go file by file.
  const viaFolders = judged.dropped > 0 ? new Map<string, FileOutcome>() : await removeFolders(ctx, {
    journaled: entry.tasks,
    judged: tasks,
    models: [...entry.models, ...entry.deferred],
    holders: judged.holders,
    goneModels: new Set([...models.map((m) => m.id), ...deferredReady.map((m) => m.id)]),
    refs: ctx.refs,
    hints: ctx.hints ?? ctx.refs?.hints ?? {},
  });
  for (const f of viaFolders.keys()) urls.delete(f);
  if (urls.size || viaFolders.size) {
    const outcomes = [...viaFolders.values(), ...(urls.size ? await ctx.storage.deleteFiles([...urls]) : [])];
    const sizes = new Map<string, number>();
    for (const t of tasks) for (const [u, n] of Object.entries(t.sizes ?? {})) sizes.set(u, n);
    for (const o of outcomes) {
      const hint = o.status === 'deleted' && o.bytes === undefined ? sizes.get(o.url) : undefined;
      addFileOutcome(report, hint === undefined ? o : { ...o, bytes: hint });
      if (o.status === 'failed') failedFiles.set(o.url, o.reason ?? 'failed');
    }
  }

  // 2. Tasks whose files are all gone (or refused: not ours to delete).
  const ready: JournalTask[] = [];
  for (const t of tasks) {
    const bad = t.files.filter((f) => failedFiles.has(f));
    if (bad.length === 0) ready.push(t);
    else {
      addFailed(report, {
        id: t.id,
        name: t.name,
        reason: `${bad.length} of its files could not be deleted (e.g. ${bad[0]}: ${failedFiles.get(bad[0])}); kept for the next pass`,
      });
    }
  }
  const doneTasks = new Set<string>();
  const leftTasks: JournalTask[] = [];
  if (ready.length) {
    const r = await deleteMany(
      ctx,
      'tasks.delete_many',
      ready.map((t) => t.id),
      { force: entry.force, delete_output_models: false, delete_external_artifacts: false, return_file_urls: false },
      101,
    );
    report.tasks.deleted += r.deleted.length;
    for (const id of [...r.deleted, ...r.gone]) (doneTasks.add(id), opts.deleted?.add(id));
    for (const t of ready) {
      const why = r.failed.get(t.id);
      if (why === undefined) continue;
      addFailed(report, { id: t.id, name: t.name, reason: `the server refused to delete it: ${why}` });
      leftTasks.push({ id: t.id, name: t.name, files: [] });
    }
  }

  // 3. Models whose owner is gone and whose file is gone.
  const candidates = [...models.filter((m) => !m.owner || doneTasks.has(m.owner) || !entry.tasks.some((t) => t.id === m.owner)), ...deferredReady];
  const deletable = candidates.filter((m) => !m.file || !failedFiles.has(m.file));
  for (const m of candidates) if (m.file && failedFiles.has(m.file)) report.models.failed++;
  const leftModels: JournalModel[] = models.filter((m) => m.owner && leftTasks.some((t) => t.id === m.owner));
  if (deletable.length) {
    const r = await deleteMany(ctx, 'models.delete_many', deletable.map((m) => m.id), { force: false, delete_external_artifacts: false }, 201);
    report.models.deleted += r.deleted.length;
    for (const m of deletable) {
      const why = r.failed.get(m.id);
      if (why === undefined) continue;
      report.models.failed++;
      log.warn(`Model ${m.id} could not be deleted: ${why}`);
      leftModels.push(m);
    }
  }

  const left: JournalEntry = { ...entry, tasks: leftTasks, models: leftModels, deferred: waiting };
  await ctx.journal.write(left);
  return left;
}
