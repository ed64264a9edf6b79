/**
 * Turns an HTTP answer into the `data` of a ClearML envelope, or a precise ApiError.
 * A proxy's HTML page, a web-app port given as api_server, or a truncated body must not be
 * mistaken for an empty result: a cleanup that reads "no tasks" from garbage is silent failure.
 */
import type { ResponseMeta } from '../types/clearml.js';
import { ApiError } from './errors.js';

export interface RawAnswer {
  status: number;
  contentType: string;
  body: string;
}

export function unwrapEnvelope<T>(endpoint: string, host: string, answer: RawAnswer): T {
  const malformed = (why: string) =>
    new ApiError({ endpoint, host, kind: 'malformed', code: answer.status === 200 ? 0 : answer.status, resultMsg: why });

  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    throw malformed(`answer is not JSON (${describeBody(answer)})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw malformed(`answer is JSON but not an object with meta and data (${describeBody(answer)})`);
  }
  const meta = (parsed as { meta?: unknown }).meta as Partial<ResponseMeta> | undefined;
  if (!meta || typeof meta !== 'object' || typeof meta.result_code !== 'number') {
    throw malformed(`answer has no meta.result_code (${describeBody(answer)})`);
  }
  const code = meta.result_code;
  if (code !== 200 || answer.status !== 200) {
    throw new ApiError({
      endpoint,
      host,
      kind: 'api',
      code: code !== 200 ? code : answer.status,
      subcode: typeof meta.result_subcode === 'number' ? meta.result_subcode : 0,
      resultMsg: typeof meta.result_msg === 'string' ? meta.result_msg : '',
      data: meta.error_data && typeof meta.error_data === 'object' ? meta.error_data : {},
    });
  }
  if (!('data' in parsed)) throw malformed('answer has meta but no data');
  return (parsed as { data: T }).data;
}

/** A short, single-line description of what came back, for the error message. */
function describeBody(a: RawAnswer): string {
  const type = a.contentType ? a.contentType.split(';')[0].trim() : 'no content type';
  const text = a.body
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!text) return `${type}, empty body`;
  return `${type}: "${text.length > 80 ? `${text.slice(0, 80)}...` : text}"`;
}
