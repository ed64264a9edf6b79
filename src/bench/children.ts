/** Runs one side of the benchmark in its own Node process and reads back its peak RSS. */
import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const CLI_JS = path.resolve(here, '..', 'cli.js');
export const OFFICIAL_MAIN_JS = path.join(here, 'official-main.js');
const RSS_PRELOAD = pathToFileURL(path.join(here, 'rss-report.js')).href;

export interface ChildRun {
  exitCode: number;
  wallMs: number;
  /** peak resident set size of the child, bytes; undefined if it did not report (killed) */
  maxRssBytes?: number;
  stdout: string;
  stderr: string;
}

export interface ChildSpec {
  script: string;
  args: string[];
  env: Record<string, string>;
  /** scratch directory: HOME of the child and where it reports its RSS */
  workDir: string;
  /** each line the child writes (progress) */
  onLine?: (line: string) => void;
}

/** PIDs of children still running, so the caller can kill exactly those on SIGINT. */
export const runningChildren = new Set<number>();

export async function runChild(spec: ChildSpec): Promise<ChildRun> {
  const rssFile = path.join(spec.workDir, `rss-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  const env: NodeJS.ProcessEnv = { ...process.env, ...spec.env, HOME: spec.workDir, BENCH_RSS_FILE: rssFile };
  // a developer's own ClearML settings must not leak into the measured run
  for (const k of ['CLEARML_CONFIG_FILE', 'CLEARML_TASK_ID', 'CLEARML_AUTH_TOKEN', 'NODE_OPTIONS']) {
    if (!(k in spec.env)) delete env[k];
  }
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, ['--import', RSS_PRELOAD, spec.script, ...spec.args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid) runningChildren.add(child.pid);
  const out = { stdout: '', stderr: '' };
  for (const name of ['stdout', 'stderr'] as const) {
    let partial = '';
    child[name].setEncoding('utf8').on('data', (c: string) => {
      out[name] += c;
      if (!spec.onLine) return;
      const lines = (partial + c).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) spec.onLine(l);
    });
  }
  const exitCode = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (child.pid) runningChildren.delete(child.pid);
  let maxRssBytes: number | undefined;
  try {
    maxRssBytes = JSON.parse(await fsp.readFile(rssFile, 'utf8')).maxRssKb * 1024;
  } catch {
    maxRssBytes = undefined;
  }
  return { exitCode, wallMs, maxRssBytes, stdout: out.stdout, stderr: out.stderr };
}
