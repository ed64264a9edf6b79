/** Counters a run can print in its summary, and tests can assert on. */
export interface ApiStats {
  /** logical calls (one per call(), however many HTTP attempts it took); logins excluded */
  calls: number;
  /** endpoint -> logical calls */
  byEndpoint: Record<string, number>;
  /** HTTP attempts, logins included */
  requests: number;
  /** repeated attempts after a connection error or a 5xx */
  retries: number;
  /** auth.login calls that got a token */
  logins: number;
  /** calls that ended in an error */
  failures: number;
}

export function emptyStats(): ApiStats {
  return { calls: 0, byEndpoint: {}, requests: 0, retries: 0, logins: 0, failures: 0 };
}
