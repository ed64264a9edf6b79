/**
 * Every API request as it arrived (endpoint, version asked for, version served, body), kept for
 * tests that check what a client sends against what the real server accepts. Off unless asked
 * for: a bench seeds millions of events and must not hold them all.
 */

export interface RecordedRequest {
  endpoint: string;
  /** the version in the URL (the server's own when the URL has none) */
  requested: string;
  /** the version that answered; null when none did (404, malformed path) */
  served: string | null;
  /** the JSON body as sent, or the list of JSON lines of a json-lines body */
  body: unknown;
  status: number;
}

export class RequestLog {
  private items: RecordedRequest[] = [];
  private dropped = 0;

  constructor(
    readonly enabled: boolean,
    /** the oldest are dropped past this many (and counted) */
    private readonly cap = 200_000,
  ) {}

  add(r: RecordedRequest): void {
    if (!this.enabled) return;
    this.items.push(r);
    if (this.items.length > this.cap) {
      this.items.shift();
      this.dropped++;
    }
  }

  snapshot(): { enabled: boolean; dropped: number; requests: RecordedRequest[] } {
    return { enabled: this.enabled, dropped: this.dropped, requests: [...this.items] };
  }

  clear(): void {
    this.items = [];
    this.dropped = 0;
  }
}

/** A json-lines body as the list of its parsed lines (a line that is not JSON is kept as text). */
export function jsonLinesOf(raw: string): unknown[] {
  return raw
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      try {
        return JSON.parse(l) as unknown;
      } catch {
        return l;
      }
    });
}
