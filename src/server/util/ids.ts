import { randomUUID } from 'node:crypto';

/** 32 lowercase hex characters, like the real server (uuid4 hex); the agent relies on this shape. */
export function newId(): string {
  return randomUUID().replace(/-/g, '');
}
