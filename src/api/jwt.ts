/**
 * Reads the claims of a ClearML token. The client only needs `exp` to know when to log in again;
 * the signature is the server's business, so it is not checked (the SDK does the same).
 */
export interface TokenClaims {
  exp?: number;
  api_version?: string;
  server_version?: string;
  [k: string]: unknown;
}

/** Claims of a JWT, or undefined when the token is not a readable JWT (an opaque token is allowed). */
export function decodeTokenClaims(token: string): TokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const json = Buffer.from(parts[1], 'base64url').toString('utf8');
    const claims = JSON.parse(json) as unknown;
    return claims && typeof claims === 'object' ? (claims as TokenClaims) : undefined;
  } catch {
    return undefined;
  }
}

/** Expiry in epoch milliseconds, or undefined when the token does not say. */
export function tokenExpiryMs(token: string): number | undefined {
  const exp = decodeTokenClaims(token)?.exp;
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
}
