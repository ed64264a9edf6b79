import { newId } from '../util/ids.js';

/** How long an idle scroll is kept (the real server's scroll_state_expiration_seconds). */
const EXPIRATION_MS = 600_000;

/**
 * Server-side scroll positions for *.get_all, as the real server keeps them in Redis:
 * the id stays the same while the position moves; an unknown or expired id silently starts over.
 */
export class ScrollStates {
  private readonly states = new Map<string, { position: number; expires: number }>();

  constructor(private readonly nowMs: () => number = () => Date.now()) {}

  /** Position of a known, live scroll; a new scroll at 0 otherwise. */
  open(id: unknown): { id: string; position: number } {
    this.sweep();
    if (typeof id === 'string' && id) {
      const s = this.states.get(id);
      if (s && s.expires > this.nowMs()) return { id, position: s.position };
    }
    return { id: newId(), position: 0 };
  }

  save(id: string, position: number): void {
    this.states.set(id, { position, expires: this.nowMs() + EXPIRATION_MS });
  }

  private sweep(): void {
    if (this.states.size < 1000) return;
    const now = this.nowMs();
    for (const [id, s] of this.states) if (s.expires <= now) this.states.delete(id);
  }
}
