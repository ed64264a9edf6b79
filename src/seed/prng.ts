/**
 * A small seeded PRNG (mulberry32): the same seed gives the same data set on every machine,
 * so a test or a benchmark can name what it expects to find.
 */
/**
 * mulberry32 itself, as a bare function: uniform numbers in [0, 1) from a 32-bit state. Also the
 * seeded schedule of scripts/chaos.js and of the tests' tamper proxy.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Prng {
  private readonly draw: () => number;

  constructor(seed: number) {
    this.draw = mulberry32((Math.floor(seed) ^ 0x9e3779b9) >>> 0);
  }

  /** uniform in [0, 1) */
  next(): number {
    return this.draw();
  }

  /** integer in [min, max] */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** picks a key with probability proportional to its weight */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as Array<[K, number]>;
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [k, w] of entries) {
      r -= w;
      if (r < 0) return k;
    }
    return entries[entries.length - 1][0];
  }

  /** hex string of the given length, e.g. for fake commit ids */
  hex(length: number): string {
    let s = '';
    while (s.length < length) s += Math.floor(this.next() * 16).toString(16);
    return s;
  }
}
