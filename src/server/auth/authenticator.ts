import type http from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiFault } from '../api/fault.js';
import type { Identity } from '../api/service.js';
import { signJwt, verifyJwt } from './jwt.js';
import { MAX_API_VERSION, SERVER_VERSION } from '../versions.js';

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
  ) {
    const user = createHash('sha256').update(`user:${accessKey}`).digest('hex').slice(0, 32);
    this.identity = { user, company: 'd1bd92a3b039400cbafc60a7a5b1e52b', role: 'admin', name: 'embedded' };
  }

  /** auth.login: Basic key:secret, or an existing valid bearer token (CLEARML_AUTH_TOKEN). */
  login(authorization: string | undefined, expirationSec?: number): { token: string } {
    const header = authorization ?? '';
    if (/^bearer /i.test(header)) {
      this.verifyToken(header.slice(7).trim());
    } else if (/^basic /i.test(header)) {
      const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const key = colon >= 0 ? decoded.slice(0, colon) : decoded;
      const secret = colon >= 0 ? decoded.slice(colon + 1) : '';
      if (!safeEqual(key, this.accessKey) || !safeEqual(secret, this.secretKey)) {
        throw new ApiFault(401, 20, 'Unauthorized (invalid credentials)');
      }
    } else {
      throw new ApiFault(401, 10, 'Unauthorized (missing credentials)');
    }
    return { token: this.issue(expirationSec) };
  }

  issue(expirationSec?: number): string {
    const iat = this.nowSec();
    const life = expirationSec && expirationSec > 0 ? Math.floor(expirationSec) : DEFAULT_EXPIRATION_SEC;
    const id = this.identity;
    return signJwt(
      {
        identity: { user: id.user, company: id.company, role: id.role, user_name: id.name, company_name: 'embedded' },
        auth_type: 'Basic',
        api_version: MAX_API_VERSION,
        server_version: SERVER_VERSION,
        server_build: 'embedded',
        feature_set: 'basic',
        env: 'embedded',
        iat,
        exp: iat + life,
      },
      this.tokenSecret,
    );
  }

  /** Throws 401 unless the token is ours and not expired. */
  verifyToken(token: string): Identity {
    const claims = verifyJwt(token, this.tokenSecret);
    if (!claims) throw new ApiFault(401, 30, 'Invalid token');
    if (typeof claims.exp === 'number' && claims.exp <= this.nowSec()) throw new ApiFault(401, 31, 'Token expired');
    return this.identity;
  }

  /** Bearer header (any call but auth.login). */
  authenticate(authorization: string | undefined): Identity {
    const header = authorization ?? '';
    if (!/^bearer /i.test(header)) throw new ApiFault(401, 10, 'Unauthorized (missing credentials)');
    return this.verifyToken(header.slice(7).trim());
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
