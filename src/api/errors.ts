/**
 * Errors of the ClearML API client. Messages name the endpoint and the host, never a credential:
 * they are shown to users as one line and may end up in logs.
 */

/** Why a call failed: the server answered an error, answered something that is not the API, or could not be reached. */
export type ApiErrorKind = 'api' | 'malformed' | 'network';

export interface ApiErrorInit {
  endpoint: string;
  kind: ApiErrorKind;
  /** result_code (= HTTP status) for 'api'; the HTTP status (0 if 200) for 'malformed'; 0 for 'network' */
  code: number;
  subcode?: number;
  resultMsg?: string;
  data?: Record<string, unknown>;
  /** scheme://host:port of the server, without credentials */
  host: string;
  /** e.g. ECONNREFUSED for 'network' */
  errorCode?: string;
  attempts?: number;
}

export class ApiError extends Error {
  readonly endpoint: string;
  readonly kind: ApiErrorKind;
  readonly code: number;
  readonly subcode: number;
  readonly resultMsg: string;
  readonly data: Record<string, unknown>;
  readonly host: string;
  readonly errorCode?: string;
  readonly attempts: number;

  constructor(init: ApiErrorInit) {
    super(formatMessage(init));
    this.name = 'ApiError';
    this.endpoint = init.endpoint;
    this.kind = init.kind;
    this.code = init.code;
    this.subcode = init.subcode ?? 0;
    this.resultMsg = init.resultMsg ?? '';
    this.data = init.data ?? {};
    this.host = init.host;
    this.errorCode = init.errorCode;
    this.attempts = init.attempts ?? 1;
  }

  /** e.g. `err.is(400, 101)` for "invalid task id"; subcode omitted matches any subcode */
  is(code: number, subcode?: number): boolean {
    return this.kind === 'api' && this.code === code && (subcode === undefined || this.subcode === subcode);
  }
}

function formatMessage(i: ApiErrorInit): string {
  const tries = i.attempts && i.attempts > 1 ? ` after ${i.attempts} attempts` : '';
  if (i.kind === 'network') {
    return `${i.endpoint} failed: cannot reach ClearML API server ${i.host} (${i.errorCode ?? 'network error'}${
      i.resultMsg ? `: ${i.resultMsg}` : ''
    })${tries}`;
  }
  if (i.kind === 'malformed') {
    return `${i.endpoint} failed: ${i.host} did not answer like a ClearML API server${
      i.code ? ` (HTTP ${i.code})` : ''
    }: ${i.resultMsg ?? 'unexpected answer'}${tries}`;
  }
  return `${i.endpoint} failed: ${i.code}/${i.subcode ?? 0} ${i.resultMsg ?? ''}`.trimEnd() + tries;
}
