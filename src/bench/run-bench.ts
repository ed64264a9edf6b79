/**
 * The benchmark: the same data set seeded on two embedded servers, then one full cleanup pass on
 * each, side by side in one run: ours (the real CLI, defaults) and a model of the official
 * algorithm's request pattern (./official-model.ts). Each side runs in its own child process.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServerCounters } from '../types/clearml.js';
import { CLI_JS, OFFICIAL_MAIN_JS, runChild, type ChildRun } from './children.js';
import { BenchCopy, type CopyParams } from './copy.js';

export type BenchSide = 'ours' | 'official';

export interface BenchParams extends CopyParams {
  latencyMs: number;
  only?: BenchSide;
  /** NODE_OPTIONS for our side only (e.g. a heap cap); none by default: ours runs with its defaults */
  oursNodeOptions?: string;
}

export interface SideMetrics {
  tasks_per_second: number;
  api_calls_per_task: number | null;
  storage_requests_per_file: number | null;
  eligible_deleted_fraction: number;
  files_left: number;
  peak_rss_mb: number | null;
  wall_s: number;
  /** CPU time the embedded server (API + file server, one thread) spent during the run: its own share of the wall time */
  server_cpu_s: number;
  /** details behind the ratios */
  eligible: number;
  tasks_deleted: number;
  files_seeded: number;
  api_calls: number;
  storage_requests: number;
  exit_code: number;
  /** the endpoints / file-server operations with the most requests */
  api_by_endpoint: Record<string, number>;
  storage_by_operation: Record<string, number>;
}

export interface BenchReport {
  speedup: number | null;
  params: Record<string, unknown>;
  ours?: SideMetrics;
  official?: SideMetrics;
}

export interface BenchIo {
  /** progress and table lines */
  say(line: string): void;
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

export async function runBench(p: BenchParams, io: BenchIo): Promise<BenchReport> {
  const sides: BenchSide[] = p.only ? [p.only] : ['ours', 'official'];
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'clearml-cleanup-bench-'));
  const copies = new Map<BenchSide, BenchCopy>();
  const seedMs: Record<string, number> = {};
  try {
    for (const side of sides) {
      const copy = await BenchCopy.start(side, path.join(tmp, side));
      copies.set(side, copy);
      io.say(`seeding the ${side} copy: ${p.tasks} tasks x (${p.artifacts} artifacts, ${p.models} models, ${p.debugImages} debug images) at 0 ms latency`);
      let last = 0;
      const t0 = Date.now();
      const seeded = await copy.seed(p, (phase, done, total) => {
        const now = Date.now();
        if (now - last < 5000 && done !== total) return;
        last = now;
        io.say(`  ${phase} ${done}/${total}`);
      });
      seedMs[side] = Date.now() - t0;
      io.say(`  seeded ${seeded.tasks.length} tasks, ${seeded.files.length} files in ${(seedMs[side] / 1000).toFixed(1)} s`);
    }

    const report: BenchReport = { speedup: null, params: {} };
    for (const side of sides) {
      const copy = copies.get(side)!;
      await copy.resetCounters();
      await copy.setLatency(p.latencyMs);
      const what = side === 'official'
        ? 'MODEL of the official cleanup_service.py request pattern'
        : `ours (clearml-cleanup run --once, defaults${p.oursNodeOptions ? `, NODE_OPTIONS=${p.oursNodeOptions}` : ''})`;
      io.say(`cleanup pass: ${what} at ${p.latencyMs} ms latency`);
      // both servers live in this process and only this side's is busy: its CPU time is the server's work
      const cpu0 = process.cpuUsage();
      const run = await runSide(side, copy, p, path.join(tmp, `${side}-work`), io);
      const cpu = process.cpuUsage(cpu0);
      await copy.setLatency(0);
      const counters = await copy.counters();
      report[side] = await measure(copy, run, counters, (cpu.user + cpu.system) / 1e6);
      if (run.exitCode !== 0) io.say(`  ${side} exited ${run.exitCode}: ${lastLines(run.stderr || run.stdout, 5)}`);
    }
    if (report.ours && report.official && report.official.tasks_per_second > 0) {
      report.speedup = round(report.ours.tasks_per_second / report.official.tasks_per_second, 1);
    }
    const seeded = copies.get(sides[0])!.seeded!;
    report.params = {
      tasks: p.tasks, artifacts: p.artifacts, models: p.models, debug_images: p.debugImages, latency_ms: p.latencyMs,
      seed: p.seed, threshold_days: p.thresholdDays, only: p.only ?? null, ours_node_options: p.oursNodeOptions ?? null,
      files_per_copy: seeded.files.length,
      data_set: 'every task archived, completed and older than the threshold; files on the embedded file server',
      official_side: 'a model of the official cleanup_service.py request pattern (src/bench/official-model.ts), not the script',
      seed_s: Object.fromEntries(Object.entries(seedMs).map(([k, v]) => [k, round(v / 1000, 1)])),
      date: new Date().toISOString(),
      machine: { nproc: os.availableParallelism(), total_mem_gb: round(os.totalmem() / 2 ** 30, 1), node: process.version, platform: `${os.platform()} ${os.release()}` },
    };
    return report;
  } finally {
    for (const c of copies.values()) await c.close().catch(() => undefined);
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

async function runSide(side: BenchSide, copy: BenchCopy, p: BenchParams, workDir: string, io: BenchIo): Promise<ChildRun> {
  await fsp.mkdir(workDir, { recursive: true });
  let lastShown = 0;
  const onLine = (l: string) => {
    const now = Date.now();
    if (now - lastShown < 10_000) return;
    lastShown = now;
    io.say(`  | ${l}`);
  };
  if (side === 'ours') {
    // the real CLI with its defaults; --force-delete because the tasks are completed, not Drafts
    const args = ['run', '--once', '--run-as-service', 'false', '--force-delete', '--delete-threshold-days', String(p.thresholdDays),
      '--state-dir', path.join(workDir, 'state')];
    const env = { ...copy.clientEnv(), ...(p.oursNodeOptions ? { NODE_OPTIONS: p.oursNodeOptions } : {}) };
    return runChild({ script: CLI_JS, args, env, workDir, onLine });
  }
  return runChild({ script: OFFICIAL_MAIN_JS, args: [String(p.thresholdDays)], env: copy.clientEnv(), workDir, onLine });
}

async function measure(copy: BenchCopy, run: ChildRun, c: ServerCounters, serverCpuS: number): Promise<SideMetrics> {
  const seeded = copy.seeded!;
  const eligible = seeded.tasks.filter((t) => t.eligible).map((t) => t.id);
  const left = await copy.tasksLeft(eligible);
  const deleted = eligible.length - left;
  const filesLeft = copy.filesLeft();
  const filesGone = seeded.files.length - filesLeft;
  const wallS = run.wallMs / 1000;
  return {
    tasks_per_second: round(deleted / wallS, 2),
    api_calls_per_task: deleted ? round(c.apiTotal / deleted, 4) : null,
    storage_requests_per_file: filesGone ? round(c.filesTotal / filesGone, 4) : null,
    eligible_deleted_fraction: eligible.length ? round(deleted / eligible.length, 4) : 0,
    files_left: filesLeft,
    peak_rss_mb: run.maxRssBytes === undefined ? null : round(run.maxRssBytes / 2 ** 20, 1),
    wall_s: round(wallS, 2),
    server_cpu_s: round(serverCpuS, 2),
    eligible: eligible.length,
    tasks_deleted: deleted,
    files_seeded: seeded.files.length,
    api_calls: c.apiTotal,
    storage_requests: c.filesTotal,
    exit_code: run.exitCode,
    api_by_endpoint: top(c.api, 12),
    storage_by_operation: top(c.files, 12),
  };
}

function top(m: Record<string, number>, n: number): Record<string, number> {
  return Object.fromEntries(Object.entries(m).sort((a, b) => b[1] - a[1]).slice(0, n));
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' / ');
}

/** The side-by-side table. */
export function formatReport(r: BenchReport): string[] {
  const sides = (['ours', 'official'] as const).filter((s) => r[s]);
  const fmt = (v: number | null | undefined, digits = 2) => (v === null || v === undefined ? '-' : v.toFixed(digits));
  const rows: Array<[string, (m: SideMetrics) => string]> = [
    ['wall time, s', (m) => fmt(m.wall_s, 2)],
    ['  of which server CPU, s', (m) => fmt(m.server_cpu_s, 2)],
    ['tasks deleted / eligible', (m) => `${m.tasks_deleted} / ${m.eligible}`],
    ['tasks per second', (m) => fmt(m.tasks_per_second, 1)],
    ['API calls per task', (m) => fmt(m.api_calls_per_task, 3)],
    ['storage requests per file', (m) => fmt(m.storage_requests_per_file, 4)],
    ['eligible deleted in one pass', (m) => fmt(m.eligible_deleted_fraction, 3)],
    ['files left (of seeded)', (m) => `${m.files_left} / ${m.files_seeded}`],
    ['peak RSS, MB', (m) => fmt(m.peak_rss_mb, 1)],
    ['exit code', (m) => String(m.exit_code)],
  ];
  const head = ['', ...sides.map((s) => (s === 'ours' ? 'ours' : 'official (model)'))];
  const body = rows.map(([label, f]) => [label, ...sides.map((s) => f(r[s]!))]);
  const widths = head.map((_, i) => Math.max(...[head, ...body].map((row) => row[i].length)));
  const line = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [line(head), ...body.map(line)];
  if (r.speedup !== null) out.push(`speedup (ours / official tasks per second): ${r.speedup}x`);
  for (const s of sides) {
    const m = r[s]!;
    out.push(`${s} requests: API ${JSON.stringify(m.api_by_endpoint)}; storage ${JSON.stringify(m.storage_by_operation)}`);
  }
  return out;
}
