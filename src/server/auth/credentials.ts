import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface Credentials {
  accessKey: string;
  secretKey: string;
  /** the file the generated pair lives in, when it was generated or loaded from the data dir */
  file?: string;
  /** HMAC key for tokens; persisted so tokens survive a restart */
  tokenSecret: string;
}

function randomKey(len: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const bytes = randomBytes(len);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

/**
 * Keys given by the caller win; otherwise a pair is generated once and kept in
 * <dataDir>/credentials.json (mode 600) so clients configured earlier keep working.
 */
export function resolveCredentials(dataDir: string, persistent: boolean, accessKey?: string, secretKey?: string): Credentials {
  const file = path.join(dataDir, 'credentials.json');
  let stored: Partial<{ access_key: string; secret_key: string; token_secret: string }> = {};
  if (fs.existsSync(file)) {
    try {
      stored = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      stored = {};
    }
  }
  const given = Boolean(accessKey && secretKey);
  const pair = given
    ? { access_key: accessKey!, secret_key: secretKey! }
    : stored.access_key && stored.secret_key
      ? { access_key: stored.access_key, secret_key: stored.secret_key }
      : { access_key: randomKey(20), secret_key: randomBytes(36).toString('base64url') };
  const tokenSecret = stored.token_secret ?? randomBytes(32).toString('hex');
  const toStore = given ? { token_secret: tokenSecret } : { ...pair, token_secret: tokenSecret };
  if (JSON.stringify(toStore) !== JSON.stringify(stored)) {
    fs.writeFileSync(file, JSON.stringify(toStore, null, 2) + '\n', { mode: 0o600 });
  }
  return {
    accessKey: pair.access_key,
    secretKey: pair.secret_key,
    file: !given && persistent ? file : undefined,
    tokenSecret,
  };
}
