/**
 * One cleanup at a time per state directory: two passes replaying the same journal entries, or
 * planning the same tasks, would only fight. The lock is a file created exclusively; a holder that
 * died (SIGKILL, container restart) is recognised and replaced: same host and its pid is gone, our
 * own pid (pid reuse after a restart), or not refreshed for STALE_MS (the holder touches it at
 * every batch).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const STALE_MS = 2 * 3600_000;

/** Lock files this process holds: our own pid in a lock is only stale when we do not hold it. */
const held = new Set<string>();

export class LockBusyError extends Error {}

export interface Lock {
  readonly file: string;
  touch(): Promise<void>;
  release(): Promise<void>;
}

interface Holder {
  pid: number;
  host: string;
  startedAt: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function staleHolder(file: string): Promise<{ stale: boolean; holder?: Holder }> {
  let holder: Holder | undefined;
  let mtime = 0;
  try {
    const [text, st] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)]);
    mtime = st.mtimeMs;
    holder = JSON.parse(text) as Holder;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { stale: true };
    // unreadable or half-written: judge by age alone
  }
  if (Date.now() - mtime > STALE_MS) return { stale: true, holder };
  if (!holder || typeof holder.pid !== 'number') return { stale: false, holder };
  if (holder.pid === process.pid) return { stale: !held.has(file), holder };
  if (holder.host === os.hostname() && !alive(holder.pid)) return { stale: true, holder };
  return { stale: false, holder };
}

export async function acquireLock(stateDir: string): Promise<Lock> {
  await fs.mkdir(stateDir, { recursive: true, mode: 0o700 });
  const file = path.join(stateDir, 'lock');
  const me: Holder = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await fs.open(file, 'wx', 0o600);
      try {
        await fh.writeFile(JSON.stringify(me));
      } finally {
        await fh.close();
      }
      held.add(file);
      return {
        file,
        touch: async () => {
          const now = new Date();
          await fs.utimes(file, now, now).catch(() => {});
        },
        release: async () => {
          held.delete(file);
          await fs.rm(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const { stale, holder } = await staleHolder(file);
      if (!stale || attempt > 0) {
        const who = holder ? `pid ${holder.pid} on ${holder.host} since ${holder.startedAt}` : 'another process';
        throw new LockBusyError(`another clearml-cleanup (${who}) is using ${stateDir}; if it is gone, remove ${file}`);
      }
      await fs.rm(file, { force: true });
    }
  }
  throw new LockBusyError(`could not lock ${stateDir}`);
}
