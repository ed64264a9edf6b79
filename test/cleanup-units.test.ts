import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { archiveTime, cutoffDate, parseServerDate, serverIso } from '../src/cleanup/dates.js';
import { judge, isExampleTask, type Rules } from '../src/cleanup/select.js';
import { urlsOfEvent } from '../src/cleanup/events.js';
import { artifactUrls } from '../src/cleanup/plan.js';
import { Journal, newEntryId, type JournalEntry } from '../src/cleanup/journal.js';
import { acquireLock, LockBusyError } from '../src/cleanup/lock.js';
import { hostname } from 'node:os';
import { utimes } from 'node:fs/promises';
import { runLoop } from '../src/cleanup/loop.js';
import { newReport, addFileOutcome, addSkipped, summarize } from '../src/cleanup/report.js';
import { resolveOptions } from '../src/cleanup/options.js';
import { pyFloat } from '../src/commands/run.js';

describe('dates', () => {
  test('cutoff takes fractional days and refuses nonsense', () => {
    const now = new Date('2026-01-31T12:00:00Z');
    expect(cutoffDate(now, 1.5).toISOString()).toBe('2026-01-30T00:00:00.000Z');
    expect(() => cutoffDate(now, -1)).toThrow(/non-negative/);
    expect(() => cutoffDate(now, NaN)).toThrow();
  });

  test('server ISO has no zone and round-trips as UTC', () => {
    const d = new Date('2026-03-01T04:05:06.789Z');
    expect(serverIso(d)).toBe('2026-03-01T04:05:06.789');
    expect(parseServerDate(serverIso(d))).toBe(d.getTime());
  });

  test('naive server dates are UTC, not local time; zones are honoured', () => {
    expect(parseServerDate('2024-05-01T00:00:00')).toBe(Date.UTC(2024, 4, 1));
    expect(parseServerDate('2024-05-01 00:00:00.123000')).toBe(Date.UTC(2024, 4, 1, 0, 0, 0, 123));
    expect(parseServerDate('2024-05-01T02:00:00+02:00')).toBe(Date.UTC(2024, 4, 1));
    expect(parseServerDate('garbage')).toBeUndefined();
    expect(parseServerDate(null)).toBeUndefined();
  });

  test('archive time falls back from last_change to status_changed to last_update', () => {
    expect(archiveTime({ last_change: '2024-01-03T00:00:00', status_changed: '2024-01-02T00:00:00' })?.field).toBe('last_change');
    expect(archiveTime({ status_changed: '2024-01-02T00:00:00', last_update: '2024-01-05T00:00:00' })?.field).toBe('status_changed');
    const draft = archiveTime({ status_changed: null, last_update: '2024-01-05T00:00:00' });
    expect(draft).toEqual({ at: Date.UTC(2024, 0, 5), field: 'last_update' });
    expect(archiveTime({})).toBeUndefined();
  });
});

describe('rules', () => {
  const cutoff = new Date('2026-01-01T00:00:00Z');
  const off: Rules = { cutoff, forceDelete: false };
  const on: Rules = { cutoff, forceDelete: true };
  const old = '2025-11-01T00:00:00';
  const base = { id: 't1', name: 'n', system_tags: ['archived'], last_change: old, company: 'c1' };

  test('an old archived Draft is deleted, with or without force', () => {
    expect(judge({ ...base, status: 'created' }, off).kind).toBe('delete');
    expect(judge({ ...base, status: 'created' }, on).kind).toBe('delete');
  });

  test('never a task that is not archived, nor one archived too recently', () => {
    expect(judge({ ...base, status: 'created', system_tags: [] }, on)).toEqual({ kind: 'ineligible', why: 'not archived' });
    expect(judge({ ...base, status: 'created', last_change: '2026-01-01T00:00:01' }, on).kind).toBe('ineligible');
  });

  test('force_delete decides for every status other than Draft, published included', () => {
    for (const status of ['completed', 'failed', 'stopped', 'published', 'in_progress']) {
      const v = judge({ ...base, status }, off);
      expect(v).toEqual({ kind: 'skip', why: `status ${status} is not Draft and force_delete is off`, rule: 'status' });
      expect(judge({ ...base, status }, on).kind).toBe('delete');
    }
  });

  test('a never-started Draft without last_change or status_changed is matched on last_update', () => {
    const v = judge({ id: 'd', status: 'created', system_tags: ['archived'], status_changed: null, last_update: old }, off);
    expect(v.kind).toBe('delete');
    if (v.kind === 'delete') expect(v.candidate.dateField).toBe('last_update');
  });

  test('example tasks and our own task are kept', () => {
    expect(isExampleTask({ company: '' })).toBe(true);
    expect(isExampleTask({ company: 'x', system_tags: ['example'] })).toBe(true);
    expect(judge({ ...base, company: '', status: 'created' }, on).kind).toBe('skip');
    expect(judge({ ...base, status: 'created' }, { ...on, protectedIds: new Set(['t1']) }).kind).toBe('skip');
  });
});

describe('urls', () => {
  test('debug image events give their url', () => {
    expect(urlsOfEvent({ url: 'http://f/a.png' }, 'debug')).toEqual(['http://f/a.png']);
    expect(urlsOfEvent({}, 'debug')).toEqual([]);
  });

  test('plot events give every layout image and source_urls, never data: URLs', () => {
    const plot_str = JSON.stringify({
      layout: { images: [{ source: 'http://f/p1.png' }, { source: 'data:image/png;base64,xx' }, { source: 's3://b/p2.png' }] },
    });
    expect(urlsOfEvent({ plot_str, source_urls: ['http://f/p3.png'] }, 'plot').sort()).toEqual(
      ['http://f/p1.png', 'http://f/p3.png', 's3://b/p2.png'].sort(),
    );
    expect(urlsOfEvent({ plot_str: '{not json source' }, 'plot')).toEqual([]);
  });

  test('artifacts: output (or unspecified) mode with a URI; input artifacts are not ours', () => {
    const urls = artifactUrls({
      id: 't',
      execution: {
        artifacts: [
          { key: 'a', mode: 'output', uri: 'http://f/a.bin' },
          { key: 'b', uri: 's3://b/x' },
          { key: 'c', mode: 'input', uri: 'http://f/c.bin' },
          { key: 'd', mode: 'output' },
        ],
      },
    });
    expect(urls).toEqual(['http://f/a.bin', 's3://b/x']);
  });
});

describe('journal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'journal-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const entry = (id: string): JournalEntry => ({
    version: 1,
    id,
    createdAt: new Date().toISOString(),
    force: false,
    tasks: [{ id: 't1', files: ['http://f/a'] }],
    models: [{ id: 'm1', owner: 't1', file: 'http://f/m' }],
    deferred: [],
  });

  test('entries are written durably, listed oldest first, rewritten, and removed when empty', async () => {
    const j = new Journal(dir);
    await j.init();
    const a = newEntryId(new Date('2026-01-01T00:00:00Z'), 0);
    const b = newEntryId(new Date('2026-01-01T00:00:01Z'), 1);
    await j.write(entry(b));
    await j.write(entry(a));
    expect((await j.list()).entries.map((e) => e.id)).toEqual([a, b]);
    await j.write({ ...entry(a), tasks: [], models: [] });
    expect((await j.list()).entries.map((e) => e.id)).toEqual([b]);
    await j.remove(b);
    expect((await j.list()).entries).toEqual([]);
    expect((await readdir(path.join(dir, 'journal'))).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  test('an unreadable entry is reported, not dropped; a stray temp file is cleaned', async () => {
    const j = new Journal(dir);
    await j.init();
    await writeFile(path.join(j.dir, 'x.json'), '{broken');
    await writeFile(path.join(j.dir, 'y.json.123.tmp'), '{}');
    const { entries, unreadable } = await j.list();
    expect(entries).toEqual([]);
    expect(unreadable).toEqual([path.join(j.dir, 'x.json')]);
    expect(await readdir(j.dir)).toEqual(['x.json']);
  });

  test('a missing journal directory is an empty journal', async () => {
    expect((await new Journal(path.join(dir, 'nope')).list()).entries).toEqual([]);
  });
});

describe('state dir lock', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'lock-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const holder = (pid: number, host = hostname()) =>
    writeFile(path.join(dir, 'lock'), JSON.stringify({ pid, host, startedAt: '2026-01-01T00:00:00Z' }));

  test('one holder at a time; released on release()', async () => {
    const a = await acquireLock(dir);
    await expect(acquireLock(dir)).rejects.toThrow(LockBusyError);
    await a.release();
    const b = await acquireLock(dir);
    await b.release();
  });

  test('a live holder on this host blocks, with a message naming it', async () => {
    await holder(process.ppid);
    await expect(acquireLock(dir)).rejects.toThrow(new RegExp(`pid ${process.ppid} on ${hostname()}`));
  });

  test('a dead holder, our own pid (reused after a restart) or an old lock are taken over', async () => {
    await holder(2 ** 22 + 12345);
    await (await acquireLock(dir)).release();
    await holder(process.pid);
    await (await acquireLock(dir)).release();
    await holder(process.ppid, 'another-host');
    await expect(acquireLock(dir)).rejects.toThrow(LockBusyError);
    const old = new Date(Date.now() - 3 * 3600_000);
    await utimes(path.join(dir, 'lock'), old, old);
    await (await acquireLock(dir)).release();
  });
});

describe('runLoop', () => {
  test('sleeps the rest of the period, ticks while asleep, and a long pass starts the next at once', async () => {
    let clock = 0;
    const sleeps: number[] = [];
    let ticks = 0;
    let passes = 0;
    const ac = new AbortController();
    const durations = [1000, 90_000_000, 500]; // the second pass is longer than the 1-day period
    const last = await runLoop<number>({
      periodDays: 1,
      signal: ac.signal,
      now: () => clock,
      tickMs: 40_000_000,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
      onTick: () => {
        ticks++;
      },
      runPass: async () => {
        clock += durations[passes] ?? 0;
        passes++;
        if (passes === 3) ac.abort();
        return passes;
      },
    });
    expect(last).toBe(3);
    // first period: 86,400,000 - 1,000 left, in ticks of at most 40,000,000
    expect(sleeps.slice(0, 3)).toEqual([40_000_000, 40_000_000, 6_399_000]);
    expect(sleeps.length).toBe(3); // no sleep after the long pass, none after abort
    expect(ticks).toBeGreaterThanOrEqual(3);
  });

  test('--once runs one pass; a pass that throws is reported and the loop goes on', async () => {
    let n = 0;
    const errors: unknown[] = [];
    const ac = new AbortController();
    await runLoop({
      periodDays: 0.000001,
      signal: ac.signal,
      sleep: async () => {},
      onPassError: (e) => errors.push(e),
      runPass: async () => {
        n++;
        if (n === 1) throw new Error('boom');
        ac.abort();
        return n;
      },
    });
    expect(n).toBe(2);
    expect(errors).toHaveLength(1);
    let once = 0;
    await runLoop({ periodDays: 1, once: true, runPass: async () => ++once });
    expect(once).toBe(1);
  });
});

describe('report', () => {
  test('counts per backend with bytes, caps lists, and summarizes in a few lines', () => {
    const r = newReport({ startedAt: new Date(), dryRun: false, forceDelete: false, deleteThresholdDays: 30, cutoff: new Date(), listCap: 2 });
    addFileOutcome(r, { url: 'a', backend: 'fileserver', status: 'deleted', bytes: 2048 });
    addFileOutcome(r, { url: 'b', backend: 'fileserver', status: 'missing' });
    addFileOutcome(r, { url: 'c', backend: 's3', status: 'refused', reason: 'not-allowed' });
    for (let i = 0; i < 5; i++) addSkipped(r, { id: `${i}`.padStart(32, '0'), reason: 'status completed is not Draft and force_delete is off' });
    expect(r.files.byBackend.fileserver).toEqual({ deleted: 1, missing: 1, failed: 0, refused: 0, bytes: 2048 });
    expect(r.files.total.refused).toBe(1);
    expect(r.tasks.skipped).toBe(5);
    expect(r.tasks.skippedList).toHaveLength(2);
    const text = summarize(r).join('\n');
    expect(text).toMatch(/skipped 5: status completed is not Draft/);
    expect(text).toMatch(/files on fileserver: 1 deleted \(2.0 KB\), 1 already gone/);
    expect(text).toMatch(/files on s3: 0 deleted .* 1 refused by the allow-list/);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });

  test('options: a state dir is required to delete; batch size is capped at 500', () => {
    expect(() => resolveOptions({ dryRun: false })).toThrow(/state directory/);
    expect(resolveOptions({ dryRun: true, batchSize: 9999 }).batchSize).toBe(500);
    expect(pyFloat(1)).toBe('1.0');
    expect(pyFloat(0.5)).toBe('0.5');
  });
});
