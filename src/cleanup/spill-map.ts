/**
 * A string -> integer map with a fixed memory budget: it lives in a plain Map until it holds
 * `maxInMemory` keys, then moves to a SQLite file in a private temporary folder and keeps only a
 * small write buffer in memory. The reference index of `orphans` and `report` holds one key per
 * storage URL of the whole server (millions on a big one); a Map of that size costs hundreds of MB,
 * the file costs pages of disk and SQLite's bounded page cache.
 *
 * Only first writes count (setIfAbsent), as the reference index needs: the first owner of a URL wins.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';

export interface SpillMapOptions {
  /** keys kept in a plain Map before spilling to disk (default 100,000: about 10 MB of heap) */
  maxInMemory?: number;
  /** folder for the temporary database (default: the OS temp folder) */
  dir?: string;
  /** SQLite page cache, in KiB (default 16 MiB) */
  cacheKiB?: number;
}

/** Keys written to disk per transaction once spilled. */
const FLUSH_EVERY = 20_000;

type Database = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement;

export class SpillMap {
  private mem: Map<string, number> | undefined = new Map();
  /** writes since the last flush, once spilled (looked up before the file) */
  private pending = new Map<string, number>();
  private db: Database | undefined;
  private folder: string | undefined;
  private insert: Statement | undefined;
  private select: Statement | undefined;
  private count = 0;
  private readonly max: number;

  constructor(private readonly opts: SpillMapOptions = {}) {
    this.max = Math.max(1, opts.maxInMemory ?? 100_000);
  }

  /** True once the map lives on disk. */
  get spilled(): boolean {
    return this.db !== undefined;
  }

  get size(): number {
    return this.count;
  }

  /** Stores value under key unless the key is already there; true when stored. */
  setIfAbsent(key: string, value: number): boolean {
    if (this.mem) {
      if (this.mem.has(key)) return false;
      this.mem.set(key, value);
      this.count++;
      if (this.mem.size >= this.max) this.spill();
      return true;
    }
    if (this.get(key) !== undefined) return false;
    this.pending.set(key, value);
    this.count++;
    if (this.pending.size >= FLUSH_EVERY) this.flush();
    return true;
  }

  get(key: string): number | undefined {
    if (this.mem) return this.mem.get(key);
    const p = this.pending.get(key);
    if (p !== undefined) return p;
    const row = this.select!.get(key) as { v: number } | undefined;
    return row?.v;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Removes the temporary database; the map is empty afterwards. */
  close(): void {
    this.db?.close();
    this.db = undefined;
    if (this.folder) rmSync(this.folder, { recursive: true, force: true });
    this.folder = undefined;
    this.mem = new Map();
    this.pending = new Map();
    this.count = 0;
  }

  private spill(): void {
    const Sqlite = loadSqlite();
    this.folder = mkdtempSync(path.join(this.opts.dir ?? tmpdir(), 'clearml-cleanup-index-'));
    const db = new Sqlite(path.join(this.folder, 'index.sqlite'));
    // a scratch file: no journal, no fsync; it is deleted when the command ends
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('temp_store = FILE');
    db.pragma(`cache_size = -${Math.max(1024, this.opts.cacheKiB ?? 16 * 1024)}`);
    db.exec('CREATE TABLE m (k TEXT PRIMARY KEY, v INTEGER NOT NULL) WITHOUT ROWID');
    this.db = db;
    this.insert = db.prepare('INSERT OR IGNORE INTO m (k, v) VALUES (?, ?)');
    this.select = db.prepare('SELECT v FROM m WHERE k = ?');
    this.pending = this.mem!;
    this.mem = undefined;
    this.flush();
  }

  private flush(): void {
    if (!this.db || this.pending.size === 0) return;
    const rows = this.pending;
    this.pending = new Map();
    const insert = this.insert!;
    this.db.transaction(() => {
      for (const [k, v] of rows) insert.run(k, v);
    })();
  }
}

// better-sqlite3 (CommonJS, a native addon) loads on the first spill only: a small run never pays for it
const requireCjs = createRequire(import.meta.url);
let sqlite: typeof BetterSqlite3 | undefined;
function loadSqlite(): typeof BetterSqlite3 {
  if (!sqlite) sqlite = requireCjs('better-sqlite3') as typeof BetterSqlite3;
  return sqlite;
}
