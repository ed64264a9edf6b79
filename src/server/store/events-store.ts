import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { EventsStoreApi } from '../api/service.js';

/**
 * Task events (logs, scalars, debug images, plots) in SQLite, one row per event: the searchable
 * fields in indexed columns, the event as sent in `doc` (JSON). Sized for millions of rows:
 * every query walks an index, batches run in one transaction, statements are prepared once.
 */

/** An event ready to store: the service has already checked and completed it. */
export interface NewEvent {
  task: string;
  type: string;
  metric: string;
  variant: string;
  iter: number | null;
  timestamp: number;
  url: string | null;
  modelEvent: boolean;
  /** identity of a non-log event: a second event with the same key replaces the first */
  dedupKey: string | null;
  doc: Record<string, unknown>;
}

export interface MetricFilter {
  metric: string;
  /** empty or missing: every variant of the metric */
  variants?: string[];
}

export interface EventQuery {
  tasks: string[];
  /** missing, '' or 'all': every type */
  type?: string;
  metrics?: MetricFilter[];
  modelEvents?: boolean;
  /** only events that carry a url (debug images worth showing) */
  withUrl?: boolean;
}

/** Where a keyset page starts: strictly after `value` in the sort direction. */
export interface KeyPosition {
  value: number | null;
}

export interface StoredEvent {
  seq: number;
  task: string;
  metric: string;
  variant: string;
  iter: number | null;
  timestamp: number;
  url: string | null;
  doc: Record<string, unknown>;
}

interface Row {
  seq: number;
  task: string;
  metric: string;
  variant: string;
  iter: number | null;
  timestamp: number;
  url: string | null;
  doc: string;
}

const ALL_TYPES = new Set(['', 'all', '*']);

export class EventsStore implements EventsStoreApi {
  private readonly stmts = new Map<string, Database.Statement>();
  private readonly insertStmt: Database.Statement;
  private readonly insertAll: (events: NewEvent[]) => number;
  /** key that signs scroll ids, kept in the database so ids survive a restart */
  readonly scrollKey: Buffer;

  constructor(private readonly db: Database.Database) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY,
        task TEXT NOT NULL,
        type TEXT NOT NULL,
        metric TEXT NOT NULL DEFAULT '',
        variant TEXT NOT NULL DEFAULT '',
        iter INTEGER,
        timestamp INTEGER NOT NULL,
        url TEXT,
        model_event INTEGER NOT NULL DEFAULT 0,
        dedup TEXT,
        doc TEXT NOT NULL
      );
      CREATE UNIQUE INDEX IF NOT EXISTS events_dedup ON events(dedup);
      CREATE INDEX IF NOT EXISTS events_task_iter ON events(task, iter, seq);
      CREATE INDEX IF NOT EXISTS events_task_type_iter ON events(task, type, iter, seq);
      CREATE INDEX IF NOT EXISTS events_task_type_metric ON events(task, type, metric, variant, iter);
      CREATE INDEX IF NOT EXISTS events_task_type_ts ON events(task, type, timestamp, seq);
      CREATE INDEX IF NOT EXISTS events_url ON events(url) WHERE url IS NOT NULL;
      CREATE TABLE IF NOT EXISTS events_meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
    `);
    db.prepare(`INSERT OR IGNORE INTO events_meta(name, value) VALUES ('scroll_key', ?)`).run(randomBytes(32));
    this.scrollKey = (db.prepare(`SELECT value FROM events_meta WHERE name = 'scroll_key'`).get() as { value: Buffer })
      .value;

    this.insertStmt = db.prepare(`
      INSERT INTO events (task, type, metric, variant, iter, timestamp, url, model_event, dedup, doc)
      VALUES (@task, @type, @metric, @variant, @iter, @timestamp, @url, @model_event, @dedup, @doc)
      ON CONFLICT(dedup) DO UPDATE SET
        task = excluded.task, type = excluded.type, metric = excluded.metric, variant = excluded.variant,
        iter = excluded.iter, timestamp = excluded.timestamp, url = excluded.url,
        model_event = excluded.model_event, doc = excluded.doc`);
    this.insertAll = db.transaction((events: NewEvent[]) => {
      for (const e of events) {
        this.insertStmt.run({
          task: e.task,
          type: e.type,
          metric: e.metric,
          variant: e.variant,
          iter: e.iter,
          timestamp: e.timestamp,
          url: e.url,
          model_event: e.modelEvent ? 1 : 0,
          dedup: e.dedupKey,
          doc: JSON.stringify(e.doc),
        });
      }
      return events.length;
    });
  }

  /** Stores (or replaces, by dedup key) the events in one transaction; returns how many. */
  add(events: NewEvent[]): number {
    return events.length ? this.insertAll(events) : 0;
  }

  deleteForTask(taskId: string): number {
    return this.stmt(`DELETE FROM events WHERE task = ?`).run(taskId).changes;
  }

  /** Log events of a task older than `beforeMs` (all if missing), optionally by metric. */
  deleteLogs(
    taskId: string,
    opts: { beforeMs?: number; includeMetrics?: string[]; excludeMetrics?: string[] } = {},
  ): number {
    const where = [`task = ?`, `type = 'log'`];
    const params: unknown[] = [taskId];
    if (opts.beforeMs !== undefined) {
      where.push(`timestamp < ?`);
      params.push(opts.beforeMs);
    }
    if (opts.includeMetrics?.length) {
      where.push(`metric IN (${marks(opts.includeMetrics.length)})`);
      params.push(...opts.includeMetrics);
    }
    if (opts.excludeMetrics?.length) {
      where.push(`metric NOT IN (${marks(opts.excludeMetrics.length)})`);
      params.push(...opts.excludeMetrics);
    }
    return this.stmt(`DELETE FROM events WHERE ${where.join(' AND ')}`).run(...params).changes;
  }

  count(q: EventQuery): number {
    const { sql, params } = where(q);
    return (this.stmt(`SELECT COUNT(*) AS n FROM events WHERE ${sql}`).get(...params) as { n: number }).n;
  }

  /**
   * One page ordered by `key` (iter or timestamp), starting after `from`, then every further event
   * sharing the last key value (up to `tailCap`), so paging on that value alone loses nothing.
   * NULL keys sort first ascending and last descending (SQLite's order).
   */
  pageByKey(
    q: EventQuery,
    key: 'iter' | 'timestamp',
    desc: boolean,
    from: KeyPosition | undefined,
    limit: number,
    tailCap = 10_000,
  ): StoredEvent[] {
    const base = where(q);
    let sql = base.sql;
    const params = [...base.params];
    if (from) {
      if (from.value === null) {
        // the NULL group was already returned: asc continues with the numbers, desc is done
        if (desc) return [];
        sql += ` AND ${key} IS NOT NULL`;
      } else {
        sql += desc ? ` AND (${key} < ? OR ${key} IS NULL)` : ` AND ${key} > ?`;
        params.push(from.value);
      }
    }
    const dir = desc ? 'DESC' : 'ASC';
    const rows = this.stmt(
      `SELECT seq, task, metric, variant, iter, timestamp, url, doc FROM events WHERE ${sql}
       ORDER BY ${key} ${dir}, seq ${dir} LIMIT ?`,
    ).all(...params, limit) as Row[];
    if (!rows.length) return [];
    const last = rows[rows.length - 1][key];
    const seen = new Set(rows.map((r) => r.seq));
    const tailWhere = last === null ? `${key} IS NULL` : `${key} = ?`;
    const tail = this.stmt(
      `SELECT seq, task, metric, variant, iter, timestamp, url, doc FROM events WHERE ${base.sql} AND ${tailWhere}
       ORDER BY seq ${dir} LIMIT ?`,
    ).all(...base.params, ...(last === null ? [] : [last]), tailCap) as Row[];
    for (const r of tail) if (!seen.has(r.seq)) rows.push(r);
    return rows.map(toEvent);
  }

  /** Metric names per task, ascending, for events of the type with an iteration above the single-value slot. */
  metricsPerTask(tasks: string[], type: string | undefined): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const task of tasks) {
      const { sql, params } = where({ tasks: [task], type });
      const rows = this.stmt(
        `SELECT DISTINCT metric FROM events WHERE ${sql} AND iter > -2147483648 ORDER BY metric`,
      ).all(...params) as Array<{ metric: string }>;
      out.set(task, rows.map((r) => r.metric));
    }
    return out;
  }

  /** metric -> sorted variants, for the events of the query. */
  metricVariants(q: EventQuery): Map<string, string[]> {
    const { sql, params } = where(q);
    const rows = this.stmt(
      `SELECT DISTINCT metric, variant FROM events WHERE ${sql} ORDER BY metric, variant`,
    ).all(...params) as Array<{ metric: string; variant: string }>;
    const out = new Map<string, string[]>();
    for (const r of rows) {
      const list = out.get(r.metric) ?? [];
      list.push(r.variant);
      out.set(r.metric, list);
    }
    return out;
  }

  /** For each metric/variant: newest event time, and the url with the highest iteration with the iterations using it. */
  variantStats(q: EventQuery): Array<{ metric: string; variant: string; lastTimestamp: number; urlIters: number[] }> {
    const { sql, params } = where(q);
    const rows = this.stmt(
      `SELECT metric, variant, MAX(timestamp) AS ts FROM events WHERE ${sql} GROUP BY metric, variant ORDER BY metric, variant`,
    ).all(...params) as Array<{ metric: string; variant: string; ts: number }>;
    return rows.map((r) => {
      const top = this.stmt(
        `SELECT url FROM events WHERE ${sql} AND metric = ? AND variant = ? AND url IS NOT NULL
         ORDER BY iter DESC, url DESC LIMIT 1`,
      ).get(...params, r.metric, r.variant) as { url: string } | undefined;
      let urlIters: number[] = [];
      if (top) {
        urlIters = (
          this.stmt(
            `SELECT iter FROM events WHERE ${sql} AND metric = ? AND variant = ? AND url = ? AND iter IS NOT NULL
             ORDER BY iter DESC LIMIT 2`,
          ).all(...params, r.metric, r.variant, top.url) as Array<{ iter: number }>
        ).map((x) => x.iter);
      }
      return { metric: r.metric, variant: r.variant, lastTimestamp: r.ts, urlIters };
    });
  }

  /** Up to `limit` distinct iterations, nearest first in the direction, strictly beyond `beyond`. */
  distinctIters(q: EventQuery, desc: boolean, beyond: number | null, limit: number): number[] {
    const base = where(q);
    let sql = `${base.sql} AND iter IS NOT NULL`;
    const params = [...base.params];
    if (beyond !== null) {
      sql += desc ? ` AND iter < ?` : ` AND iter > ?`;
      params.push(beyond);
    }
    const dir = desc ? 'DESC' : 'ASC';
    return (
      this.stmt(`SELECT DISTINCT iter FROM events WHERE ${sql} ORDER BY iter ${dir} LIMIT ?`).all(...params, limit) as Array<{
        iter: number;
      }>
    ).map((r) => r.iter);
  }

  /** Every event of the query at the given iterations. */
  atIters(q: EventQuery, iters: number[]): StoredEvent[] {
    if (!iters.length) return [];
    const base = where(q);
    return (
      this.stmt(
        `SELECT seq, task, metric, variant, iter, timestamp, url, doc FROM events
         WHERE ${base.sql} AND iter IN (${marks(iters.length)}) ORDER BY iter DESC, metric, variant, seq`,
      ).all(...base.params, ...iters) as Row[]
    ).map(toEvent);
  }

  /** The newest `perVariant` events (by iteration) of each metric/variant. */
  latestPerVariant(q: EventQuery, perVariant: number): StoredEvent[] {
    const base = where(q);
    return (
      this.stmt(
        `SELECT seq, task, metric, variant, iter, timestamp, url, doc FROM (
           SELECT *, ROW_NUMBER() OVER (PARTITION BY task, metric, variant ORDER BY iter DESC, seq DESC) AS rn
           FROM events WHERE ${base.sql}
         ) WHERE rn <= ? ORDER BY task, metric, variant, iter DESC`,
      ).all(...base.params, perVariant) as Row[]
    ).map(toEvent);
  }

  /** Every event of the query, in (metric, variant, iter, seq) order; for the small scalar views. */
  all(q: EventQuery, limit = 1_000_000): StoredEvent[] {
    const base = where(q);
    return (
      this.stmt(
        `SELECT seq, task, metric, variant, iter, timestamp, url, doc FROM events WHERE ${base.sql}
         ORDER BY metric, variant, iter, seq LIMIT ?`,
      ).all(...base.params, limit) as Row[]
    ).map(toEvent);
  }

  /** Average value per iteration for each scalar metric/variant of a task. */
  scalarAverages(q: EventQuery): Array<{ metric: string; variant: string; iter: number; avg: number }> {
    const base = where({ ...q, type: 'training_stats_scalar' });
    return this.stmt(
      `SELECT metric, variant, iter, AVG(json_extract(doc, '$.value')) AS avg FROM events
       WHERE ${base.sql} AND iter IS NOT NULL AND iter > -2147483648
       GROUP BY metric, variant, iter ORDER BY metric, variant, iter`,
    ).all(...base.params) as Array<{ metric: string; variant: string; iter: number; avg: number }>;
  }

  /** Per scalar metric/variant, the value at the highest iteration among the positive values. */
  latestScalars(task: string): Array<{ metric: string; variant: string; value: number; written: string | null }> {
    return this.stmt(
      `SELECT metric, variant, value, written FROM (
         SELECT metric, variant, json_extract(doc, '$.value') AS value, json_extract(doc, '$."@timestamp"') AS written,
           ROW_NUMBER() OVER (PARTITION BY metric, variant ORDER BY iter DESC, seq DESC) AS rn
         FROM events WHERE task = ? AND type = 'training_stats_scalar' AND json_extract(doc, '$.value') > 0
       ) WHERE rn = 1 ORDER BY metric, variant`,
    ).all(task) as Array<{ metric: string; variant: string; value: number; written: string | null }>;
  }

  /** Highest iteration reported by the task in any event, or null. */
  lastIter(task: string): number | null {
    return (this.stmt(`SELECT MAX(iter) AS m FROM events WHERE task = ?`).get(task) as { m: number | null }).m;
  }

  private stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }
}

function marks(n: number): string {
  return new Array(n).fill('?').join(', ');
}

function where(q: EventQuery): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (q.tasks.length === 1) {
    parts.push(`task = ?`);
  } else {
    parts.push(`task IN (${marks(Math.max(q.tasks.length, 1))})`);
    if (!q.tasks.length) params.push('');
  }
  params.push(...q.tasks);
  if (q.type !== undefined && !ALL_TYPES.has(q.type)) {
    parts.push(`type = ?`);
    params.push(q.type);
  }
  if (q.modelEvents !== undefined) {
    parts.push(`model_event = ?`);
    params.push(q.modelEvents ? 1 : 0);
  }
  if (q.withUrl) parts.push(`url IS NOT NULL`);
  if (q.metrics?.length) {
    const ors: string[] = [];
    for (const m of q.metrics) {
      if (m.variants?.length) {
        ors.push(`(metric = ? AND variant IN (${marks(m.variants.length)}))`);
        params.push(m.metric, ...m.variants);
      } else {
        ors.push(`metric = ?`);
        params.push(m.metric);
      }
    }
    parts.push(`(${ors.join(' OR ')})`);
  }
  return { sql: parts.join(' AND '), params };
}

function toEvent(r: Row): StoredEvent {
  return {
    seq: r.seq,
    task: r.task,
    metric: r.metric,
    variant: r.variant,
    iter: r.iter,
    timestamp: r.timestamp,
    url: r.url,
    doc: JSON.parse(r.doc) as Record<string, unknown>,
  };
}
