import type Database from 'better-sqlite3';

/**
 * Documents of one kind: a JSON column in SQLite plus an in-memory Map loaded at start.
 * Every mutation writes its row before returning (write-through), so an answered call is on disk.
 * Callers must not mutate a returned document in place: clone, change, then put().
 */
export class DocCollection<T extends { id: string }> {
  private readonly cache = new Map<string, T>();
  private readonly indexes = new Map<string, DocIndex<T>>();
  /** position in the collection's order (first insertion), so a narrowed query answers in scan order */
  private readonly ordinals = new Map<string, number>();
  private nextOrdinal = 0;
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
      this.ordinals.set(doc.id, this.nextOrdinal++);
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
    if (!this.cache.has(doc.id)) this.ordinals.set(doc.id, this.nextOrdinal++);
    this.cache.set(doc.id, doc);
    for (const index of this.indexes.values()) index.set(doc);
  }

  delete(id: string): boolean {
    this.deleteStmt.run(id);
    for (const index of this.indexes.values()) index.remove(id);
    this.ordinals.delete(id);
    return this.cache.delete(id);
  }

  /** The documents with these ids (missing ones left out), in the order values() would give them. */
  select(ids: Iterable<string>): T[] {
    return this.inOrder(ids);
  }

  /** Whether `name` is an index of this collection. */
  hasIndex(name: string): boolean {
    return this.indexes.has(name);
  }

  /** The documents whose index `name` holds any of `keys`, in the order values() would give them. */
  lookupAny(name: string, keys: Iterable<string>): T[] {
    const index = this.indexes.get(name);
    if (!index) throw new Error(`no index ${name} on ${this.table}`);
    const ids: string[] = [];
    for (const k of keys) for (const id of index.ids(k)) ids.push(id);
    return this.inOrder(ids);
  }

  private inOrder(ids: Iterable<string>): T[] {
    const rows: Array<{ n: number; doc: T }> = [];
    const seen = new Set<string>();
    for (const id of ids) {
      if (seen.has(id)) continue;
      seen.add(id);
      const doc = this.cache.get(id);
      if (doc) rows.push({ n: this.ordinals.get(id)!, doc });
    }
    return rows.sort((a, b) => a.n - b.n).map((r) => r.doc);
  }

  /**
   * A secondary index (e.g. tasks by parent), kept up to date by put() and delete(), so a lookup
   * costs the number of matches, not a scan of the collection.
   */
  addIndex(name: string, keysOf: (doc: T) => Iterable<string>): void {
    const index = new DocIndex<T>(keysOf);
    for (const doc of this.cache.values()) index.set(doc);
    this.indexes.set(name, index);
  }

  /** The documents whose index `name` holds `key`. */
  lookup(name: string, key: string): T[] {
    const index = this.indexes.get(name);
    if (!index) throw new Error(`no index ${name} on ${this.table}`);
    const out: T[] = [];
    for (const id of index.ids(key)) {
      const doc = this.cache.get(id);
      if (doc) out.push(doc);
    }
    return out;
  }

  /** Runs fn in one SQLite transaction (many puts, one fsync point). */
  transaction<R>(fn: () => R): R {
    return this.db.transaction(fn)();
  }
}

/** key -> ids, plus each id's keys (so a document changed in place by mistake still unindexes cleanly). */
class DocIndex<T extends { id: string }> {
  private readonly byKey = new Map<string, Set<string>>();
  private readonly keysById = new Map<string, string[]>();

  constructor(private readonly keysOf: (doc: T) => Iterable<string>) {}

  set(doc: T): void {
    this.remove(doc.id);
    const keys = [...new Set(this.keysOf(doc))];
    if (!keys.length) return;
    this.keysById.set(doc.id, keys);
    for (const k of keys) {
      let ids = this.byKey.get(k);
      if (!ids) this.byKey.set(k, (ids = new Set()));
      ids.add(doc.id);
    }
  }

  remove(id: string): void {
    const keys = this.keysById.get(id);
    if (!keys) return;
    this.keysById.delete(id);
    for (const k of keys) {
      const ids = this.byKey.get(k);
      ids?.delete(id);
      if (ids && !ids.size) this.byKey.delete(k);
    }
  }

  ids(key: string): Iterable<string> {
    return this.byKey.get(key) ?? [];
  }
}
