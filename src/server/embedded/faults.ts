/** What an injected fault does to one request. */
export type FaultKind = 'none' | 'http500' | 'http503' | 'drop';

/** mulberry32: small, seedable, good enough to pick which requests fail. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded fault injection: `rate` of the requests fail, a third each as 500, 503 or a dropped connection. */
export class FaultInjector {
  private readonly random: () => number;

  constructor(
    readonly rate: number,
    seed: number,
  ) {
    this.random = mulberry32(seed);
  }

  next(): FaultKind {
    if (!(this.rate > 0)) return 'none';
    if (this.random() >= this.rate) return 'none';
    const r = this.random();
    return r < 1 / 3 ? 'http500' : r < 2 / 3 ? 'http503' : 'drop';
  }
}

export function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}
