import type { Service } from '../api/service.js';

/**
 * login.*: the open-source login flow (apiserver/services/login). The embedded server runs in
 * "fixed users" mode: the web app shows a user name and password form and sends them as Basic
 * credentials to auth.login, which sets the session cookie. The one user is the key pair, so the
 * user name is the access key and the password the secret key. No guest, no SSO.
 */
export function createLoginService(): Service {
  return {
    supported_modes: (req) => ({
      basic: { enabled: true, guest: { enabled: false } },
      sso: {},
      sso_providers: [],
      server_errors: { missed_es_upgrade: false, es_connection_error: false },
      authenticated: req.authenticated !== false,
    }),
    // the HTTP layer drops the cookie; tokens are stateless here and expire on their own
    logout: () => ({}),
  };
}
