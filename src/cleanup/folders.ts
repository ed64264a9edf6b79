/**
 * A task's own folder on the file server (`<project>/<name>.<id>/`, or a Report's `reports/<id>/`).
 * Deleting the files one by one leaves the folder tree behind (artifacts/, models/,
 * metrics/<title>/<series>/), and the real file server's only way to remove a folder is
 * `delete_many`, which removes it whole (rmtree). So when a task is about to be deleted (it passed
 * the last look), its folder goes whole, in place of its files, only when:
 * - every file of the task listed in it is still to be deleted (none kept at the last look);
 * - no model of the entry that stays (kept at the last look, still waiting for another task, kept
 *   when its users were checked) has its file inside it, nor does any other model read just now
 *   (a published model of the task stays, re-pointed, with its file);
 * - nothing was dropped from the entry at the last look (what holds a dropped task or model may not
 *   be in the pass's reference index);
 * - nothing that stays (the pass's reference index, which holds kept tasks and models) points to
 *   it, above it or into it, counting the models this entry deletes as gone.
 * Files inside it that nothing lists or references (an upload the task never registered) are the
 * task's own leftovers and go with it. Anything else goes file by file, as before.
 */
import type { JournalDeferred, JournalModel, JournalTask } from './journal.js';
import { ownerFolderOf } from './ownership.js';
import { NO_OWNER, ReferenceIndex, type KeyHints } from './references.js';

export interface FolderInput {
  /** the tasks as journaled (before the last look) */
  journaled: JournalTask[];
  /** the tasks about to be deleted, after the last look (files kept there are missing from them) */
  judged: JournalTask[];
  /** models of the entry (planned, deferred), and those this entry deletes */
  models: Array<JournalModel | JournalDeferred>;
  goneModels: ReadonlySet<string>;
  /**
   * URIs of models outside the entry pointing into its tasks' folders, read just now: the pass's
   * index leaves out the models of tasks it means to delete, and a published model of such a task
   * stays (re-pointed) with its file
   */
  holders: string[];
  refs?: ReferenceIndex;
  hints: KeyHints;
}

export interface FolderPlan {
  /** folders to remove whole */
  remove: string[];
  /** the listed files each of them holds (they go with it) */
  filesOf: Map<string, string[]>;
  /** candidate folders that stay because something inside is needed */
  held: number;
}

export function removableFolders(input: FolderInput): FolderPlan {
  const judged = new Map(input.judged.map((t) => [t.id, t]));
  const blocked = new Set<string>();
  const candidates = new Set<string>();
  const filesOf = new Map<string, string[]>();
  for (const t of input.journaled) {
    if (!judged.has(t.id)) continue;
    const kept = new Set(judged.get(t.id)!.files);
    let last: string | undefined;
    for (const f of t.files) {
      // a task's files share one folder: parse a URL only when it is not below the last one found
      const below = last !== undefined && f.startsWith(last) && !/(^|\/)(\.|%2e)/i.test(f.slice(last.length));
      const folder = below ? last : ownerFolderOf(f, t.id, input.hints);
      if (!folder) continue;
      last = folder;
      candidates.add(folder);
      if (!kept.has(f)) blocked.add(folder);
      else filesOf.set(folder, [...(filesOf.get(folder) ?? []), f]);
    }
  }
  if (candidates.size === 0) return { remove: [], filesOf, held: 0 };

  const staying = new ReferenceIndex(input.hints, true, {}, true);
  try {
    for (const m of input.models) {
      if (input.goneModels.has(m.id)) continue;
      const uri = 'waitingFor' in m ? m.uri : m.file;
      if (uri) staying.add(uri, NO_OWNER);
    }
    for (const u of input.holders) staying.add(u, NO_OWNER);
    const remove: string[] = [];
    let held = 0;
    for (const folder of candidates) {
      if (blocked.has(folder) || staying.holdsBelow(folder) || input.refs?.holdsBelow(folder, input.goneModels)) held++;
      else remove.push(folder);
    }
    return { remove, filesOf, held };
  } finally {
    staying.close();
  }
}
