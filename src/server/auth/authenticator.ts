import type http from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiFault } from '../api/fault.js';
import type { Identity } from '../api/service.js';
import { signJwt, verifyJwt } from './jwt.js';
import { MAX_API_VERSION, serverVersionFor } from '../versions.js';

/** 30 days, the real server's default token lifetime. */
const DEFAULT_EXPIRATION_SEC = 30 * 24 * 3600;
/** Cookie the web UI and file server use for the token. */
export const TOKEN_COOKIE = 'clearml_token_basic';

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** One key pair, one identity: the embedded server has a single (admin) user. */
export class Authenticator {
  readonly identity: Identity;

  constructor(
    private readonly accessKey: string,
    private readonly secretKey: string,
    private readonly tokenSecret: string,
    private readonly nowSec: () => number = () => Math.floor(Date.now() / 1000),
    /** the api_version claim: clients (the SDK, ours) choose their requests by it */
    private readonly apiVersion: string = MAX_API_VERSION,
  ) {
    const user = createHash('sha256').update(`user:${accessKey}`).digest('hex').slice(0, 32);
    this.identity = { user, company: 'd1bd92a3b039400cbafc60a7a5b1e52b', role: 'admin', name: 'embedded' };
  }

  /** auth.login: Basic key:secret, or an existing valid bearer token (CLEARML_AUTH_TOKEN). */
  login(authorization: string | undefined, expirationSec?: number): { token: string } {
    this.authenticate(authorization);
    return { token: this.issue(expirationSec) };
  }

  /** Basic credentials, as the real server accepts them on every endpoint (401/21 malformed, 401/22 wrong). */
  private checkBasic(encoded: string): void {
    let decoded: string;
    try {
      decoded = Buffer.from(encoded, 'base64').toString('latin1');
    } catch {
      throw new ApiFault(401, 21, 'Unauthorized (malformed credentials)');
    }
    const colon = decoded.indexOf(':');
    const key = colon >= 0 ? decoded.slice(0, colon) : decoded;
    const secret = colon >= 0 ? decoded.slice(colon + 1) : '';
    if (!safeEqual(key, this.accessKey) || !safeEqual(secret, this.secretKey)) {
      throw new ApiFault(401, 22, 'Unauthorized (invalid credentials)');
    }
  }

  issue(expirationSec?: number): string {
    const iat = this.nowSec();
    const life = expirationSec && expirationSec > 0 ? Math.floor(expirationSec) : DEFAULT_EXPIRATION_SEC;
    const id = this.identity;
    return signJwt(
      {
        identity: { user: id.user, company: id.company, role: id.role, user_name: id.name, company_name: 'embedded' },
        auth_type: 'Basic',
        api_version: this.apiVersion,
        server_version: serverVersionFor(this.apiVersion),
        server_build: 'embedded',
        feature_set: 'basic',
        env: 'embedded',
        iat,
        exp: iat + life,
      },
      this.tokenSecret,
    );
  }

  /** Throws 401/30 unless the token is ours and not expired. */
  verifyToken(token: string): Identity {
    const claims = verifyJwt(token, this.tokenSecret);
    if (!claims) throw new ApiFault(401, 30, 'Invalid token (invalid jwt token)');
    if (typeof claims.exp === 'number' && claims.exp <= this.nowSec()) {
      throw new ApiFault(401, 30, 'Invalid token (Signature has expired)');
    }
    return this.identity;
  }

  /** Any call: "Bearer <jwt>" or "Basic key:secret" (401/20 none, 401/10 another scheme). */
  authenticate(authorization: string | undefined): Identity {
    const header = (authorization ?? '').trim();
    if (!header) throw new ApiFault(401, 20, 'Unauthorized (missing credentials)');
    const space = header.indexOf(' ');
    const scheme = (space > 0 ? header.slice(0, space) : header).toLowerCase();
    const value = space > 0 ? header.slice(space + 1).trim() : '';
    if (scheme === 'bearer') return this.verifyToken(value);
    if (scheme === 'basic') {
      this.checkBasic(value);
      return this.identity;
    }
    throw new ApiFault(401, 10, 'Unauthorized (bad authentication header type)');
  }

  /** File server: a bearer header or the token cookie. */
  authorizeRequest = (req: http.IncomingMessage): boolean => {
    try {
      const header = req.headers.authorization;
      if (header && /^bearer /i.test(header)) {
        this.verifyToken(header.slice(7).trim());
        return true;
      }
      const cookie = parseCookies(req.headers.cookie)[TOKEN_COOKIE];
      if (cookie) {
        this.verifyToken(cookie);
        return true;
      }
    } catch {
      return false;
    }
    return false;
  };
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = decodeURIComponent(part.slice(eq + 1).trim());
  }
  return out;
}
