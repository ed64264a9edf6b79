/** The unit each backend works on: an allowed location and the root that allowed it. */
import type { AllowRoot } from './allow-list.js';
import type { FileOutcome, FileStatus } from './outcome.js';
import type { StorageLocation } from './url.js';

export interface Target<L extends StorageLocation = StorageLocation> {
  loc: L;
  root: AllowRoot;
}

/** p-limit's call shape, so backends share one cap on requests in flight. */
export type Limit = <T>(fn: () => Promise<T>) => Promise<T>;

export function outcomeOf(loc: StorageLocation, status: FileStatus, extra: Partial<FileOutcome> = {}): FileOutcome {
  return { url: loc.url, backend: loc.backend, status, ...extra };
}

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
