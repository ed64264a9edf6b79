/**
 * The benchmark: the same data set seeded on two embedded servers, then one full cleanup pass on
 * each, side by side in one run: ours (the real CLI, defaults) and a model of the official
 * algorithm's request pattern (./official-model.ts). Each side runs in its own child process.
 */
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import type { ServerCounters } from '../types/clearml.js';
import { CLI_JS, OFFICIAL_MAIN_JS, runChild, type ChildRun } from './children.js';
import { BenchCopy, type CopyParams } from './copy.js';
import { unlinkMicros } from './disk-probe.js';

export type BenchSide = 'ours' | 'official';

export interface BenchParams extends CopyParams {
  latencyMs: number;
  only?: BenchSide;
  /** NODE_OPTIONS for our side only (e.g. a heap cap); none by default: ours runs with its defaults */
  oursNodeOptions?: string;
  /** latencies of the sweep (each one not equal to latencyMs costs one more run of each side); [] skips it */
  sweepLatenciesMs: number[];
  /** the official model's sample per sweep point: its cost is per task, so a sample gives its rate */
  sweepOfficialTasks: number;
  /** cap on the official model's main run too (a loaded machine); undefined: every task it finds */
  officialTasks?: number;
  /** where the servers' data (SQLite, files) lives; default the system's temporary folder */
  dataDir?: string;
}

export interface SideMetrics {
  tasks_per_second: number;
  api_calls_per_task: number | null;
  storage_requests_per_file: number | null;
  eligible_deleted_fraction: number;
  files_left: number;
  peak_rss_mb: number | null;
  wall_s: number;
  /** CPU time of the bench process (the embedded server's API + file server, its libuv threads included) during the run */
  server_cpu_s: number;
  /**
   * Time the embedded server's thread was busy during the run: the bench process's event-loop
   * active time (performance.eventLoopUtilization), and that thread does nothing but serve then.
   * The server handles requests on that one thread, so no client can finish in less wall time.
   */
  server_busy_s: number;
  /** wall_s / server_busy_s: 1.0 would be a client that keeps the server busy all the time */
  server_busy_ratio: number | null;
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

/** One point of the latency sweep: both sides at the same injected latency, each on a fresh copy. */
export interface SweepPoint {
  latency_ms: number;
  ours_tasks_per_second: number | null;
  official_tasks_per_second: number | null;
  speedup: number | null;
  ours_wall_s: number | null;
  ours_server_busy_ratio: number | null;
  /** tasks the official model was given to delete at this point (a sample, see params) */
  official_tasks: number | null;
  /** the point reuses the main run (same latency) */
  main_run: boolean;
}

export interface Target {
  name: string;
  /** what is measured and its bound, e.g. ">= 100" */
  want: string;
  value: number | null;
  met: boolean;
  /** how far from the bound when missed, in the unit of value */
  missed_by: number | null;
}

export interface BenchReport {
  speedup: number | null;
  params: Record<string, unknown>;
  ours?: SideMetrics;
  official?: SideMetrics;
  latency_sweep: SweepPoint[];
  targets: Target[];
}

export interface BenchIo {
  /** progress and table lines */
  say(line: string): void;
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The issue's targets: 100x the official model at 5 ms, our wall time within 1.25x the server's busy time. */
export const SPEEDUP_TARGET = { latencyMs: 5, atLeast: 100 };
export const BUSY_RATIO_TARGET = 1.25;

interface RunSpec {
  side: BenchSide;
  latencyMs: number;
  /** official only: stop after this many tasks */
  maxTasks?: number;
  label: string;
}

export async function runBench(p: BenchParams, io: BenchIo): Promise<BenchReport> {
  const sides: BenchSide[] = p.only ? [p.only] : ['ours', 'official'];
  const dataDir = p.dataDir ?? os.tmpdir();
  const tmp = await fsp.mkdtemp(path.join(dataDir, 'clearml-cleanup-bench-'));
  const unlinkUs = await unlinkMicros(tmp);
  io.say(`data directory ${dataDir}: one file delete (unlink) takes ${unlinkUs.toFixed(1)} us on its disk`);
  let template: BenchCopy | undefined;
  let seedMs = 0;
  let runNo = 0;
  try {
    template = await BenchCopy.start('template', path.join(tmp, 'template'));
    io.say(`seeding the data set: ${p.tasks} tasks x (${p.artifacts} artifacts, ${p.models} models, ${p.debugImages} debug images) at 0 ms latency`);
    let last = 0;
    const t0 = Date.now();
    const seeded = await template.seed(p, (phase, done, total) => {
      const now = Date.now();
      if (now - last < 5000 && done !== total) return;
      last = now;
      io.say(`  ${phase} ${done}/${total}`);
    });
    seedMs = Date.now() - t0;
    io.say(`  seeded ${seeded.tasks.length} tasks, ${seeded.files.length} files in ${(seedMs / 1000).toFixed(1)} s; each run gets a copy of it`);
    await template.close();

    const runOne = async (spec: RunSpec): Promise<SideMetrics> => {
      const dir = path.join(tmp, `run-${++runNo}-${spec.side}`);
      const copy = await BenchCopy.cloneOf(template!, spec.side, dir);
      try {
        await copy.resetCounters();
        await copy.setLatency(spec.latencyMs);
        io.say(`cleanup pass: ${spec.label} at ${spec.latencyMs} ms latency`);
        // both the server and nothing else run on this process's main thread meanwhile
        const cpu0 = process.cpuUsage();
        const elu0 = performance.eventLoopUtilization();
        const run = await runSide(spec, copy, p, path.join(dir, 'work'), io);
        const busyMs = performance.eventLoopUtilization(elu0).active;
        const cpu = process.cpuUsage(cpu0);
        await copy.setLatency(0);
        const counters = await copy.counters();
        const m = await measure(copy, run, counters, (cpu.user + cpu.system) / 1e6, busyMs / 1000);
        if (run.exitCode !== 0) io.say(`  ${spec.side} exited ${run.exitCode}: ${lastLines(run.stderr || run.stdout, 5)}`);
        io.say(`  ${m.tasks_deleted} tasks in ${m.wall_s} s (${m.tasks_per_second} per second); server busy ${m.server_busy_s} s`);
        return m;
      } finally {
        await copy.close().catch(() => undefined);
        await fsp.rm(dir, { recursive: true, force: true });
      }
    };

    const report: BenchReport = { speedup: null, params: {}, latency_sweep: [], targets: [] };
    for (const side of sides) {
      const label = side === 'official'
        ? 'MODEL of the official cleanup_service.py request pattern'
        : `ours (clearml-cleanup run --once, defaults${p.oursNodeOptions ? `, NODE_OPTIONS=${p.oursNodeOptions}` : ''})`;
      const maxTasks = side === 'official' ? p.officialTasks : undefined;
      report[side] = await runOne({ side, latencyMs: p.latencyMs, label: maxTasks ? `${label}, first ${maxTasks} tasks` : label, maxTasks });
    }
    if (report.ours && report.official && report.official.tasks_per_second > 0) {
      report.speedup = round(report.ours.tasks_per_second / report.official.tasks_per_second, 1);
    }

    if (!p.only) {
      const sample = Math.min(p.sweepOfficialTasks, p.tasks);
      for (const ms of p.sweepLatenciesMs) {
        if (ms === p.latencyMs) {
          report.latency_sweep.push(sweepPoint(ms, report.ours!, report.official!, report.official!.tasks_deleted, true));
          continue;
        }
        const ours = await runOne({ side: 'ours', latencyMs: ms, label: 'sweep: ours' });
        const official = await runOne({ side: 'official', latencyMs: ms, maxTasks: sample, label: `sweep: official model on ${sample} tasks` });
        report.latency_sweep.push(sweepPoint(ms, ours, official, sample, false));
      }
    }
    report.targets = targetsOf(report, p);

    report.params = {
      tasks: p.tasks, artifacts: p.artifacts, models: p.models, debug_images: p.debugImages, latency_ms: p.latencyMs,
      seed: p.seed, threshold_days: p.thresholdDays, only: p.only ?? null, ours_node_options: p.oursNodeOptions ?? null,
      sweep_latencies_ms: p.sweepLatenciesMs, sweep_official_tasks: p.sweepOfficialTasks, official_tasks: p.officialTasks ?? null,
      files_per_copy: seeded.files.length,
      data_set: 'every task archived, completed and older than the threshold; files on the embedded file server',
      official_side: 'a model of the official cleanup_service.py request pattern (src/bench/official-model.ts), not the script',
      server_busy: 'event-loop active time of the bench process, whose main thread runs the embedded server and nothing else during a run',
      seed_s: round(seedMs / 1000, 1),
      date: new Date().toISOString(),
      machine: {
        nproc: os.availableParallelism(), total_mem_gb: round(os.totalmem() / 2 ** 30, 1), node: process.version,
        platform: `${os.platform()} ${os.release()}`, cpu: os.cpus()[0]?.model ?? null, load_average: os.loadavg().map((l) => round(l, 2)),
        data_dir: dataDir, unlink_us: round(unlinkUs, 1),
      },
    };
    return report;
  } finally {
    await template?.close().catch(() => undefined);
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

function sweepPoint(ms: number, ours: SideMetrics, official: SideMetrics, officialTasks: number, mainRun: boolean): SweepPoint {
  const o = ours.tasks_per_second;
  const f = official.tasks_per_second;
  return {
    latency_ms: ms,
    ours_tasks_per_second: o,
    official_tasks_per_second: f,
    speedup: f > 0 ? round(o / f, 1) : null,
    ours_wall_s: ours.wall_s,
    ours_server_busy_ratio: ours.server_busy_ratio,
    official_tasks: officialTasks,
    main_run: mainRun,
  };
}

function targetsOf(r: BenchReport, p: BenchParams): Target[] {
  const out: Target[] = [];
  const at = r.latency_sweep.find((s) => s.latency_ms === SPEEDUP_TARGET.latencyMs)?.speedup
    ?? (p.latencyMs === SPEEDUP_TARGET.latencyMs ? r.speedup : null);
  if (at !== null && at !== undefined) {
    out.push({
      name: `speedup at ${SPEEDUP_TARGET.latencyMs} ms`, want: `>= ${SPEEDUP_TARGET.atLeast}`, value: at,
      met: at >= SPEEDUP_TARGET.atLeast, missed_by: at >= SPEEDUP_TARGET.atLeast ? null : round(SPEEDUP_TARGET.atLeast - at, 1),
    });
  }
  const ratio = r.ours?.server_busy_ratio ?? null;
  if (ratio !== null) {
    out.push({
      name: 'our wall time / server busy time', want: `<= ${BUSY_RATIO_TARGET}`, value: ratio,
      met: ratio <= BUSY_RATIO_TARGET, missed_by: ratio <= BUSY_RATIO_TARGET ? null : round(ratio - BUSY_RATIO_TARGET, 2),
    });
  }
  return out;
}

async function runSide(spec: RunSpec, copy: BenchCopy, p: BenchParams, workDir: string, io: BenchIo): Promise<ChildRun> {
  const { side } = spec;
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
  const args = [String(p.thresholdDays), ...(spec.maxTasks === undefined ? [] : [String(spec.maxTasks)])];
  return runChild({ script: OFFICIAL_MAIN_JS, args, env: copy.clientEnv(), workDir, onLine });
}

async function measure(copy: BenchCopy, run: ChildRun, c: ServerCounters, serverCpuS: number, serverBusyS: number): Promise<SideMetrics> {
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
    server_busy_s: round(serverBusyS, 2),
    server_busy_ratio: serverBusyS > 0 ? round(wallS / serverBusyS, 2) : null,
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
    ['server busy (its thread), s', (m) => fmt(m.server_busy_s, 2)],
    ['server CPU (all threads), s', (m) => fmt(m.server_cpu_s, 2)],
    ['wall / server busy', (m) => fmt(m.server_busy_ratio, 2)],
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
  if (r.latency_sweep.length) {
    out.push('latency sweep (each point on fresh copies; the official model on a sample of tasks, ours on all):');
    for (const s of r.latency_sweep) {
      out.push(
        `  ${String(s.latency_ms).padStart(3)} ms: ours ${fmt(s.ours_tasks_per_second, 1)} tasks/s (wall ${fmt(s.ours_wall_s, 2)} s, ` +
          `${fmt(s.ours_server_busy_ratio, 2)}x server busy), official model ${fmt(s.official_tasks_per_second, 2)} tasks/s ` +
          `(${s.official_tasks} tasks): speedup ${fmt(s.speedup, 1)}x${s.main_run ? ' (the main run)' : ''}`,
      );
    }
  }
  for (const t of r.targets) {
    out.push(`target ${t.name} ${t.want}: ${fmt(t.value, 2)} ${t.met ? 'MET' : `MISSED by ${t.missed_by}`}`);
  }
  for (const s of sides) {
    const m = r[s]!;
    out.push(`${s} requests: API ${JSON.stringify(m.api_by_endpoint)}; storage ${JSON.stringify(m.storage_by_operation)}`);
  }
  return out;
}
