/** Smoke test of `npm run bench`: the script runs end to end on a few tasks against dist/ (npm test builds it first). */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBuilt, startScript } from './support/node-script.js';

let child: ChildProcess | undefined;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-test-'));

beforeAll(() => ensureBuilt(path.join('bench', 'run-bench.js')), 120_000);

afterAll(() => {
  if (child?.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

const SIDE_KEYS = [
  'tasks_per_second', 'api_calls_per_task', 'storage_requests_per_file', 'eligible_deleted_fraction', 'files_left', 'peak_rss_mb', 'wall_s',
  'server_busy_s', 'server_cpu_s', 'server_busy_ratio',
];

test('the bench seeds once, runs ours and the official model on copies, sweeps the latency, and reports both', async () => {
  const jsonFile = path.join(tmp, 'bench.json');
  // a two-point sweep: 0 ms is the main run, 1 ms runs both sides again (the official model on 5 tasks)
  const args = ['--tasks', '20', '--artifacts', '1', '--models', '1', '--debug-images', '3', '--latency-ms', '0',
    '--sweep-latencies', '0,1', '--sweep-official-tasks', '5', '--json', jsonFile];
  const run = startScript('bench.js', args);
  child = run.child;
  const { code, out } = await run.result;
  expect(out).toContain('official (model)');
  expect(code).toBe(0);

  const r = JSON.parse(readFileSync(jsonFile, 'utf8'));
  expect(Object.keys(r).sort()).toEqual(['latency_sweep', 'official', 'ours', 'params', 'speedup', 'targets']);
  expect(r.params).toMatchObject({ tasks: 20, artifacts: 1, models: 1, debug_images: 3, latency_ms: 0 });
  // 1 artifact + 1 model + 3 images per task
  expect(r.params.files_per_copy).toBe(100);
  for (const side of ['ours', 'official']) {
    for (const k of SIDE_KEYS) expect(r[side]).toHaveProperty(k);
    expect(r[side].exit_code).toBe(0);
    expect(r[side].eligible).toBe(20);
    expect(r[side].wall_s).toBeGreaterThan(0);
    expect(r[side].tasks_per_second).toBeGreaterThan(0);
    expect(r[side].peak_rss_mb).toBeGreaterThan(10);
    expect(r[side].peak_rss_mb).toBeLessThan(2000);
  }
  expect(typeof r.speedup).toBe('number');

  // the server's busy time is measured, and is part of our wall time (it cannot exceed it by much)
  expect(r.ours.server_busy_s).toBeGreaterThan(0);
  expect(r.ours.server_busy_ratio).toBeCloseTo(r.ours.wall_s / r.ours.server_busy_s, 0);
  expect(out).toMatch(/wall \/ server busy/);
  // the target lines: the busy-time ratio is judged in every run (the speedup one only when 5 ms was run)
  expect(r.targets.map((t: { name: string }) => t.name)).toEqual(['our wall time / server busy time']);
  expect(out).toMatch(/target our wall time \/ server busy time <= 1\.25: [\d.]+ (MET|MISSED by [\d.]+)/);

  // the sweep: the main run reused at 0 ms, fresh copies at 1 ms with the official model on its sample
  expect(r.latency_sweep.map((s: { latency_ms: number }) => s.latency_ms)).toEqual([0, 1]);
  const [p0, p1] = r.latency_sweep;
  expect(p0).toMatchObject({ main_run: true, speedup: r.speedup, ours_tasks_per_second: r.ours.tasks_per_second });
  expect(p1).toMatchObject({ main_run: false, official_tasks: 5 });
  expect(p1.ours_tasks_per_second).toBeGreaterThan(0);
  expect(p1.official_tasks_per_second).toBeGreaterThan(0);
  expect(p1.speedup).toBeCloseTo(p1.ours_tasks_per_second / p1.official_tasks_per_second, 0);
  expect(out).toMatch(/latency sweep/);

  // ours: everything eligible in one pass, every file gone, few requests
  expect(r.ours.eligible_deleted_fraction).toBe(1);
  expect(r.ours.tasks_deleted).toBe(20);
  expect(r.ours.files_left).toBe(0);
  expect(r.ours.storage_by_operation.delete ?? 0).toBe(0);
  expect(r.ours.api_calls_per_task).toBeLessThan(2);

  // the official model: one page (20 < 100), so everything goes too, at one file-server DELETE per file
  expect(r.official.tasks_deleted).toBe(20);
  expect(r.official.files_left).toBe(0);
  expect(r.official.storage_by_operation.delete).toBe(100);
  expect(r.official.storage_requests_per_file).toBe(1);
  expect(r.official.api_by_endpoint['tasks.get_by_id']).toBe(40);
  expect(r.official.api_by_endpoint['tasks.delete']).toBe(20);
}, 120_000);
