/**
 * Ages seeded tasks through the embedded server's test-support endpoint
 * `POST {api}/_embedded/backdate {tasks, models, days}`. A real ClearML server has no such endpoint: the
 * seed then goes on without ages and says so (every task counts as recent).
 */
import pLimit from 'p-limit';

export type BackdateOutcome = { supported: true; calls: number } | { supported: false; reason: string };

export interface BackdateGroup {
  tasks: string[];
  models: string[];
}

export async function backdateTasks(
  apiUrl: string,
  token: string,
  byDays: Map<number, BackdateGroup>,
  concurrency = 4,
): Promise<BackdateOutcome> {
  const url = `${apiUrl.replace(/\/+$/, '')}/_embedded/backdate`;
  const groups = [...byDays.entries()].filter(([d, g]) => d > 0 && g.tasks.length > 0);
  if (!groups.length) return { supported: true, calls: 0 };

  // The first call also tells whether the server offers the endpoint at all.
  const [first, ...rest] = groups;
  const probe = await post(url, token, first[0], first[1]);
  if (probe === 'unsupported' || probe.startsWith('cannot reach')) return { supported: false, reason: probe };
  if (probe !== 'ok') throw new Error(`backdating seeded tasks failed: ${probe}`);
  const limit = pLimit(concurrency);
  const outcomes = await Promise.all(rest.map(([days, g]) => limit(() => post(url, token, days, g))));
  const bad = outcomes.find((o) => o !== 'ok');
  if (bad) throw new Error(`backdating seeded tasks failed: ${bad}`);
  return { supported: true, calls: groups.length };
}

/**
 * 'ok'; 'unsupported' when the answer is not the embedded server's (a real ClearML server answers
 * an unknown path with its own error envelope, a proxy with a page); otherwise what went wrong.
 */
async function post(url: string, token: string, days: number, group: BackdateGroup): Promise<string> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ tasks: group.tasks, models: group.models, days }),
    });
  } catch (e) {
    return `cannot reach ${url}: ${(e as Error).message}`;
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const ours = !!body && typeof body === 'object' && !('meta' in body) && ('missing' in body || 'error' in body);
  if (res.status === 200 && ours) return 'ok';
  if (!ours) return 'unsupported';
  return `${url} answered HTTP ${res.status}: ${text.slice(0, 160).replace(/\s+/g, ' ')}`;
}
