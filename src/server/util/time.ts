/** Dates as the real server prints them (rapidjson ISO with microseconds and an explicit UTC offset). */
export function isoDate(d: Date): string {
  return d.toISOString().replace('Z', '000+00:00');
}

/** Parses a date string the way the server accepts filters: a naive date counts as UTC. */
export function parseDateLoose(s: string): number | undefined {
  const t = s.trim();
  if (!t) return undefined;
  const naive = /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$/.test(t);
  let v = t.replace(' ', 'T');
  if (naive) v = v.length === 10 ? `${v}T00:00:00Z` : `${v}Z`;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

export function dateMs(v: unknown): number | undefined {
  if (typeof v !== 'string' || !v) return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}
