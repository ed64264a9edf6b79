import type { ServerState } from './api/service.js';
import type { Authenticator } from './auth/authenticator.js';
import type { ScrollStates } from './query/scroll-states.js';
import type { Stores } from './store/stores.js';
import type { EventsStore } from './store/events-store.js';
import type { UrlDeleteQueue } from './async-delete/queue.js';
import { isoDate } from './util/time.js';

/** ServerState plus what the embedded services share (stores, auth). */
export interface EmbeddedState extends ServerState {
  stores: Stores;
  auth: Authenticator;
  /** *.get_all scroll positions */
  scrolls: ScrollStates;
  /** the events store itself (URL collection before a delete) */
  eventsStore?: EventsStore;
  /** the server-side URL deletion (async_urls_delete); absent or disabled: nothing is queued */
  urlDeletes?: { enabled: boolean; queue: UrlDeleteQueue; drain(): Promise<void> };
  /** the newest API version served (an older one with --api-version): what the release knows */
  apiVersion?: string;
  /** now() as the server's ISO string */
  isoNow(): string;
}

export function makeIsoNow(now: () => Date): () => string {
  return () => isoDate(now());
}
