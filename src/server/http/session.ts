import type http from 'node:http';
import { TOKEN_COOKIE } from '../auth/authenticator.js';

/**
 * The web app's session, as the real server keeps it (server_init/request_handlers.py): the token
 * from the `clearml_token_basic` cookie counts as a bearer token when the request carries no
 * Authorization header of its own, so a browser that logged in once needs no credentials again.
 */
export function authorizationWithSession(req: http.IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header && header.trim()) return header;
  const token = sessionCookie(req);
  return token ? `Bearer ${token}` : undefined;
}

export function sessionCookie(req: http.IncomingMessage): string | undefined {
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === TOKEN_COOKIE) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim()) || undefined;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * Endpoints whose schema says `authorize: false` (no identity needed) or `authorize: null` (the
 * identity is used when valid, e.g. login.supported_modes reports `authenticated`); from
 * apiserver/schema/services/{debug,login,auth}.conf.
 */
export const OPTIONAL_AUTH = new Set(['debug.ping', 'login.supported_modes', 'login.logout', 'auth.fixed_users_mode']);

export function setSessionCookie(token: string): string {
  return `${TOKEN_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax`;
}

/** login.logout: the cookie is dropped (the real server also revokes the token; ours expire on their own). */
export function clearSessionCookie(): string {
  return `${TOKEN_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`;
}
