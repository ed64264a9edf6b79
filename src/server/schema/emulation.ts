/**
 * Serving as a clearml-server of an older API version (`--api-version`): which endpoint answers a
 * request, at which version, and which of its fields that server would even read.
 *
 * How the real server picks (apiserver/service_repo/service_repo.py): a path without a version, or
 * with one above the server's highest (check_max_version is off by default), is served at the
 * highest; an endpoint the release lacks, or registered only from a higher version than the served
 * one, answers 404 "Unable to find endpoint for name X and version Y". Fields its request models lack are dropped (see wire-table.ts).
 */
import { compareVersions, parseVersion } from '../versions.js';
import type { WireTable } from './types.js';
import { WIRE_TABLE } from './wire-table.js';

export class ApiVersionPolicy {
  constructor(
    /** the highest API version this server serves, e.g. "2.13" for clearml-server 1.0 */
    readonly max: string,
    private readonly table: WireTable = WIRE_TABLE,
  ) {
    if (!parseVersion(max)) throw new Error(`API version must look like 2.13, got "${max}"`);
  }

  /** the version a request is served at */
  served(requested: string): string {
    return compareVersions(requested, this.max) > 0 ? this.max : requested;
  }

  /**
   * false: this release has no such endpoint, or not for a request of that version (404). A release
   * that has an endpoint answers it from its registration's min_version, mostly 1.0 (see wire-table.ts).
   */
  hasEndpoint(name: string, served: string): boolean {
    const fact = this.table[name];
    if (!fact) return true;
    return compareVersions(fact.since, this.max) <= 0 && compareVersions(fact.minRequest ?? '1.0', served) <= 0;
  }

  /**
   * The body as the endpoint's handler on a server of `max` sees it: fields and filters its release
   * does not know are dropped (the real server ignores them; it neither fails nor acts on them).
   */
  visibleBody(name: string, body: Record<string, any>): Record<string, any> {
    const fact = this.table[name];
    if (!fact) return body;
    let out: Record<string, any> | undefined;
    const drop = (key: string) => {
      out ??= { ...body };
      delete out[key];
    };
    for (const key of Object.keys(body)) {
      const field = fact.fields[key];
      if (field?.since && compareVersions(field.since, this.max) > 0) drop(key);
      const filterSince = fact.openFilters?.filterSince?.[key];
      if (filterSince && compareVersions(filterSince, this.max) > 0) drop(key);
    }
    // before server 1.4 (API 2.17) no get_all hid anything: our handlers hide unless told not to
    if (name.endsWith('.get_all') && compareVersions(this.max, NOTHING_HIDDEN_BEFORE) < 0) return { ...(out ?? body), search_hidden: true };
    return out ?? body;
  }
}

const NOTHING_HIDDEN_BEFORE = '2.17';
