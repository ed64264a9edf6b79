import type { Api } from './ports.js';

/** Counts the calls the engine makes, whatever client is underneath (for the report). */
export class CountingApi implements Api {
  total = 0;
  failed = 0;
  readonly byEndpoint: Record<string, number> = {};

  constructor(private readonly inner: Api) {}

  async call<T>(endpoint: string, body?: object): Promise<T> {
    this.total++;
    this.byEndpoint[endpoint] = (this.byEndpoint[endpoint] ?? 0) + 1;
    try {
      return await this.inner.call<T>(endpoint, body);
    } catch (err) {
      this.failed++;
      throw err;
    }
  }

  serverApiVersion(): Promise<string | undefined> {
    return this.inner.serverApiVersion?.() ?? Promise.resolve(undefined);
  }

  snapshot(): { total: number; failed: number; byEndpoint: Record<string, number> } {
    return { total: this.total, failed: this.failed, byEndpoint: { ...this.byEndpoint } };
  }
}
