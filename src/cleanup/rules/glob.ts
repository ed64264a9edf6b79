/**
 * Project path globs for include_projects / exclude_projects. A ClearML project's name is its full
 * path ("Team/Sandbox/run 3"), so patterns are matched segment by segment on that path: `*` and `?`
 * stay inside one segment, `**` (a whole segment) spans any number of segments, none included.
 * Anything else that looks like glob syntax ([...], {...}) is refused rather than taken literally,
 * because a pattern that silently matches nothing could keep, or delete, the wrong projects.
 */

export type ProjectMatcher = (path: string) => boolean;

/** What is wrong with a pattern, or undefined when it is a valid one. */
export function globProblem(pattern: string): string | undefined {
  if (pattern === '') return 'is empty';
  if (/[[\]{}\\]/.test(pattern)) return 'uses [ ] { } or \\, which are not supported (only *, ? and **)';
  if (pattern.startsWith('/') || pattern.endsWith('/')) return 'starts or ends with "/" (project paths do not)';
  for (const seg of pattern.split('/')) {
    if (seg === '') return 'has an empty path segment ("//")';
    if (seg.includes('**') && seg !== '**') return `has "**" inside the segment "${seg}" ("**" must stand alone between slashes)`;
  }
  return undefined;
}

function segmentRegex(seg: string): RegExp {
  const body = seg.replace(/[.+^$()|]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`, 's');
}

/** A matcher for a valid pattern (check it with globProblem first). */
export function compileGlob(pattern: string): ProjectMatcher {
  const parts = pattern.split('/').map((s) => (s === '**' ? ('**' as const) : segmentRegex(s)));
  return (path: string) => {
    const segs = path.split('/');
    // memo over (pattern index, path index): patterns are short, paths shallow
    const memo = new Map<number, boolean>();
    const match = (i: number, j: number): boolean => {
      const key = i * 1024 + j;
      const hit = memo.get(key);
      if (hit !== undefined) return hit;
      let r: boolean;
      if (i === parts.length) r = j === segs.length;
      else {
        const p = parts[i];
        if (p === '**') {
          r = false;
          for (let k = j; k <= segs.length && !r; k++) r = match(i + 1, k);
        } else r = j < segs.length && p.test(segs[j]) && match(i + 1, j + 1);
      }
      memo.set(key, r);
      return r;
    };
    return match(0, 0);
  };
}
