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
