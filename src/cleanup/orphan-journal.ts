/**
 * The orphan sweep's journal: each batch of files is written down (fsync + atomic rename) before it
 * is deleted and removed after, so an interrupted sweep leaves a record of what it was doing. An
 * entry needs no replay: its files, if still there, are listed and judged again by the next sweep
 * (and kept if something started pointing to them meanwhile).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeJsonAtomic } from './atomic-write.js';
import { newEntryId } from './journal.js';

export interface OrphanEntry {
  version: 1;
  kind: 'orphans';
  id: string;
  createdAt: string;
  files: string[];
}

export class OrphanJournal {
  readonly dir: string;
  private seq = 0;
  private readonly mine = new Set<string>();

  constructor(stateDir: string) {
    this.dir = path.join(stateDir, 'orphans');
  }

  async write(files: string[]): Promise<string> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const now = new Date();
    const entry: OrphanEntry = { version: 1, kind: 'orphans', id: newEntryId(now, this.seq++), createdAt: now.toISOString(), files };
    await writeJsonAtomic(path.join(this.dir, `${entry.id}.json`), entry);
    this.mine.add(entry.id);
    return entry.id;
  }

  /** The batch is over; files that failed are found again by the next sweep. */
  async finish(id: string, _failed: string[]): Promise<void> {
    await fs.rm(path.join(this.dir, `${id}.json`), { force: true });
    this.mine.delete(id);
  }

  /** Entry ids left by earlier sweeps. */
  async list(): Promise<string[]> {
    try {
      return (await fs.readdir(this.dir)).filter((n) => n.endsWith('.json') && !this.mine.has(n.slice(0, -5)));
    } catch {
      return [];
    }
  }

  /** After a complete sweep the entries of earlier ones are settled: their files were judged again. */
  async clearStale(): Promise<void> {
    for (const n of await this.list()) await fs.rm(path.join(this.dir, n), { force: true });
  }
}
