import type Database from 'better-sqlite3';

/**
 * Documents of one kind: a JSON column in SQLite plus an in-memory Map loaded at start.
 * Every mutation writes its row before returning (write-through), so an answered call is on disk.
 * Callers must not mutate a returned document in place: clone, change, then put().
 */
export class DocCollection<T extends { id: string }> {
  private readonly cache = new Map<string, T>();
  private readonly upsertStmt: Database.Statement;
  private readonly deleteStmt: Database.Statement;

  constructor(
    private readonly db: Database.Database,
    readonly table: string,
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS ${table} (id TEXT PRIMARY KEY, doc TEXT NOT NULL)`);
    this.upsertStmt = db.prepare(`INSERT INTO ${table} (id, doc) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc`);
    this.deleteStmt = db.prepare(`DELETE FROM ${table} WHERE id = ?`);
    for (const row of db.prepare(`SELECT doc FROM ${table}`).iterate() as Iterable<{ doc: string }>) {
      const doc = JSON.parse(row.doc) as T;
      this.cache.set(doc.id, doc);
    }
  }

  get(id: string): T | undefined {
    return this.cache.get(id);
  }

  has(id: string): boolean {
    return this.cache.has(id);
  }

  get size(): number {
    return this.cache.size;
  }

  values(): IterableIterator<T> {
    return this.cache.values();
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this.cache.values();
  }

  put(doc: T): void {
    this.upsertStmt.run(doc.id, JSON.stringify(doc));
    this.cache.set(doc.id, doc);
  }

  delete(id: string): boolean {
    this.deleteStmt.run(id);
    return this.cache.delete(id);
  }

  /** Runs fn in one SQLite transaction (many puts, one fsync point). */
  transaction<R>(fn: () => R): R {
    return this.db.transaction(fn)();
  }
}
