/**
 * A deleted task's own folder on the file server (`<project>/<name>.<id>/`, or a Report's
 * `reports/<id>/`). Deleting its files leaves the folder tree behind (artifacts/, models/,
 * metrics/<title>/<series>/), and the real file server's only way to remove a folder is
 * `delete_many`, which removes it whole (rmtree). So a folder goes only when:
 * - its task was deleted (or found gone) in this entry;
 * - every file of the task listed in it is gone (none failed, refused, or kept at the last look);
 * - no model of the entry that stays (refused, still waiting, kept at the last look), nor any
 *   other model that stays and was found pointing into it at the last look, has its file inside it;
 * - nothing that stays (the pass's reference index, which holds kept tasks and models) points to
 *   it, above it or into it, counting the models deleted in this entry as gone.
 * Files inside it that nothing lists or references are the task's own leftovers and go with it.
 */
import type { JournalDeferred, JournalModel, JournalTask } from './journal.js';
import { ownerFolderOf } from './ownership.js';
import { NO_OWNER, ReferenceIndex, type KeyHints } from './references.js';

export interface FolderInput {
  /** the tasks as journaled (before the last look) */
  journaled: JournalTask[];
  /** the tasks after the last look (files kept there are missing from them) */
  judged: JournalTask[];
  /** tasks deleted or found gone */
  done: ReadonlySet<string>;
  /** files that are not gone (failed, refused) */
  notGone: ReadonlySet<string>;
  /** models of the entry (planned, deferred) and those deleted or found gone now */
  models: Array<JournalModel | JournalDeferred>;
  goneModels: ReadonlySet<string>;
  /** files of models that stay, found at the last look (models outside the entry included) */
  heldUris?: string[];
  refs?: ReferenceIndex;
  hints: KeyHints;
}

/** The folders that may be removed whole, and how many candidates stay because something is inside. */
export function removableFolders(input: FolderInput): { remove: string[]; held: number } {
  const judged = new Map(input.judged.map((t) => [t.id, t]));
  const blocked = new Set<string>();
  const candidates = new Set<string>();
  for (const t of input.journaled) {
    if (!input.done.has(t.id)) continue;
    const kept = new Set(judged.get(t.id)?.files ?? []);
    let last: string | undefined;
    for (const f of t.files) {
      // a task's files share one folder: parse a URL only when it is not below the last one found
      const below = last !== undefined && f.startsWith(last) && !/(^|\/)(\.|%2e)/i.test(f.slice(last.length));
      const folder = below ? last : ownerFolderOf(f, t.id, input.hints);
      if (!folder) continue;
      last = folder;
      candidates.add(folder);
      if (!kept.has(f) || input.notGone.has(f)) blocked.add(folder);
    }
  }
  if (candidates.size === 0) return { remove: [], held: 0 };

  const staying = new ReferenceIndex(input.hints, true, {}, true);
  try {
    for (const m of input.models) {
      if (input.goneModels.has(m.id)) continue;
      const uri = 'waitingFor' in m ? m.uri : m.file;
      if (uri) staying.add(uri, NO_OWNER);
    }
    for (const uri of input.heldUris ?? []) staying.add(uri, NO_OWNER);
    const remove: string[] = [];
    let held = 0;
    for (const folder of candidates) {
      if (blocked.has(folder) || staying.holdsBelow(folder) || input.refs?.holdsBelow(folder, input.goneModels)) held++;
      else remove.push(folder);
    }
    return { remove, held };
  } finally {
    staying.close();
  }
}
