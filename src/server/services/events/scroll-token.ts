import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Stateless scroll ids: the position travels inside the id, signed so a client cannot forge one.
 * Shaped like the real server's (three base64url parts, HS256), which clients treat as opaque.
 */

const HEADER = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

export function signScroll(key: Buffer, payload: object): string {
  const body = `${HEADER}.${b64(JSON.stringify(payload))}`;
  return `${body}.${mac(key, body)}`;
}

/** The payload, or undefined when the id was not issued with this key or is malformed. */
export function readScroll<T extends object>(key: Buffer, id: unknown): T | undefined {
  if (typeof id !== 'string') return undefined;
  const parts = id.split('.');
  if (parts.length !== 3) return undefined;
  const body = `${parts[0]}.${parts[1]}`;
  const expected = Buffer.from(mac(key, body));
  const given = Buffer.from(parts[2]);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return value && typeof value === 'object' ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}

function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64url');
}

function mac(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body).digest('base64url');
}
