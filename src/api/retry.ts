/** When a failed request is worth repeating, and how long to wait before it. */

/** Connection-level failures that say nothing about whether the server can do the call. */
export const RETRIABLE_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** 5xx only (incl. 503 maintenance and proxies' 502/504): a 4xx is an answer, repeating it changes nothing. */
export function isRetriableStatus(status: number): boolean {
  return status >= 500 && status <= 599;
}

export function isRetriableErrorCode(code: string | undefined): boolean {
  return code !== undefined && RETRIABLE_ERROR_CODES.has(code);
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/**
 * Exponential backoff with "equal jitter" (uniform in [d/2, d]) so that many clients hit by the same
 * outage do not come back in lockstep. `attempt` counts from 1 (the first retry).
 */
export function backoffDelayMs(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const d = Math.min(opts.maxMs, opts.baseMs * 2 ** (attempt - 1));
  return Math.round(d / 2 + (random() * d) / 2);
}

/** Retry-After in ms (seconds or an HTTP date), or undefined. */
export function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const v = Array.isArray(header) ? header[0] : header;
  if (!v) return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
