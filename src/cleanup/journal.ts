/**
 * The journal: one small JSON file per batch in the state directory, written (fsync + atomic
 * rename) before anything is deleted, rewritten with what is left, removed when the batch is done.
 * A pass starts (and ends) by finishing every entry it finds, so a kill at any moment is completed
 * by the next pass: files are deleted first, then tasks, then models, and every step treats
 * "already gone" as done.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeJsonAtomic } from './atomic-write.js';

export interface JournalTask {
  id: string;
  name?: string;
  /** files still to delete before the task may go */
  files: string[];
  /** known sizes of some of those files (for the report when the backend does not tell) */
  sizes?: Record<string, number>;
  /** the rule that decided the deletion and why: the re-check before deleting carries it over */
  rule?: string;
  reason?: string;
}

export interface JournalModel {
  id: string;
  owner?: string;
  /** the model's file, when it is ours to delete (listed in its owner's files too) */
  file?: string;
}

export interface JournalDeferred {
  id: string;
  owner?: string;
  uri?: string;
  waitingFor: string[];
}

export interface JournalEntry {
  version: 1;
  id: string;
  createdAt: string;
  force: boolean;
  tasks: JournalTask[];
  models: JournalModel[];
  deferred: JournalDeferred[];
}

export function defaultStateDir(): string {
  const xdg = process.env.XDG_STATE_HOME;
  return xdg ? path.join(xdg, 'clearml-cleanup') : path.join(os.homedir(), '.clearml-cleanup', 'state');
}

export function isEmptyEntry(e: JournalEntry): boolean {
  return e.tasks.length === 0 && e.models.length === 0 && e.deferred.length === 0;
}

export class Journal {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = path.join(stateDir, 'journal');
  }

  async init(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  private file(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  /** Durable before it returns: data fsynced, renamed into place, directory fsynced. */
  async write(entry: JournalEntry): Promise<void> {
    if (isEmptyEntry(entry)) return this.remove(entry.id);
    await writeJsonAtomic(this.file(entry.id), entry);
    await this.syncDir();
  }

  async remove(id: string): Promise<void> {
    await fs.rm(this.file(id), { force: true });
    await this.syncDir();
  }

  /** Entries oldest first; unreadable files are reported, never silently dropped. */
  async list(): Promise<{ entries: JournalEntry[]; unreadable: string[] }> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], unreadable: [] };
      throw err;
    }
    const entries: JournalEntry[] = [];
    const unreadable: string[] = [];
    for (const n of names.filter((n) => n.endsWith('.json')).sort()) {
      try {
        const e = JSON.parse(await fs.readFile(path.join(this.dir, n), 'utf8')) as JournalEntry;
        if (e?.version !== 1 || !Array.isArray(e.tasks)) throw new Error('not a journal entry');
        e.models ??= [];
        e.deferred ??= [];
        entries.push(e);
      } catch {
        unreadable.push(path.join(this.dir, n));
      }
    }
    // leftovers of a write killed before its rename carry nothing that was acted on
    for (const n of names.filter((n) => n.endsWith('.tmp'))) await fs.rm(path.join(this.dir, n), { force: true });
    return { entries, unreadable };
  }

  private async syncDir(): Promise<void> {
    let fh: fs.FileHandle | undefined;
    try {
      fh = await fs.open(this.dir, 'r');
      await fh.sync();
    } catch {
      /* some filesystems cannot fsync a directory; the rename is still atomic */
    } finally {
      await fh?.close();
    }
  }
}

/** Sortable, unique enough for one state dir: time then a random tail. */
export function newEntryId(now: Date, seq: number): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '').replace('T', '-').replace('Z', '');
  return `${stamp}-${String(seq).padStart(4, '0')}-${Math.random().toString(36).slice(2, 8)}`;
}
