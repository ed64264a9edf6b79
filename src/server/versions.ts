/** What the embedded server claims to be: clearml-server 2.3 serves API versions up to 2.34. */
export const MAX_API_VERSION = '2.34';
export const SERVER_VERSION = '2.3.0';
export const MIN_API_VERSION = '2.1';

/** "2.23" -> [2, 23]; compares numerically so 2.9 < 2.13. */
export function parseVersion(v: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)$/.exec(v);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a) ?? [0, 0];
  const y = parseVersion(b) ?? [0, 0];
  return x[0] - y[0] || x[1] - y[1];
}

/**
 * The clearml-server release whose newest API is this version (the tags of clearml/clearml-server;
 * apiserver/service_repo/service_repo.py of each): what an emulated older server says it is.
 */
const RELEASE_OF_API: Record<string, string> = {
  '2.13': '1.0.2', '2.14': '1.1.1', '2.16': '1.2.0', '2.17': '1.5.0', '2.20': '1.6.0', '2.21': '1.7.0', '2.22': '1.8.0',
  '2.23': '1.9.2', '2.24': '1.10.1', '2.25': '1.11.0', '2.26': '1.12.1', '2.27': '1.13.1', '2.28': '1.14.1', '2.29': '1.15.0',
  '2.30': '1.16.2', '2.31': '2.0.0', '2.32': '2.1.0', '2.33': '2.2.0', '2.34': SERVER_VERSION,
};

/** The release that served `api` (the newest release at or below it when no release stopped exactly there). */
export function serverVersionFor(api: string): string {
  let best = RELEASE_OF_API['2.13'];
  for (const [v, release] of Object.entries(RELEASE_OF_API)) if (compareVersions(v, api) <= 0) best = release;
  return best;
}
