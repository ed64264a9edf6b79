import type Database from 'better-sqlite3';
import type { Task } from '../../types/clearml.js';

/** Who made the call (from the bearer token). */
export interface Identity {
  user: string;
  company: string;
  role: string;
  name: string;
}

/** One API call after envelope/auth handling: handlers only see this. */
export interface CallRequest {
  /** e.g. "tasks.get_all" */
  endpoint: string;
  service: string;
  action: string;
  /** the version serving the call, e.g. "2.23": the one asked for, capped at the server's newest */
  version: string;
  /**
   * the server's newest API version (2.34, or an older one with --api-version): what its release
   * knows, e.g. whether delete_external_artifacts exists at all (fields it lacks are already dropped
   * from `body`, so their defaults must not be applied either)
   */
  serverVersion?: string;
  /** JSON body merged with the query string; {} when empty */
  body: Record<string, any>;
  /** raw request body, for json-lines (events.add_batch) */
  rawBody: Buffer;
  contentType: string;
  identity: Identity;
  /** false only on endpoints that do not require a login (login.supported_modes) when the caller has none */
  authenticated?: boolean;
}

/** Returns the `data` part of the envelope; throws ApiFault for errors. */
export type Handler = (req: CallRequest) => unknown | Promise<unknown>;

/** action name -> handler, e.g. { get_all: ..., delete_many: ... } */
export type Service = Record<string, Handler>;

/** What the events store offers to the other services (tasks.delete, reset...). */
export interface EventsStoreApi {
  /** deletes every event of the task; returns how many */
  deleteForTask(taskId: string): number;
}

/** Shared server state handed to every service factory. */
export interface ServerState {
  db: Database.Database;
  /** current time; overridable for tests */
  now(): Date;
  getTask(id: string): Task | undefined;
  events: EventsStoreApi;
}
