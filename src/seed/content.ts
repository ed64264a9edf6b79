/**
 * File contents for seeded files: deterministic, distinct per path (so hashes differ), small
 * enough that a benchmark of tens of thousands of files stays quick, and shaped like the real
 * thing at the start (PNG signature, JSON, CSV) for anyone who opens one.
 */
import { createHash } from 'node:crypto';
import { Prng } from './prng.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const POOL_SIZE = 1 << 16;

export type ContentKind = 'json' | 'csv' | 'yaml' | 'binary' | 'png' | 'jpeg' | 'model';

export interface FileContent {
  body: Buffer;
  /** sha256 hex, as the SDK registers it */
  hash: string;
}

export class ContentFactory {
  private readonly pool: Buffer;
  private readonly rng: Prng;

  constructor(seed: number) {
    this.rng = new Prng(seed * 7919 + 17);
    this.pool = Buffer.alloc(POOL_SIZE);
    for (let i = 0; i < POOL_SIZE; i++) this.pool[i] = Math.floor(this.rng.next() * 256);
  }

  make(kind: ContentKind, path: string): FileContent {
    const body = this.body(kind, path);
    return { body, hash: createHash('sha256').update(body).digest('hex') };
  }

  private noise(size: number): Buffer {
    const start = this.rng.int(0, POOL_SIZE - size - 1);
    return this.pool.subarray(start, start + size);
  }

  private body(kind: ContentKind, path: string): Buffer {
    const r = this.rng;
    switch (kind) {
      case 'json': {
        const doc = { source: path, accuracy: round(r.next()), loss: round(r.next() * 3), epochs: r.int(1, 90), seed: r.int(0, 9999) };
        return Buffer.from(JSON.stringify(doc, null, 4));
      }
      case 'csv': {
        const lines = ['step,loss,accuracy'];
        const rows = r.int(10, 60);
        for (let i = 0; i < rows; i++) lines.push(`${i},${round(3 / (i + 1) + r.next() * 0.1)},${round(r.next())}`);
        lines.push(`# ${path}`);
        return Buffer.from(lines.join('\n') + '\n');
      }
      case 'yaml':
        return Buffer.from(`# ${path}\nlr: ${round(r.next() / 100)}\nbatch_size: ${r.pick([16, 32, 64, 128])}\noptimizer: ${r.pick(['adam', 'sgd', 'adamw'])}\n`);
      case 'png':
        return Buffer.concat([PNG_SIGNATURE, Buffer.from(path), this.noise(r.int(300, 1500))]);
      case 'jpeg':
        return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(path), this.noise(r.int(300, 1500))]);
      case 'model':
        return Buffer.concat([Buffer.from(`MODEL ${path}\n`), this.noise(r.int(2048, 12288))]);
      case 'binary':
      default:
        return Buffer.concat([Buffer.from(path), this.noise(r.int(200, 3000))]);
    }
  }
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}

export function contentKindOf(file: string): ContentKind {
  if (file.endsWith('.json')) return 'json';
  if (file.endsWith('.csv')) return 'csv';
  if (file.endsWith('.yaml')) return 'yaml';
  if (file.endsWith('.png')) return 'png';
  if (file.endsWith('.jpeg') || file.endsWith('.jpg')) return 'jpeg';
  return 'binary';
}
