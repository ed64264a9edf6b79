/**
 * What the agent needs to clone and check out this code: the clone's `origin` URL (credentials
 * removed, as the SDK does), branch, commit, and where the package sits inside the repository.
 * Read with the git binary, like the SDK; nothing is sent anywhere from here.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { realpath } from 'node:fs/promises';
import { TaskSetupError } from './errors.js';

export interface RepoInfo {
  repository: string;
  /** "" when HEAD is detached */
  branch: string;
  commit: string;
  /** the package directory relative to the repository root, "." at the root */
  workingDir: string;
  /** uncommitted changes the agent will not see */
  dirty: boolean;
  /** the commit is on no remote-tracking branch: the agent cannot check it out */
  unpushed: boolean;
}

function git(cwd: string, args: string[]): Promise<{ ok: boolean; out: string; err: string; missing?: boolean }> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, timeout: 30_000, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }, (error, stdout, stderr) => {
      const missing = (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
      resolve({ ok: !error, out: String(stdout).trim(), err: String(stderr).trim(), missing });
    });
  });
}

/** user:password@ in an https remote is a credential: never store or print it. */
export function stripCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

export async function readRepoInfo(dir: string): Promise<RepoInfo> {
  const top = await git(dir, ['rev-parse', '--show-toplevel']);
  if (top.missing) throw new TaskSetupError('git is not installed: it is needed to record the repository the agent clones');
  if (!top.ok) {
    throw new TaskSetupError(
      `${dir} is not a git clone: the ClearML agent clones the code from a git repository, so run this from a clone ` +
        'of clearml-cleanup that has an "origin" remote (or pass --repo-dir), or pass --run-as-service false to run the cleanup here',
    );
  }
  const origin = await git(dir, ['remote', 'get-url', 'origin']);
  if (!origin.ok || !origin.out) {
    throw new TaskSetupError(
      `the git clone at ${top.out} has no "origin" remote: the ClearML agent needs a URL to clone the code from. ` +
        'Add one (git remote add origin <url>) and push this commit to it',
    );
  }
  const head = await git(dir, ['rev-parse', 'HEAD']);
  if (!head.ok) throw new TaskSetupError(`the git clone at ${top.out} has no commit yet: commit and push the code first`);
  const branch = await git(dir, ['rev-parse', '--abbrev-ref', 'HEAD']);
  const status = await git(dir, ['status', '--porcelain', '--untracked-files=no']);
  const remoteHas = await git(dir, ['branch', '-r', '--contains', head.out]);
  const root = await realpath(top.out);
  const here = await realpath(dir);
  const rel = path.relative(root, here).split(path.sep).join('/');
  return {
    repository: stripCredentials(origin.out),
    branch: branch.ok && branch.out !== 'HEAD' ? branch.out : '',
    commit: head.out,
    workingDir: rel === '' ? '.' : rel,
    dirty: status.ok && status.out !== '',
    unpushed: !remoteHas.ok || remoteHas.out === '',
  };
}
