/**
 * Helpers for the task tests: the embedded server, a real ClearMLClient, a collecting logger,
 * throw-away git clones (with or without an origin), and archived old Draft tasks to delete.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClearMLClient } from '../../src/api/index.js';
import { openEngine, type Engine } from '../../src/commands/engine.js';
import type { Log } from '../../src/log/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';

export interface Collected extends Log {
  lines: string[];
  text(): string;
}

export function collectingLog(echo = false): Collected {
  const lines: string[] = [];
  const add = (level: string) => (msg: string, meta?: Record<string, unknown>) => {
    const line = `${level === 'info' ? '' : `${level.toUpperCase()}: `}${msg}${meta && Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : ''}`;
    lines.push(line);
    if (echo) process.stdout.write(`${line}\n`);
  };
  return { lines, text: () => lines.join('\n'), debug: () => {}, info: add('info'), warn: add('warn'), error: add('error'), close: async () => {} };
}

export function clientFor(server: RunningServer): ClearMLClient {
  return new ClearMLClient({
    api: { apiServer: server.apiUrl, accessKey: server.accessKey, secretKey: server.secretKey },
    retries: 1,
    backoffBaseMs: 20,
  });
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
  }).trim();
}

export interface TempRepo {
  dir: string;
  commit: string;
  branch: string;
  cleanup(): void;
}

/**
 * A clone with one commit. `origin`: 'pushed' (a local bare repo, pushed and fetched),
 * a URL string (set but never fetched), or 'none'.
 */
export function makeRepo(origin: 'pushed' | 'none' | string, subdir?: string): TempRepo {
  const base = mkdtempSync(path.join(tmpdir(), 'task-repo-'));
  const dir = path.join(base, 'clone');
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '-q', '-b', 'main');
  const pkg = subdir ? path.join(dir, subdir) : dir;
  mkdirSync(path.join(pkg, 'scripts'), { recursive: true });
  writeFileSync(path.join(pkg, 'scripts', 'clearml-task.sh'), '#!/bin/bash\necho hi\n');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'one');
  if (origin === 'pushed') {
    const bare = path.join(base, 'origin.git');
    git(base, 'init', '-q', '--bare', bare);
    git(dir, 'remote', 'add', 'origin', bare);
    git(dir, 'push', '-q', 'origin', 'main');
    git(dir, 'fetch', '-q', 'origin');
  } else if (origin !== 'none') {
    git(dir, 'remote', 'add', 'origin', origin);
  }
  return {
    dir: pkg,
    commit: git(dir, 'rev-parse', 'HEAD'),
    branch: 'main',
    cleanup: () => rmSync(base, { recursive: true, force: true }),
  };
}

/** Archived Draft tasks, backdated so that a 30-day threshold selects them. */
export async function oldArchivedDrafts(server: RunningServer, client: ClearMLClient, n: number, prefix = 'old'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    ids.push((await client.tasks.create({ name: `${prefix} ${i}`, type: 'training' })).id);
  }
  await client.tasks.archive({ tasks: ids });
  const res = await fetch(`${server.apiUrl}/_embedded/backdate`, { method: 'POST', body: JSON.stringify({ tasks: ids, days: 90 }) });
  if (res.status !== 200) throw new Error(`backdate failed: ${res.status}`);
  return ids;
}

export async function startWorld() {
  const server = await startServer({ port: 0, filesPort: 0 });
  const client = clientFor(server);
  return { server, client };
}

/**
 * startWorld plus what the task-service tests run on: a pushed clone, a temp dir with a config file
 * for the server (agent.json) and the journal (state/), and the engine opened on that config.
 */
export async function startEngineWorld(prefix: string): Promise<{
  server: RunningServer;
  client: ClearMLClient;
  engine: Engine;
  repo: TempRepo;
  stateDir: string;
  close: () => Promise<void>;
}> {
  const { server, client } = await startWorld();
  const repo = makeRepo('pushed');
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const conf = path.join(dir, 'agent.json');
  writeFileSync(
    conf,
    JSON.stringify({
      api: {
        api_server: server.apiUrl,
        web_server: 'http://127.0.0.1:1',
        files_server: server.filesUrl,
        credentials: { access_key: server.accessKey, secret_key: server.secretKey },
      },
    }),
  );
  const stateDir = path.join(dir, 'state');
  const engine = await openEngine(
    { deleteThresholdDays: 30, forceDelete: false, concurrency: 4, batchSize: 500, pacingMs: 0, logFormat: 'text', configFile: conf, stateDir },
    collectingLog(),
  );
  const close = async () => {
    await engine.close();
    client.close();
    await server.close();
    repo.cleanup();
    rmSync(dir, { recursive: true, force: true });
  };
  return { server, client, engine, repo, stateDir, close };
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
