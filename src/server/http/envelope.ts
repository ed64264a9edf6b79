import type http from 'node:http';
import type { Envelope } from '../../types/clearml.js';
import { newId } from '../util/ids.js';

export interface EndpointInfo {
  name: string;
  requested: string;
  actual: string | null;
}

/** Writes the ClearML envelope; the HTTP status always equals result_code. */
export function sendEnvelope(
  res: http.ServerResponse,
  endpoint: EndpointInfo,
  code: number,
  subcode: number,
  msg: string,
  data: unknown,
  extra: { stack?: string | null; errorData?: Record<string, unknown>; headers?: Record<string, string> } = {},
): void {
  const id = newId();
  const body: Envelope = {
    meta: {
      id,
      trx: id,
      endpoint: { name: endpoint.name, requested_version: endpoint.requested, actual_version: endpoint.actual },
      result_code: code,
      result_subcode: subcode,
      result_msg: msg,
      error_stack: extra.stack ?? null,
      error_data: extra.errorData ?? {},
    },
    data: data && typeof data === 'object' && !Array.isArray(data) ? data : {},
  };
  const text = JSON.stringify(body);
  if (res.headersSent) return;
  res.writeHead(code, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...(extra.headers ?? {}),
  });
  res.end(text);
}
