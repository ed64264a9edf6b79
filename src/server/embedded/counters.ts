import type { ServerCounters } from '../../types/clearml.js';

/** Call counts per API endpoint and per file-server operation (test and bench support). */
export class Counters {
  private api = new Map<string, number>();
  private files = new Map<string, number>();

  countApi(endpoint: string): void {
    this.api.set(endpoint, (this.api.get(endpoint) ?? 0) + 1);
  }

  countFiles(op: string): void {
    this.files.set(op, (this.files.get(op) ?? 0) + 1);
  }

  reset(): void {
    this.api.clear();
    this.files.clear();
  }

  snapshot(): ServerCounters {
    const api = Object.fromEntries(this.api);
    const files = Object.fromEntries(this.files);
    const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    return { api, apiTotal: sum(this.api), files, filesTotal: sum(this.files) };
  }
}
