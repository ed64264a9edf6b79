/**
 * Plain types of the wire table: what a clearml-server accepts on each endpoint we call, by API
 * version. Shared by the embedded server (to emulate an older server) and by the tests that check
 * every request we send. Plain data only: the client does not import this (src/server shares no
 * code with it); the client keeps its own short list of what it needs (src/api/server-features.ts).
 */

/** JSON shapes a request field may take (as the server's request models check them). */
export type FieldType = 'string' | 'boolean' | 'integer' | 'number' | 'string[]' | 'object' | 'object[]' | 'any';

export interface FieldFact {
  type: FieldType;
  /** first API version whose server release knows the field (absent: as old as the endpoint) */
  since?: string;
  /** the only values the server takes (an enum on the server side) */
  values?: readonly (string | number | boolean)[];
  /** the server's value when the field is left out */
  default?: string | number | boolean;
  /**
   * Left out, the server deletes something by itself (entities or files). A request that can reach
   * such a default must set the field; `mustBe` is the only value we may send.
   */
  deleting?: { mustBe?: boolean; why: string };
}

export interface EndpointFact {
  /**
   * the first API version whose server release has the endpoint (a release without it answers 404
   * "Unable to find endpoint" whatever version is asked)
   */
  since: string;
  /**
   * the lowest version a request may ask for on a release that has it (the `min_version` of its
   * registration in apiserver/services/*.py; "1.0" when absent, as for most endpoints)
   */
  minRequest?: string;
  /** clearml-server files (paths in github.com/clearml/clearml-server) each fact was read from */
  sources: readonly string[];
  fields: Readonly<Record<string, FieldFact>>;
  /**
   * get_all style: besides the listed fields, any entity field may be given as a filter; a key the
   * server does not know as a filter is ignored. `filterSince` gives filters that appeared later
   * (before that version the server drops them silently, so the listing is wider).
   */
  openFilters?: { filterSince?: Readonly<Record<string, string>> };
  /** the body is JSON lines (one object per line), each checked against `fields` */
  jsonLines?: boolean;
  /** what a field unknown to the server does: every endpoint we call ignores it (no schema check) */
  unknownFields: 'ignored';
}

export type WireTable = Readonly<Record<string, EndpointFact>>;
