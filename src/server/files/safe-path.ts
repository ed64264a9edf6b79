import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';

/**
 * Maps a client path onto the storage root and refuses anything that would leave it: `..`
 * segments (after normalising, as werkzeug's safe_join does), NUL bytes, and symbolic links whose
 * target lies outside the root. The root itself may be a symlink (e.g. a temp dir).
 */

export type Resolved =
  | { ok: true; rel: string; full: string }
  | { ok: false; status: 400 | 403; reason: string };

export class SafeRoot {
  readonly root: string;

  constructor(rootDir: string) {
    this.root = realpathSync(rootDir);
  }

  /** `clientPath` is already URL-decoded; leading slashes are ignored. */
  resolve(clientPath: string): Resolved {
    const lexical = this.lexical(clientPath);
    if (!lexical.ok) return lexical;
    const { rel, full } = lexical;
    // the nearest existing ancestor (or the entry itself) must really live under the root
    let probe = full;
    while (!existsSync(probe) && probe !== this.root) probe = path.dirname(probe);
    let real: string;
    try {
      real = realpathSync(probe);
    } catch {
      // a dangling symlink: judge by where it points
      return { ok: false, status: 403, reason: 'Path outside the storage root' };
    }
    if (!this.inside(real)) return { ok: false, status: 403, reason: 'Path outside the storage root' };
    return { ok: true, rel, full };
  }

  /**
   * The checks that need no file system: NUL bytes, `..` after normalising, absolute paths. Alone it
   * does not confine (a symlink on the way may lead out); resolve() adds the real-path check.
   */
  lexical(clientPath: string): Resolved {
    if (clientPath.includes('\0')) return { ok: false, status: 400, reason: 'Invalid path' };
    const stripped = clientPath.replace(/^\/+/, '');
    if (!stripped) return { ok: false, status: 400, reason: 'Empty path' };
    const rel = path.posix.normalize(stripped);
    if (rel === '..' || rel.startsWith('../') || path.posix.isAbsolute(rel) || path.isAbsolute(rel)) {
      return { ok: false, status: 403, reason: 'Path outside the storage root' };
    }
    const full = path.join(this.root, rel);
    if (!this.inside(full)) return { ok: false, status: 403, reason: 'Path outside the storage root' };
    return { ok: true, rel, full };
  }

  inside(p: string): boolean {
    return p === this.root || p.startsWith(this.root + path.sep);
  }
}
