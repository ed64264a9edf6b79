/**
 * Archive-age arithmetic. The server drops a date condition it cannot parse (so every archived task
 * would match), hence we only ever send dates produced here, and re-check every date client-side.
 */

const DAY_MS = 86_400_000;

/** now - threshold days; fractional days allowed. */
export function cutoffDate(now: Date, thresholdDays: number): Date {
  if (!Number.isFinite(thresholdDays) || thresholdDays < 0) {
    throw new Error(`delete threshold must be a non-negative number of days, got ${thresholdDays}`);
  }
  return new Date(now.getTime() - thresholdDays * DAY_MS);
}

/** Naive UTC ISO (no "Z"), the form the server's date filters are documented with. */
export function serverIso(d: Date): string {
  return d.toISOString().replace(/Z$/, '');
}

/**
 * Parses a date as the server writes it. A string without a zone is UTC on the server, but JS
 * would read it as local time: add the Z ourselves.
 */
export function parseServerDate(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v !== 'string' || v.trim() === '') return undefined;
  const s = v.trim();
  const hasZone = /([zZ]|[+-]\d\d:?\d\d)$/.test(s);
  const iso = hasZone ? s : /^\d{4}-\d\d-\d\d$/.test(s) ? `${s}T00:00:00Z` : `${s.replace(' ', 'T')}Z`;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

export interface DatedTask {
  last_change?: string | null;
  status_changed?: string | null;
  last_update?: string | null;
}

/** When the task was (most likely) archived: last_change, else status_changed, else last_update. */
export function archiveTime(t: DatedTask): { at: number; field: 'last_change' | 'status_changed' | 'last_update' } | undefined {
  for (const field of ['last_change', 'status_changed', 'last_update'] as const) {
    const at = parseServerDate(t[field]);
    if (at !== undefined) return { at, field };
  }
  return undefined;
}

export function daysToMs(days: number): number {
  return days * DAY_MS;
}
