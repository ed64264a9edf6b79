/**
 * A pass killed at any moment leaves no file that nothing points to, and the next pass finishes the
 * job from the journal. Kill points: in the middle of deleting files, after the files but before
 * tasks.delete_many, after the tasks but before models.delete_many; and a real SIGKILL of the CLI.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runPass, silentLogger, type Api, type Storage } from '../src/cleanup/index.js';
import { World, type BuiltTask } from './support/cleanup-world.js';
import { buildDist } from './support/node-script.js';

const never = new Promise<never>(() => {});

async function buildEligible(w: World, n: number): Promise<BuiltTask[]> {
  const out = await Promise.all(
    Array.from({ length: n }, (_, i) => w.limit(() => w.task({ artifacts: 2, debugImages: i % 3 === 0 ? 4 : 0, models: i % 2 ? [{}] : [] }))),
  );
  await w.finalize();
  return out;
}

/** The invariant at any kill point: a task that is gone has no file left behind. */
async function expectNoOrphans(w: World, tasks: BuiltTask[]): Promise<{ gone: number; filesGone: number }> {
  const alive = new Set(await w.existingTasks(tasks.map((t) => t.id)));
  let filesGone = 0;
  for (const t of tasks) {
    const left = await w.existing(t.files);
    filesGone += t.files.length - left.length;
    // a file may outlive its task only while a model that still exists points to it
    const held = new Set<string>();
    for (const m of t.models) if (await w.modelExists(m.id)) held.add(m.uri);
    if (!alive.has(t.id)) expect({ task: t.id, left: left.filter((u) => !held.has(u)) }).toEqual({ task: t.id, left: [] });
    for (const m of t.models) if (!held.has(m.uri)) expect(await w.exists(m.uri)).toBe(false);
  }
  return { gone: tasks.length - alive.size, filesGone };
}

async function expectAllDone(w: World, tasks: BuiltTask[]): Promise<void> {
  expect(await w.existingTasks(tasks.map((t) => t.id))).toEqual([]);
  expect(await w.existing(tasks.flatMap((t) => t.files))).toEqual([]);
  for (const t of tasks) for (const m of t.models) expect(await w.modelExists(m.id)).toBe(false);
  const journal = await readdir(path.join(w.stateDir, 'journal'));
  expect(journal.filter((n) => n.endsWith('.json'))).toEqual([]);
}

/** A killed process holds no lock: the hung in-process pass's lock file goes with it. */
async function killed(w: World): Promise<void> {
  await rm(path.join(w.stateDir, 'lock'), { force: true });
}

const opts = (w: World) => ({ deleteThresholdDays: 30, forceDelete: false, stateDir: w.stateDir, pacingMs: 0, batchSize: 10 });

describe('killed in process at each step', () => {
  let w: World;
  beforeEach(async () => {
    w = await World.start();
  });
  afterEach(async () => {
    await w?.close();
  });

  test('in the middle of deleting the files of the second batch', async () => {
    const tasks = await buildEligible(w, 30);
    let calls = 0;
    const storage: Storage = {
      deleteFiles: async (urls) => {
        if (++calls < 2) return w.storage.deleteFiles(urls);
        await w.storage.deleteFiles(urls.slice(0, Math.floor(urls.length / 2)));
        return never;
      },
    };
    void runPass({ api: w.api, storage, log: silentLogger }, opts(w));
    await waitFor(() => calls >= 2);
    await new Promise((r) => setTimeout(r, 300));
    const mid = await expectNoOrphans(w, tasks);
    expect(mid.gone).toBe(10); // the first batch only
    expect(mid.filesGone).toBeGreaterThan(0);
    expect((await readdir(path.join(w.stateDir, 'journal'))).length).toBe(1);
    await killed(w);

    const r = await runPass({ api: w.api, storage: w.storage, log: silentLogger }, opts(w));
    expect(r.journal.replayedEntries).toBe(1);
    expect(r.tasks.failed).toBe(0);
    await expectAllDone(w, tasks);
  });

  test('after the files, before tasks.delete_many; and after the tasks, before models.delete_many', async () => {
    const tasks = await buildEligible(w, 20);
    for (const hang of ['tasks.delete_many', 'models.delete_many']) {
      let hung = false;
      const api: Api = {
        call: <T>(endpoint: string, body?: object): Promise<T> => {
          if (endpoint === hang) {
            hung = true;
            return never;
          }
          return w.api.call<T>(endpoint, body);
        },
      };
      void runPass({ api, storage: w.storage, log: silentLogger }, opts(w));
      await waitFor(() => hung);
      await expectNoOrphans(w, tasks);
      await killed(w);
      // the next pass (itself killed at the next step on the first round) finishes what was started
    }
    const r = await runPass({ api: w.api, storage: w.storage, log: silentLogger }, opts(w));
    expect(r.tasks.failed).toBe(0);
    await expectAllDone(w, tasks);
  });
});

test('a model waiting for a user deleted later in the pass survives a kill and goes in the next pass', async () => {
  const w = await World.start();
  try {
    const tasks = await Promise.all(Array.from({ length: 30 }, () => w.limit(() => w.task({ artifacts: 1, models: [{}] }))));
    const byId = [...tasks].sort((a, b) => (a.id < b.id ? -1 : 1));
    const owner = byId[0];
    const user = byId[byId.length - 1];
    await w.useAsInput(user.id, owner.models[0].id);
    await w.finalize();
    let deletes = 0;
    const api: Api = {
      call: <T>(endpoint: string, body?: object): Promise<T> => {
        if (endpoint === 'tasks.delete_many' && ++deletes === 2) return never;
        return w.api.call<T>(endpoint, body);
      },
    };
    void runPass({ api, storage: w.storage, log: silentLogger }, opts(w));
    await waitFor(() => deletes >= 2);
    await expectNoOrphans(w, tasks);
    expect(await w.taskExists(owner.id)).toBe(false);
    expect(await w.modelExists(owner.models[0].id)).toBe(true); // waiting for its user
    expect(await w.exists(owner.models[0].uri)).toBe(true);
    await killed(w);

    const r = await runPass({ api: w.api, storage: w.storage, log: silentLogger }, opts(w));
    expect(r.tasks.failed).toBe(0);
    await expectAllDone(w, tasks);
  } finally {
    await w.close();
  }
});

describe('SIGKILL of the CLI', () => {
  let w: World;
  let child: ChildProcess | undefined;
  let home: string;

  beforeAll(async () => {
    buildDist();
    w = await World.start({ latencyMs: 15 });
    home = await mkdtemp(path.join(tmpdir(), 'cleanup-home-'));
  }, 180_000);

  afterAll(async () => {
    if (child?.pid && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
    await w?.close();
    await rm(home, { recursive: true, force: true });
  });

  test('a pass killed mid-way is finished by the next one', async () => {
    const tasks = await buildEligible(w, 40);
    child = spawn(
      process.execPath,
      ['dist/cli.js', 'run', '--once', '--run-as-service', 'false', '--state-dir', w.stateDir, '--batch-size', '10', '--pacing-ms', '0'],
      {
        cwd: path.resolve('.'),
        env: {
          PATH: process.env.PATH,
          HOME: home,
          CLEARML_API_HOST: w.server.apiUrl,
          CLEARML_FILES_HOST: w.server.filesUrl,
          CLEARML_WEB_HOST: w.server.apiUrl,
          CLEARML_API_ACCESS_KEY: w.server.accessKey,
          CLEARML_API_SECRET_KEY: w.server.secretKey,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
    // kill it while the second batch is being deleted
    await waitFor(() => (out.match(/Deleting 10 tasks/g) ?? []).length >= 2 || child!.exitCode !== null, 60_000).catch(() => {
      throw new Error(`CLI output: ${out}`);
    });
    if (child.exitCode !== null) throw new Error(`CLI ended early (${child.exitCode}): ${out}`);
    await new Promise((r) => setTimeout(r, 40));
    process.kill(child.pid!, 'SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    expect(out).toMatch(/Cleanup service started/);
    expect(out).toMatch(/Starting cleanup/);

    const mid = await expectNoOrphans(w, tasks);
    expect(mid.gone).toBeLessThan(40);

    const r = await runPass({ api: w.api, storage: w.storage, log: silentLogger }, opts(w));
    expect(r.tasks.failed).toBe(0);
    await expectAllDone(w, tasks);
  }, 120_000);
});

async function waitFor(cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}
