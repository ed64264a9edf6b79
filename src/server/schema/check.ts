/**
 * Checks one request against the wire table: the endpoint exists at the version that served it,
 * every field is one the server's release knows, of the right type and value, and no field whose
 * server default deletes something is left to that default. Returns what is wrong, in words.
 */
import { compareVersions } from '../versions.js';
import type { EndpointFact, FieldFact, FieldType, WireTable } from './types.js';
import { WIRE_TABLE } from './wire-table.js';

export interface WireRequest {
  endpoint: string;
  /** the version that served it (the server's newest when asked above) */
  served: string | null;
  body: unknown;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function hasType(v: unknown, t: FieldType): boolean {
  switch (t) {
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
    case 'integer':
      return Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'string[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'object':
      return isObject(v);
    case 'object[]':
      return Array.isArray(v) && v.every(isObject);
    case 'any':
      return true;
  }
}

/** `server`: the newest API version of the server (what its release knows) */
function checkFields(fact: EndpointFact, where: string, body: Record<string, unknown>, server: string, out: string[]): void {
  const knows = (since: string | undefined) => !since || compareVersions(since, server) <= 0;
  for (const [key, value] of Object.entries(body)) {
    if (value === null) continue; // the server drops nulls before reading the body
    const field: FieldFact | undefined = fact.fields[key];
    if (!field) {
      out.push(`${where}: field "${key}" is not one the server reads`);
      continue;
    }
    const filterSince = fact.openFilters?.filterSince?.[key];
    if (!knows(field.since) || !knows(filterSince)) {
      out.push(`${where}: field "${key}" is unknown to a server of API ${server} (from ${field.since ?? filterSince}); it would be ignored`);
      continue;
    }
    if (!hasType(value, field.type)) out.push(`${where}: field "${key}" should be ${field.type}, got ${JSON.stringify(value)}`);
    else if (field.values && !field.values.includes(value as never)) {
      out.push(`${where}: field "${key}" = ${JSON.stringify(value)} is not one of ${field.values.join(', ')}`);
    }
  }
  for (const [key, field] of Object.entries(fact.fields)) {
    if (!field.deleting || !knows(field.since)) continue;
    const value = body[key];
    if (value === undefined || value === null) {
      out.push(`${where}: "${key}" left to the server's default (${String(field.default)}): ${field.deleting.why}`);
    } else if (field.deleting.mustBe !== undefined && value !== field.deleting.mustBe) {
      out.push(`${where}: "${key}" must be ${String(field.deleting.mustBe)}, got ${JSON.stringify(value)}: ${field.deleting.why}`);
    }
  }
}

/** Problems of one request to a server whose newest API version is `server`; [] when none. */
export function checkRequest(r: WireRequest, server: string, table: WireTable = WIRE_TABLE): string[] {
  const out: string[] = [];
  const fact = table[r.endpoint];
  const where = `${r.endpoint} (v${r.served ?? '?'})`;
  if (!fact) return [`${where}: not in the wire table (add what the server accepts there first)`];
  if (!r.served) return [`${where}: no version served it (the server answered it as unknown)`];
  if (compareVersions(fact.since, server) > 0) out.push(`${where}: the endpoint exists from API ${fact.since} only (this server is ${server})`);
  else if (compareVersions(fact.minRequest ?? '1.0', r.served) > 0) out.push(`${where}: the endpoint answers requests from v${fact.minRequest} only`);
  if (fact.jsonLines) {
    if (!Array.isArray(r.body)) return [...out, `${where}: a json-lines body was expected`];
    r.body.forEach((line, i) => {
      if (!isObject(line)) out.push(`${where}: line ${i + 1} is not a JSON object`);
      else checkFields(fact, `${where} line ${i + 1}`, line, server, out);
    });
    return out;
  }
  if (!isObject(r.body)) return [...out, `${where}: the body is not a JSON object`];
  checkFields(fact, where, r.body, server, out);
  return out;
}
